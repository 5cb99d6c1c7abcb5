// junit.xml: the golden file, cases failing exactly where the budget gate fails, and XML that no
// outside string can break.
#include "reports/junit_xml.h"

#include <gtest/gtest.h>

#include "reports/budget_gate.h"
#include "tests/reports/golden.h"
#include "tests/reports/hostile_report.h"

namespace memsoak::reports {
namespace {

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

TEST(JunitXml, MatchesTheGoldenFile) {
  testing::expect_golden(junit_xml(fixtures::hostile_report()), "junit.xml");
}

TEST(JunitXml, CasesFailExactlyWhereTheBudgetGateFails) {
  Report report = fixtures::hostile_report();
  report.interrupted_by_signal.reset();
  const std::string xml = junit_xml(report);
  // in-process leaks past the budget; zygote (all runs failed) and spawn (none) are inconclusive,
  // which the gate fails too, as errors since nothing was measured.
  EXPECT_EQ(budget_violations(report).size(), 3u);
  EXPECT_EQ(occurrences(xml, "<failure "), 1u);
  EXPECT_EQ(occurrences(xml, "<error "), 2u);
  EXPECT_NE(xml.find("tests=\"5\" failures=\"1\" errors=\"2\" skipped=\"0\""), std::string::npos);
  EXPECT_NE(xml.find("message=\"leak of 4.0 KiB/run exceeds the budget of 1.0 KiB/run\" type=\"budget\""),
            std::string::npos);
}

TEST(JunitXml, WithoutABudgetOnlyStrategiesWithNoSuccessfulRunFail) {
  Report report = fixtures::hostile_report();
  report.budget_bytes_per_run.reset();
  const std::string xml = junit_xml(report);
  EXPECT_EQ(occurrences(xml, "<failure "), 0u);
  EXPECT_EQ(occurrences(xml, "<error "), 1u);    // zygote: all 5 runs failed
  EXPECT_EQ(occurrences(xml, "<skipped "), 1u);  // spawn: never started, the soak was stopped
  EXPECT_NE(xml.find("type=\"no-successful-runs\""), std::string::npos);
}

TEST(JunitXml, EscapesMarkupAndDropsWhatXmlForbids) {
  EXPECT_EQ(xml_text("<a href='x'>&\"]]></a>"), "&lt;a href=&apos;x&apos;&gt;&amp;&quot;]]&gt;&lt;/a&gt;");
  EXPECT_EQ(xml_text("a\nb\rc\td"), "a&#10;b&#13;c&#9;d");
  EXPECT_EQ(xml_text("a\nb\rc\td", false), "a\nb&#13;c\td");
  EXPECT_EQ(xml_text(std::string("x\x00\x01\x1b\x7fy", 6)), "x\x7fy");
  EXPECT_EQ(xml_text("\xef\xbf\xbe\xef\xbf\xbf!"), "!");  // U+FFFE, U+FFFF
  EXPECT_EQ(xml_text("\xff\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // U+FFFD each
}

TEST(JunitXml, NoRawControlCharacterOrCdataEndReachesTheFile) {
  const std::string xml = junit_xml(fixtures::hostile_report());
  EXPECT_EQ(xml.find("]]>"), std::string::npos);
  for (char c : xml) {
    const auto byte = static_cast<unsigned char>(c);
    EXPECT_TRUE(byte >= 0x20 || c == '\n' || c == '\t') << "control byte " << int{byte};
    EXPECT_NE(byte, 0xff);
  }
}

}  // namespace
}  // namespace memsoak::reports
