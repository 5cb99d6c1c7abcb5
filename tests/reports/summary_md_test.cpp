// summary.md: the golden file of a report with every verdict and hostile strings, Markdown that no
// outside string can break, and the size cap.
#include "reports/summary_md.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/reports/golden.h"
#include "tests/reports/hostile_report.h"

namespace memsoak::reports {
namespace {

// '|' characters that end a table cell: those not escaped by a backslash.
std::size_t cell_separators(const std::string& line) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\') {
      ++i;
    } else if (line[i] == '|') {
      ++count;
    }
  }
  return count;
}

TEST(SummaryMarkdown, MatchesTheGoldenFile) {
  testing::expect_golden(summary_markdown(fixtures::hostile_report()), "summary.md");
}

TEST(SummaryMarkdown, AnswerComesFirstAndNamesTheStableStrategy) {
  const std::string md = summary_markdown(fixtures::hostile_report());
  const std::size_t answer = md.find("**fork** keeps memory stable");
  ASSERT_NE(answer, std::string::npos) << md;
  EXPECT_LT(answer, md.find("## Strategies"));
}

TEST(SummaryMarkdown, OutsideStringsCannotBreakTheTableOrOpenMarkup) {
  Report report = fixtures::hostile_report();
  for (StrategyReport& s : report.strategies) s.strategy += fixtures::kHostile;
  const std::string md = summary_markdown(report);
  std::istringstream lines(md);
  std::string line;
  std::size_t rows = 0;
  while (std::getline(lines, line)) {
    if (!line.starts_with("|")) continue;
    ++rows;
    EXPECT_EQ(cell_separators(line), 11u) << line;
  }
  EXPECT_EQ(rows, 2 + report.strategies.size());
  for (const char* raw : {"<c>", "[i](j)", "`h`", "*f*", "_g_", "~k~", "$l$", "\x1b", "\r", "\t", "\xff"})
    EXPECT_EQ(md.find(raw), std::string::npos) << "raw " << raw;
}

TEST(SummaryMarkdown, EscapesEveryCharacterMarkdownGivesAMeaning) {
  EXPECT_EQ(md_text("a|b<c>&*_`[]~$\\", 100), "a\\|b\\<c\\>\\&\\*\\_\\`\\[\\]\\~\\$\\\\");
  EXPECT_EQ(md_text("line\nbreak\r\x01", 100), "line break  ");
  EXPECT_EQ(md_text("\xff\xc0\xaf\xe2\x82\xac", 100), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xe2\x82\xac");
  EXPECT_EQ(md_text("h\xc3\xa9llo world", 5), "h\xc3\xa9llo…");
}

TEST(SummaryMarkdown, AReportWithoutStrategiesSaysSo) {
  EXPECT_NE(summary_markdown(Report{}).find("No strategy has a record yet"), std::string::npos);
}

TEST(SummaryMarkdown, WithoutStacksOrBudgetTheSectionsAreLeftOut) {
  Report report = fixtures::hostile_report();
  report.stacks_sampled = false;
  report.leak_suspects.clear();
  report.budget_bytes_per_run.reset();
  report.heaptrack.reset();
  const std::string md = summary_markdown(report);
  EXPECT_EQ(md.find("leak suspects"), std::string::npos);
  EXPECT_EQ(md.find("Budget gate"), std::string::npos);
  EXPECT_EQ(md.find("heaptrack"), std::string::npos);
}

TEST(SummaryMarkdown, StaysUnderOneMegabyteWhateverTheReportHolds) {
  Report report = fixtures::hostile_report();
  const std::string long_text(5'000, '|');  // each '|' doubles when escaped
  const StrategyReport model = report.strategies[0];
  const LeakSuspect suspect = report.leak_suspects[0];
  report.strategies.clear();
  report.leak_suspects.clear();
  for (int i = 0; i < 2000; ++i) {
    StrategyReport s = model;
    s.strategy = long_text + std::to_string(i);
    s.stopped = long_text;
    s.classification = {i % 2 ? Verdict::kLeak : Verdict::kInconclusive, long_text};
    report.strategies.push_back(s);
  }
  for (int i = 0; i < 100; ++i) {
    LeakSuspect l = suspect;
    l.frames.assign(
        64, SymbolFrame{long_text.substr(0, 1000), long_text.substr(0, 1000), 1, long_text.substr(0, 1000)});
    report.leak_suspects.push_back(l);
  }
  const std::string md = summary_markdown(report);
  EXPECT_LT(md.size(), kMaxSummaryBytes);
  EXPECT_NE(md.find("1900 more strategies not shown"), std::string::npos);
  EXPECT_NE(md.find("90 more suspects not shown"), std::string::npos);
  EXPECT_NE(md.find("59 more frames"), std::string::npos);
  EXPECT_NE(md.find("more violations not shown"), std::string::npos);
}

}  // namespace
}  // namespace memsoak::reports
