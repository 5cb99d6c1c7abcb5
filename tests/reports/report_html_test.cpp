// report.html without a browser: the chart data (LTTB, marks), escaping of outside strings, the
// page's Content-Security-Policy, its size for a large soak, and failures read from run.log.
// tests/tools/report_browser_test.cpp opens real pages in Chromium.
#include "reports/report_html.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <regex>

#include "reports/answer.h"
#include "reports/budget_gate.h"
#include "reports/chart_series.h"
#include "reports/html_assets.h"
#include "reports/html_text.h"
#include "reports/run_context.h"
#include "reports/summary_md.h"
#include "tests/scratch_dir.h"

namespace memsoak::reports {
namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Lttb, KeepsEndsAndASpikeThatStridingWouldSkip) {
  std::vector<double> x(10'000), y(10'000, 100.0);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i);
  y[4321] = 5000.0;  // one run's RSS jumped
  y[0] = 7.0;
  y[9999] = 9.0;
  std::vector<std::size_t> kept = lttb_indices(x, y, 100);
  ASSERT_EQ(kept.size(), 100u);
  EXPECT_EQ(kept.front(), 0u);
  EXPECT_EQ(kept.back(), 9999u);
  EXPECT_TRUE(std::is_sorted(kept.begin(), kept.end()));
  EXPECT_NE(std::find(kept.begin(), kept.end(), 4321u), kept.end());
}

