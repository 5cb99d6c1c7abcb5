// memsoak compare's model and writers: what counts as an increase, how sites are matched, and
// that text from outside cannot break compare.md.
#include "reports/compare.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "harness/errors.h"
#include "reports/compare_writers.h"

namespace memsoak::reports {
namespace {

StrategyReport entry(const std::string& name, Verdict verdict, double heap_slope) {
  StrategyReport s;
  s.strategy = name;
  s.classification = {verdict, "test"};
  SeriesGrowth heap;
  heap.trend = {heap_slope, heap_slope - 10, heap_slope + 10, 0, false};
  heap.grows = verdict == Verdict::kLeak;
  s.heap = heap;
  s.rss = heap;
  return s;
}

LeakSuspect suspect(const std::string& strategy, const std::string& fingerprint, double growth,
                    const std::string& function) {
  LeakSuspect l;
  l.strategy = strategy;
  l.allocator = "glibc";
  l.fingerprint = fingerprint;
  l.growth_bytes_per_run = growth;
  l.growth_interval = {growth * 0.9, growth * 1.1};
  l.frames.push_back({function, "leak.cpp", 12, "memsoak"});
  return l;
}

TEST(Compare, TheGateReadsTheIncreaseOfMemoryThatKeepsGrowing) {
  Report base, fresh;
  base.strategies = {entry("in-process", Verdict::kLeak, 1000), entry("fork", Verdict::kStable, 50)};
  fresh.strategies = {entry("in-process", Verdict::kLeak, 3000), entry("fork", Verdict::kStable, 900),
                      entry("zygote", Verdict::kStable, 0)};
  Comparison c = compare_reports(base, fresh, 1024);
  ASSERT_EQ(c.entries.size(), 2u);
  EXPECT_DOUBLE_EQ(c.entries[0].increase, 2000);
  EXPECT_TRUE(c.entries[0].over_budget);
  // A flat series' slope is noise, not growth: stable in both counts as no increase.
  EXPECT_DOUBLE_EQ(c.entries[1].increase, 0);
  EXPECT_FALSE(c.entries[1].over_budget);
  EXPECT_DOUBLE_EQ(c.entries[1].heap->delta, 850);
  ASSERT_EQ(c.violations.size(), 1u);
  EXPECT_EQ(c.only_in_fresh, std::vector<std::string>{"zygote"});
  EXPECT_TRUE(compare_reports(base, fresh, 4096).violations.empty());
  EXPECT_TRUE(compare_reports(base, fresh, std::nullopt).violations.empty());
}

TEST(Compare, InconclusiveInNewFailsAGateAndNothingInCommonIsAnError) {
  Report base, fresh;
  base.strategies = {entry("fork", Verdict::kStable, 0)};
  fresh.strategies = {entry("fork", Verdict::kInconclusive, 0)};
  EXPECT_EQ(compare_reports(base, fresh, 1024).violations.size(), 1u);
  fresh.strategies = {entry("spawn", Verdict::kStable, 0)};
  EXPECT_THROW(compare_reports(base, fresh, 1024), InputError);
}

TEST(Compare, SitesAreMatchedByFingerprintPerEntry) {
  Report base, fresh;
  base.strategies = {entry("in-process", Verdict::kLeak, 1000)};
  fresh.strategies = base.strategies;
  base.stacks_sampled = fresh.stacks_sampled = true;
  base.leak_suspects = {suspect("in-process", "aaaa", 1000, "kept"),
                        suspect("in-process", "bbbb", 500, "fixed"),
                        suspect("in-process", "cccc", 100, "worse")};
  fresh.leak_suspects = {suspect("in-process", "aaaa", 1010, "kept"),
                         suspect("in-process", "cccc", 800, "worse"),
                         suspect("in-process", "dddd", 64, "fresh")};
  Comparison c = compare_reports(base, fresh, std::nullopt);
  ASSERT_EQ(c.sites.size(), 4u);
  EXPECT_EQ(c.sites[0].function, "fresh");
  EXPECT_EQ(c.sites[0].change, SiteChange::kNew);
  EXPECT_EQ(c.sites[1].change, SiteChange::kGone);
  EXPECT_EQ(c.sites[2].change, SiteChange::kGrown);
  EXPECT_EQ(c.sites[3].change, SiteChange::kUnchanged);
  EXPECT_EQ(c.sites[3].location, "leak.cpp:12");
  fresh.stacks_sampled = false;
  EXPECT_TRUE(compare_reports(base, fresh, std::nullopt).sites.empty());
}

// An exact leak measured twice (zero-width intervals) differs by a few bytes: not "shrunk".
TEST(Compare, ASiteMustMoveMateriallyToGrowOrShrink) {
  Report base, fresh;
  base.strategies = {entry("in-process", Verdict::kLeak, 4120)};
  fresh.strategies = {entry("in-process", Verdict::kLeak, 4104)};
  base.stacks_sampled = fresh.stacks_sampled = true;
  base.leak_suspects = {suspect("in-process", "aaaa", 4120, "leak")};
  fresh.leak_suspects = {suspect("in-process", "aaaa", 4104, "leak")};
  base.leak_suspects[0].growth_interval = {4120, 4120};
  fresh.leak_suspects[0].growth_interval = {4104, 4104};
  Comparison c = compare_reports(base, fresh, std::nullopt);
  ASSERT_EQ(c.sites.size(), 1u);
  EXPECT_EQ(c.sites[0].change, SiteChange::kUnchanged);
  fresh.leak_suspects[0].growth_bytes_per_run = 2000;
  fresh.leak_suspects[0].growth_interval = {2000, 2000};
  EXPECT_EQ(compare_reports(base, fresh, std::nullopt).sites[0].change, SiteChange::kShrunk);
}

TEST(Compare, OutsideTextIsInertInMarkdown) {
  EXPECT_EQ(markdown_escape("a|b*c\n<d>"), "a\\|b\\*c \\<d\\>");
  const std::string hostile = "x | y\n# heading <script>alert(1)</script> [link](http://e) `code` _em_";
  Report base, fresh;
  base.scenario = hostile;
  fresh.scenario = hostile;
  base.run_directory = "/tmp/a|b";
  fresh.run_directory = "/tmp/c\r\nd";
  base.strategies = {entry(hostile, Verdict::kLeak, 1000)};
  fresh.strategies = base.strategies;
  base.stacks_sampled = fresh.stacks_sampled = true;
  fresh.leak_suspects = {suspect(hostile, "ffff", 64, "operator|<(x)")};
  const std::string md = compare_markdown(compare_reports(base, fresh, 1));
  EXPECT_EQ(md.find("<script>"), std::string::npos) << md;
  EXPECT_EQ(md.find("\n# heading"), std::string::npos) << md;
  EXPECT_EQ(md.find("[link](http"), std::string::npos) << md;  // no link: its brackets are escaped
  EXPECT_NE(md.find("\\[link\\]"), std::string::npos) << md;
  // Every table row keeps its column count: no unescaped | comes from outside.
  std::istringstream lines(md);
  std::size_t columns = 5;  // the growth table, then the sites table's 6
  std::size_t rows = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '|') continue;
    if (line.starts_with("| entry | change")) columns = 6;
    std::size_t pipes = 0;
    for (std::size_t i = 0; i < line.size(); ++i) pipes += line[i] == '|' && (i == 0 || line[i - 1] != '\\');
    EXPECT_EQ(pipes, columns + 1) << line;
    ++rows;
  }
  EXPECT_EQ(rows, 6u) << md;  // two tables: header, rule and one row each
  // compare.json survives bytes that are not UTF-8.
  fresh.leak_suspects[0].frames[0].function = "bad\xff";
  EXPECT_NO_THROW(compare_json(compare_reports(base, fresh, 1))
                      .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

}  // namespace
}  // namespace memsoak::reports
