// A report model for the text writers' golden tests: every kind of verdict and outcome, and
// outside strings (the scenario, symbols, file names, reasons) holding what Markdown and XML give
// a meaning, newlines, control characters and invalid UTF-8.
#pragma once

#include <string>

#include "reports/report_model.h"

namespace memsoak::reports::fixtures {

inline SeriesGrowth growth(double slope, double low, double high, bool grows) {
  SeriesGrowth g;
  g.trend = {slope, low, high, 0, false};
  g.tail_trend = g.trend;
  g.grows = grows;
  g.tail_grows = grows;
  return g;
}

inline StrategyReport strategy(std::string name, Verdict verdict, std::string reason, std::uint64_t runs,
                               std::uint64_t failed) {
  StrategyReport s;
  s.strategy = std::move(name);
  s.classification = {verdict, std::move(reason)};
  s.runs = runs;
  s.failed_runs = failed;
  s.analysed_runs = runs > failed + 10 ? runs - failed - 10 : 0;
  return s;
}

inline constexpr const char* kHostile =
    "a|b <c> & \"d\" 'e' ]]> *f* _g_ `h` [i](j) ~k~ $l$ \\m\nnew\rline\t\x01\x1b[31m";
inline constexpr const char* kInvalidUtf8 = "bad \xff\xfe \xc0\xaf \xed\xa0\x80 \xe2\x82 end \xe2\x82\xac";

inline Report hostile_report() {
  Report report;
  report.run_directory = std::string("memsoak-out/") + kHostile;
  report.scenario = std::string("external worker: ") + kHostile + kInvalidUtf8;
  report.workload = "exec";
  report.leak = kInvalidUtf8;
  report.warmup = 10;
  report.budget_bytes_per_run = 1024;
  report.interrupted_by_signal = 15;
  report.skipped_artifact_files = 1;

  StrategyReport leak =
      strategy("in-process", Verdict::kLeak, std::string("live heap grows ") + kHostile, 100, 0);
  leak.heap = growth(4104, 4000, 4200, true);
  leak.rss = growth(4096, 3900, 4300, true);
  leak.rss_peak_bytes = 15'777'792;
  leak.runs_per_second = 900.5;
  leak.elapsed_seconds = 100 / 900.5;
  leak.latency_ms = LatencyMs{1.25, 1.5, 1.75};
  leak.digest_mismatches = 2;

  StrategyReport stable = strategy("fork", Verdict::kStable, "no growth", 100, 1);
  stable.heap = growth(0, -8, 8, false);
  stable.rss = growth(0, 0, 0, false);
  stable.rss_peak_bytes = 7'759'462;
  stable.footprint_pss_peak_bytes = 9'000'000;
  stable.runs_per_second = 450.25;
  stable.elapsed_seconds = 100 / 450.25;
  stable.latency_ms = LatencyMs{2.5, 3, 123.4};

  StrategyReport bounded = strategy("recycle:10~2", Verdict::kBounded, "resets with each worker", 100, 0);
  bounded.allocator = "jemalloc";
  bounded.rss = growth(100, -50, 250, false);
  bounded.runs_per_second = 800;

  StrategyReport crashed = strategy("zygote", Verdict::kInconclusive, "no RSS samples after warm-up", 5, 5);
  crashed.stopped = std::string("stopped after 5 failed runs (--max-failures) ") + kHostile;
  StrategyReport never = strategy("spawn", Verdict::kInconclusive, "no RSS samples after warm-up", 0, 0);
  report.strategies = {leak, stable, bounded, crashed, never};

  report.stacks_sampled = true;
  LeakSuspect suspect;
  suspect.strategy = "in-process";
  suspect.allocator = "glibc";
  suspect.fingerprint = "0123456789abcdef";
  suspect.basis = "epochs";
  suspect.growth_bytes_per_run = 4096;
  suspect.growth_interval = {4000, 4200};
  suspect.live_bytes_end = 409'600;
  suspect.allocations = 100;
  suspect.samples = 100;
  suspect.frames = {
      {"std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>", "", 0, "libx.so"},
      {std::string("operator|<T*>(a, b) [clone .cold] ") + kHostile, "src/x|y_z.cpp", 77, "memsoak"},
      {kInvalidUtf8, "", 0, "lib`q`.so"}};
  report.leak_suspects = {suspect};

  HeaptrackSummary heaptrack;
  heaptrack.status = "ok";
  heaptrack.runs = 10;
  heaptrack.data_file = "heaptrack/heaptrack.zst";
  heaptrack.leaked_bytes = 40960;
  heaptrack.leaking_stacks = 1;
  heaptrack.top_stacks = {{40960, std::string("leak<&>() ") + kHostile, {"malloc", "leak<&>()"}}};
  report.heaptrack = heaptrack;
  return report;
}

}  // namespace memsoak::reports::fixtures
