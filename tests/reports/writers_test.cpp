// The writer registry: every registered writer runs, each writes what it names, and a failing
// writer is named in the error.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "reports/console_summary.h"
#include "reports/report_json.h"
#include "reports/writer.h"
#include "tests/scratch_dir.h"

namespace memsoak::reports {
namespace {

Report two_strategies() {
  Report report;
  report.scenario = "writers";
  for (const char* name : {"in-process", "fork"}) {
    StrategyReport s;
    s.strategy = name;
    s.runs = 10;
    s.classification = {Verdict::kInconclusive, "too few runs"};
    report.strategies.push_back(s);
  }
  return report;
}

class Writers : public testing::ScratchDirTest {
 protected:
  Writers() : ScratchDirTest("writers") {}
};

TEST_F(Writers, RegisteredWritersHaveDistinctNamesAndIncludeEveryOutput) {
  std::set<std::string_view> names;
  for (const auto& writer : report_writers())
    EXPECT_TRUE(names.insert(writer->name()).second) << writer->name();
  for (const char* name : {"report.json", "console summary", "summary.md", "junit.xml", "samples.csv"})
    EXPECT_TRUE(names.count(name)) << name;
}

TEST_F(Writers, WriteReportsWritesEveryOutput) {
  const Report report = two_strategies();
  std::ostringstream console;
  write_reports(report, {dir_, &console});
  std::ifstream in(dir_ / "report.json");
  EXPECT_EQ(nlohmann::ordered_json::parse(in), report_to_json(report));
  for (const char* file : {"summary.md", "junit.xml"})
    EXPECT_TRUE(std::filesystem::exists(dir_ / file)) << file;
  EXPECT_EQ(console.str(),
            summary_line(report.strategies[0]) + "\n" + summary_line(report.strategies[1]) + "\n");
}

TEST_F(Writers, QuietMeansNoConsoleSummary) {
  write_reports(two_strategies(), {dir_, nullptr});
  EXPECT_TRUE(std::filesystem::exists(dir_ / "report.json"));
}

TEST_F(Writers, AFailingWriterIsNamed) {
  std::filesystem::create_directories(dir_ / "report.json");  // a directory where the file should go
  try {
    write_reports(two_strategies(), {dir_, nullptr});
    FAIL() << "wrote over a directory";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("report.json"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace memsoak::reports
