// report.json writer: a fixed report model must produce the reviewed golden file byte for byte
// (tests/reports/golden.h says how to update it).
#include "reports/report_json.h"

#include <gtest/gtest.h>

#include "tests/reports/golden.h"

namespace memsoak::reports {
namespace {

Report sample_report() {
  Report report;
  report.run_directory = "memsoak-out/example";
  report.scenario = "synthetic --leak dropped:4096";
  report.workload = "synthetic";
  report.leak = "dropped:4096";
  report.warmup = 200;
  report.budget_bytes_per_run = 1024;

  StrategyReport leaking;
  leaking.strategy = "in-process";
  leaking.runs = 2000;
  leaking.analysed_runs = 1800;
  std::vector<double> heap(1800), rss(1800);
  for (std::size_t i = 0; i < heap.size(); ++i) {
    heap[i] = 1e6 + 4104.0 * static_cast<double>(i);
    rss[i] = 8192.0 * 1024 + 4096.0 * static_cast<double>(i);
  }
  leaking.heap = analyse_series(heap, heap_series(kSignificance));
  leaking.rss = analyse_series(rss, rss_series(kSignificance));
  leaking.classification = classify(leaking.heap, *leaking.rss, leaking.analysed_runs);
  leaking.rss_peak_bytes = 15'777'792;
  leaking.rss_first_bytes = 8'388'608;
  leaking.rss_last_bytes = 15'757'312;
  leaking.runs_per_second = 900.5;
  leaking.latency_ms = LatencyMs{1.25, 1.5, 1.75};
  leaking.setup_ms_per_run = 0.0;

  StrategyReport unmeasured;
  unmeasured.strategy = "fork";
  unmeasured.runs = 10;
  unmeasured.failed_runs = 10;
  unmeasured.classification = {Verdict::kInconclusive, "no RSS samples after warm-up"};

  report.strategies = {leaking, unmeasured};
  return report;
}

TEST(ReportJson, MatchesTheGoldenFile) {
  testing::expect_golden(report_to_json(sample_report()).dump(2) + "\n", "report.json");
}

TEST(ReportJson, NotMeasuredValuesAreNullNeverZero) {
  nlohmann::json fork = report_to_json(sample_report())["strategies"][1];
  for (const char* key : {"rss_growth_bytes_per_run", "rss_growth_ci", "heap_growth_bytes_per_run",
                          "heap_growth_ci", "rss_peak_bytes", "runs_per_second", "latency_ms"}) {
    EXPECT_TRUE(fork[key].is_null()) << key;
  }
}

}  // namespace
}  // namespace memsoak::reports