TEST(Lttb, ShortLinesAreKeptWhole) {
  std::vector<double> x = {0, 1, 2}, y = {5, 6, 7};
  EXPECT_EQ(lttb_indices(x, y, 100), (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(lttb_indices(x, y, 2).size(), 3u);
}

harness::RunRecord record(std::uint64_t run, std::uint64_t worker, std::uint32_t flags = 0) {
  harness::RunRecord r;
  r.run_index = run;
  r.worker_id = worker;
  r.flags = flags;
  r.worker.rss_bytes = static_cast<std::int64_t>(1'000'000 + run * 10);
  r.worker.heap_live_bytes = static_cast<std::int64_t>(500'000 + run);
  if (run % 4 == 0) r.worker.pss_bytes = 700'000;
  return r;
}

TEST(StrategyCharts, MarkWarmUpReplacementsAndFailures) {
  std::vector<harness::RunRecord> records;
  for (std::uint64_t i = 0; i < 100; ++i) {
    std::uint32_t flags = (i < 10 ? harness::kRunWarmup : 0u) | (i == 42 ? harness::kRunFailed : 0u);
    records.push_back(record(i, 1 + i / 25, flags));  // a new worker every 25 runs
  }
  StrategyCharts c = build_strategy_charts(records, 10);
  EXPECT_EQ(c.first_analysed_run, 10u);
  EXPECT_FALSE(c.process_per_run);
  EXPECT_EQ(c.replacements, (std::vector<std::uint64_t>{25, 50, 75}));
  EXPECT_EQ(c.failed_runs, (std::vector<std::uint64_t>{42}));
  EXPECT_EQ(c.rss.x.size(), 99u);  // the failed run has no point
  EXPECT_EQ(std::count(c.rss.x.begin(), c.rss.x.end(), 42.0), 0);
  EXPECT_EQ(c.pss.x.size(), 25u);  // measured every 4th run (42 is not one)
  EXPECT_EQ(c.uss.x.size(), 0u);   // never measured: no line
}

TEST(StrategyCharts, AProcessPerRunIsNotMarkedRunByRun) {
  std::vector<harness::RunRecord> records;
  for (std::uint64_t i = 0; i < 50; ++i) records.push_back(record(i, 100 + i));
  StrategyCharts c = build_strategy_charts(records, 10);
  EXPECT_TRUE(c.process_per_run);
  EXPECT_TRUE(c.replacements.empty());
  EXPECT_EQ(c.marks_left_out, 0u);
}

TEST(StrategyCharts, LongSoaksAreThinnedToTheLineBudget) {
  std::vector<harness::RunRecord> records;
  for (std::uint64_t i = 0; i < 100'000; ++i) records.push_back(record(i, 1));
  StrategyCharts c = build_strategy_charts(records, 10);
  EXPECT_EQ(c.rss.x.size(), kChartPointsPerLine);
  EXPECT_EQ(c.rss.x.front(), 0.0);
  EXPECT_EQ(c.rss.x.back(), 99'999.0);
}

TEST(HtmlEscape, MarkupBecomesText) {
  EXPECT_EQ(html_escape("operator<<(a&b, \"c\") 'd' >"),
            "operator&lt;&lt;(a&amp;b, &quot;c&quot;) &#39;d&#39; &gt;");
  EXPECT_EQ(html_escape("</script><img src=x onerror=alert(1)>"),
            "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;");
}

TEST(HtmlEscape, InvalidUtf8AndControlCharactersAreReplaced) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(html_escape("a\xFF"
                        "b"),
            "a" + fffd + "b");
  EXPECT_EQ(html_escape("\xC0\xAF"), fffd + fffd);             // an overlong '/'
  EXPECT_EQ(html_escape("\xED\xA0\x80"), fffd + fffd + fffd);  // a UTF-16 surrogate
  EXPECT_EQ(html_escape("\xE2\x82"), fffd + fffd);             // cut short
  EXPECT_EQ(html_escape("x\x01y\tz\n"), "x" + fffd + "y\tz\n");
  EXPECT_EQ(html_escape("naïve → 🙂"), "naïve → 🙂");
}

TEST(JsonForScript, NoStringCanCloseTheScriptElement) {
  nlohmann::json value = {{"f", "</script><script>alert(1)</script><!--"}, {"bad", "\xFF"}};
  std::string text = json_for_script(value);
  EXPECT_EQ(text.find('<'), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(text)["f"], "</script><script>alert(1)</script><!--");
}

Report hostile_report() {
  Report report;
  report.scenario = "<b>bold</b> & \xFF";
  report.workload = "synthetic";
  StrategyReport s;
  s.strategy = "in-process";
  s.runs = 100;
  s.analysed_runs = 90;
  s.classification = {Verdict::kLeak, "grows <fast>"};
  report.strategies.push_back(s);
  report.charts.push_back(build_strategy_charts({}, 0));
  report.stacks_sampled = true;
  LeakSuspect l;
  l.strategy = "in-process";
  l.allocator = "glibc";
  l.growth_bytes_per_run = 4096;
  l.frames = {
      {"std::vector<int>::push_back</script><script>alert(1)</script>", "/src/a&b.cpp", 7, "lib<x>.so"}};
  report.leak_suspects.push_back(l);
  report.failures.push_back({"in-process", "worker said <img src=x onerror=alert(2)>", 3, 17});
  report.environment = {{"host<name>", "\"quoted\""}};
  return report;
}

TEST(ReportHtml, OutsideStringsAreEscapedEverywhere) {
  const std::string page = render_report_html(hostile_report());
  EXPECT_EQ(count(page, "<script"), 3u);  // the data, uPlot, the page's own script
  EXPECT_EQ(count(page, "</script>"), 3u);
  EXPECT_EQ(page.find("<b>bold"), std::string::npos);
  EXPECT_EQ(page.find("<img"), std::string::npos);
  EXPECT_EQ(page.find("<fast>"), std::string::npos);
  EXPECT_EQ(page.find("<x>"), std::string::npos);
  EXPECT_NE(page.find("&lt;b&gt;bold&lt;/b&gt; &amp; \xEF\xBF\xBD"), std::string::npos);
  EXPECT_NE(page.find("push_back&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page.find("host&lt;name&gt;"), std::string::npos);
  EXPECT_NE(page.find("worker said &lt;img"), std::string::npos);
}

TEST(ReportHtml, PolicyAllowsExactlyTheEmbeddedScriptsAndStylesAndNoNetwork) {
  Report report = hostile_report();
  report.failures.clear();  // its reason has " src=" as (escaped) text
  const std::string page = render_report_html(report);
  std::smatch csp;
  ASSERT_TRUE(std::regex_search(page, csp,
                                std::regex("http-equiv=\"Content-Security-Policy\" content=\"([^\"]*)\"")));
  const std::string policy = csp[1];
  EXPECT_NE(policy.find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(policy.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(policy.find("http"), std::string::npos);
  for (const char* asset : {"uplot.js", "report.js", "uplot.css", "report.css"}) {
    const HtmlAsset a = html_asset(asset);
    EXPECT_NE(policy.find(std::string(a.csp_source)), std::string::npos) << asset;
    EXPECT_NE(page.find(std::string(a.text)), std::string::npos) << asset;
  }
  // Nothing is fetched: outside the inline scripts, no element has a src= or href=.
  std::string markup;
  for (std::size_t at = 0; at < page.size();) {
    const std::size_t open = page.find("<script", at);
    const std::size_t body = open == std::string::npos ? std::string::npos : page.find('>', open);
    const std::size_t close = body == std::string::npos ? std::string::npos : page.find("</script>", body);
    if (close == std::string::npos) {
      markup += page.substr(at);
      break;
    }
    markup += page.substr(at, body + 1 - at) + "</script>";
    at = close + 9;
  }
  EXPECT_EQ(count(markup, "<script"), 3u);
  EXPECT_EQ(markup.find(" src="), std::string::npos);
  EXPECT_EQ(markup.find(" href="), std::string::npos);
}

// Past kChartMarks, the page says marks were left out rather than dropping them silently.
TEST(ReportHtml, MarksBeyondTheCapAreSaid) {
  std::vector<harness::RunRecord> records;
  for (std::uint64_t i = 0; i < 3000; ++i) records.push_back(record(i, 1, i % 2 ? harness::kRunFailed : 0u));
  Report report = hostile_report();
  report.charts[0] = build_strategy_charts(records, 0);
  ASSERT_EQ(report.charts[0].marks_left_out, 500u);
  EXPECT_NE(render_report_html(report).find("(500 more are not;"), std::string::npos);
  report.charts[0].marks_left_out = 0;
  EXPECT_EQ(render_report_html(report).find("more are not;"), std::string::npos);
}

TEST(ReportHtml, SixStrategiesOf100kRunsStayUnder5MB) {
  Report report;
  report.scenario = "large";
  for (int s = 0; s < 6; ++s) {
    std::vector<harness::RunRecord> records;
    for (std::uint64_t i = 0; i < 100'000; ++i) {
      harness::RunRecord r = record(i, 1 + i / 100);
      r.worker.rss_bytes += static_cast<std::int64_t>((i * 7919) % 4096);
      r.worker.uss_bytes = r.worker.rss_bytes / 3;
      records.push_back(r);
    }
    StrategyReport sr;
    sr.strategy = "s" + std::to_string(s);
    report.strategies.push_back(sr);
    report.charts.push_back(build_strategy_charts(records, 0));
  }
  const std::string page = render_report_html(report);
  EXPECT_LT(page.size(), 5'000'000u);
}

StrategyReport judged(const std::string& name, Verdict verdict, double runs_per_second) {
  StrategyReport s;
  s.strategy = name;
  s.runs = 100;
  s.analysed_runs = 90;
  s.runs_per_second = runs_per_second;
  s.classification = {verdict, "test"};
  return s;
}

TEST(Answer, StableBeatsAFasterBoundedStrategyAndFailuresAreSaid) {
  Report report;
  report.strategies = {judged("in-process", Verdict::kLeak, 100),
                       judged("recycle:100", Verdict::kBounded, 60), judged("fork", Verdict::kStable, 20)};
  report.strategies[2].failed_runs = 3;
  const Answer a = answer_of(report);
  EXPECT_EQ(
      a.headline.rfind("fork keeps memory stable, at 20.0 runs/s, 0.20× the throughput of in-process", 0), 0u)
      << a.headline;
  EXPECT_NE(a.headline.find("But 3 of its 100 runs failed."), std::string::npos) << a.headline;
  ASSERT_EQ(a.details.size(), 2u);
  EXPECT_EQ(a.details[1], "recycle:100: bounded, 60.0 runs/s");
}

TEST(Answer, NothingJudgedIsNoVerdictNotALeak) {
  Report report;
  report.strategies = {judged("in-process", Verdict::kInconclusive, 5)};
  report.strategies[0].failed_runs = 100;
  const Answer a = answer_of(report);
  EXPECT_EQ(a.headline, "No verdict: too little was measured under every strategy.");
  EXPECT_NE(a.details[0].find("every run failed"), std::string::npos) << a.details[0];
}

// With several allocators, each budget line names its entry (they used to read the same).
TEST(Answer, BudgetLinesNameTheAllocator) {
  Report report;
  report.budget_bytes_per_run = 1024;
  report.strategies = {judged("in-process", Verdict::kLeak, 100), judged("in-process", Verdict::kLeak, 90)};
  report.strategies[1].allocator = "jemalloc";
  for (StrategyReport& s : report.strategies) {
    SeriesGrowth heap;
    heap.trend.slope = 4096;
    heap.grows = true;
    s.heap = heap;
    s.rss = heap;
  }
  const std::vector<std::string> lines = budget_violations(report);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].rfind("in-process: leak of 4.0 KiB/run", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("in-process [jemalloc]: leak of 4.0 KiB/run", 0), 0u) << lines[1];
}

// memsoak was killed while in-process ran its 162nd of 400 runs; fork never started.
Report killed_soak() {
  Report report;
  report.planned_runs = 400;
  report.strategies = {judged("in-process", Verdict::kLeak, 100), judged("fork", Verdict::kInconclusive, 0)};
  report.strategies[0].finished = false;
  report.strategies[0].runs = 162;
  report.strategies[1].finished = false;
  report.strategies[1].runs = 0;
  return report;
}

TEST(Answer, ASoakThatDidNotFinishSaysWhere) {
  const Answer a = answer_of(killed_soak());
  EXPECT_NE(a.details.back().find("The soak did not finish"), std::string::npos);
  EXPECT_NE(a.details.back().find("in-process has 162 of 400 runs; fork did not start"), std::string::npos)
      << a.details.back();
}

// summary.md says the same (it used to only say "recorded no runs").
TEST(Answer, SummaryMarkdownSaysTheSoakDidNotFinish) {
  const std::string md = summary_markdown(killed_soak());
  EXPECT_NE(md.find("**Did not finish**: in-process has 162 of 400 runs."), std::string::npos) << md;
  EXPECT_NE(md.find("**Did not finish**: fork did not start."), std::string::npos) << md;
}

class FailureLogTest : public testing::ScratchDirTest {
 protected:
  FailureLogTest() : ScratchDirTest("failure-log") {}
};

TEST_F(FailureLogTest, GroupsFailedRunsByEntryAndReasonMostFirst) {
  std::ofstream(dir_ / "run.log") << "fork run 7: failed: killed by signal 11 (Segmentation fault)\n"
                                     "worker stderr: something else\n"
                                     "recycle:20 [jemalloc] run 3: failed: exit status 2\n"
                                     "fork run 2: failed: killed by signal 11 (Segmentation fault)\n"
                                     "fork run: failed: not a run number\n"
                                     "fork run 9: failed: killed by signal 11 (Segmentation fault)\n"
                                     "startup log <b> fork run 3: failed: a worker's stderr\n"
                                     "zygote run 4: failed: an entry this soak does not have\n";
  FailureLog log = read_failures(dir_ / "run.log", {"fork", "recycle:20 [jemalloc]"});
  ASSERT_EQ(log.groups.size(), 2u);
  EXPECT_EQ(log.groups[0].entry, "fork");
  EXPECT_EQ(log.groups[0].runs, 3u);
  EXPECT_EQ(log.groups[0].first_run, 2u);
  EXPECT_EQ(log.groups[0].reason, "killed by signal 11 (Segmentation fault)");
  EXPECT_EQ(log.groups[1].entry, "recycle:20 [jemalloc]");
  EXPECT_FALSE(log.truncated);
  EXPECT_TRUE(read_failures(dir_ / "missing.log", {"fork"}).groups.empty());
}

}  // namespace
}  // namespace memsoak::reports
