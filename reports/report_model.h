// The report data model: what analysis of a run directory found, independent of any writer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reports/growth.h"
#include "reports/stack_dump.h"

namespace memsoak::reports {

struct Interval {
  double low = 0;
  double high = 0;
};

struct LatencyMs {
  double p50 = 0;
  double p95 = 0;
  double p99 = 0;
};

// How reports name an entry: "recycle:100", or "recycle:100 [jemalloc]" for an allocator other than glibc.
inline std::string entry_label(std::string_view strategy, std::string_view allocator) {
  std::string label(strategy);
  if (allocator != "glibc") label.append(" [").append(allocator).append("]");
  return label;
}

// One strategy's results. std::nullopt means "not measured" and is written as null.
struct StrategyReport {
  std::string strategy;
  std::string allocator = "glibc";
  std::uint64_t runs = 0;  // records found, warm-up included
  std::uint64_t failed_runs = 0;
  std::uint64_t analysed_runs = 0;      // successful runs after warm-up: the trend's data
  std::uint64_t digest_mismatches = 0;  // runs whose output differs from the first strategy's
  Classification classification;
  std::optional<SeriesGrowth> rss;
  std::optional<SeriesGrowth> heap;
  std::optional<std::int64_t> rss_peak_bytes;
  std::optional<std::int64_t> rss_first_bytes;  // first analysed run
  std::optional<std::int64_t> rss_last_bytes;   // last analysed run
  std::optional<double> runs_per_second;
  std::optional<double> elapsed_seconds;  // wall time of the entry, from run.json
  std::optional<LatencyMs> latency_ms;
  std::optional<double> setup_ms_per_run;  // mean Workload::setup time paid per run
  std::optional<double> cpu_user_seconds;  // all the strategy's processes
  std::optional<double> cpu_system_seconds;
  std::optional<std::int64_t> footprint_pss_peak_bytes;  // PSS of all its processes together
  std::optional<double> footprint_pss_mean_bytes;
  std::optional<double> pss_mean_bytes;  // of the process that ran the workload
  std::optional<double> uss_mean_bytes;
  std::optional<double> within_worker_growth_bytes_per_run;  // recycling strategies
  std::optional<std::string> stopped;       // why the strategy stopped early (--max-failures)
  std::optional<std::string> ended_by;      // a soak that stopped itself: settled, max-iterations, duration
  std::uint64_t warmup_runs = 0;            // runs left out of the trend at the start
  double alpha = kSignificance;             // the level of its tests
  std::optional<std::int64_t> bound_bytes;  // bounded: the peak a worker reaches
  std::optional<std::int64_t> trim_released_bytes;  // in-process: RSS malloc_trim(0) gave back at the end
  std::uint64_t artifact_files = 0;                 // complete files its processes left under artifacts/
  std::optional<std::uint64_t> stack_sample_mean_bytes;  // after warm-up; 0: every allocation
  std::uint64_t stack_samples_dropped = 0;               // lost to the tracker's full tables
  // run.json records the entry's elapsed time when it ends: without it, memsoak was killed (or is
  // still running) before the entry finished.
  bool finished = true;
};

// An allocation site whose live bytes grow (reports/stack_analysis.h).
struct LeakSuspect {
  std::string strategy;
  std::string allocator;
  std::string fingerprint;
  // "epochs": growth of the live bytes of a process that serves many runs; "runs": bytes each
  // one-run process (fork, zygote, spawn) allocated in its run and left live at its end.
  std::string basis;
  double growth_bytes_per_run = 0;
  Interval growth_interval;
  std::int64_t live_bytes_end = 0;  // epochs: live at the last epoch; runs: summed over the runs
  double allocations = 0;           // estimated live blocks at the end (epochs) or per run (runs)
  std::uint64_t samples = 0;
  std::vector<SymbolFrame> frames;  // innermost first, allocator frames dropped
};

// One stack of heaptrack's folded output, with the bytes its allocations left live.
struct HeaptrackStack {
  std::uint64_t leaked_bytes = 0;
  std::string function;             // the first frame from the leaf that is not an allocator's
  std::vector<std::string> frames;  // leaf first (the allocation), as heaptrack names them
};

// The heaptrack pass (`--profiler heaptrack`), from heaptrack/pass.json and the folded stacks.
struct HeaptrackSummary {
  std::string status;                 // ok, not-installed, not-applicable, failed
  std::optional<std::string> reason;  // why it is not ok
  std::uint64_t runs = 0;
  std::optional<std::string> data_file;       // relative to the run directory
  std::optional<std::string> folded_file;     // relative to the run directory
  std::optional<std::uint64_t> leaked_bytes;  // all stacks together
  std::uint64_t leaking_stacks = 0;           // stacks with leaked bytes
  std::vector<HeaptrackStack> top_stacks;     // the largest, most bytes first
};

// One line of a chart: a metric of one strategy against run index, downsampled for drawing
// (reports/chart_series.h). The statistics use every run; only the drawing is thinned.
struct ChartLine {
  std::vector<double> x;  // run index
  std::vector<double> y;  // bytes
};

// What report.html draws for one strategy (parallel to Report::strategies).
struct StrategyCharts {
  ChartLine rss, heap, pss, uss;            // a line is empty when never measured
  std::uint64_t first_analysed_run = 0;     // the runs before it were warm-up
  bool process_per_run = false;             // a new process for every run: no replacement marks
  std::vector<std::uint64_t> replacements;  // run indices where a new worker process took over
  std::vector<std::uint64_t> failed_runs;   // run indices of failed runs
  std::uint64_t marks_left_out = 0;         // replacements and failures beyond the cap
};

// Failed runs of one entry that run.log gives the same reason for.
struct FailureGroup {
  std::string entry;  // the entry's label, as in run.log
  std::string reason;
  std::uint64_t runs = 0;
  std::uint64_t first_run = 0;
};

struct Report {
  std::string schema = "memsoak.report/1";
  std::string run_directory;
  std::string scenario;
  std::string workload;
  std::string leak;
  std::uint64_t warmup = 0;
  std::uint64_t planned_runs = 0;  // --iterations (the ceiling when it is auto), per strategy
  bool iterations_auto = false;    // each strategy stopped when its verdict was settled
  std::optional<std::uint64_t> budget_bytes_per_run;
  std::optional<int> interrupted_by_signal;  // the soak was stopped early by SIGINT/SIGTERM
  std::uint64_t skipped_artifact_files = 0;  // partial or truncated artifact files (a crash left them)
  std::vector<StrategyReport> strategies;
  bool stacks_sampled = false;             // the soak sampled allocation stacks and left them in artifacts/
  std::vector<LeakSuspect> leak_suspects;  // per strategy in order, then by growth
  std::optional<HeaptrackSummary> heaptrack;  // only when the soak ran the heaptrack pass
  // For the reports people read (not in report.json): the charts, why runs failed and where the
  // soak ran.
  std::vector<StrategyCharts> charts;
  std::vector<FailureGroup> failures;                            // most runs first
  bool failures_truncated = false;                               // run.log was longer than the analysis reads
  std::vector<std::pair<std::string, std::string>> environment;  // name, value
};

}  // namespace memsoak::reports
