// report.json writer (see report_json.h).
#include "reports/report_json.h"

#include "harness/json_file.h"
#include "reports/budget_gate.h"
#include "reports/writer.h"

namespace memsoak::reports {
namespace {

template <typename T>
nlohmann::ordered_json or_null(const std::optional<T>& value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json growth_field(const std::optional<SeriesGrowth>& g) {
  return g ? nlohmann::ordered_json(g->trend.slope) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json ci_field(const std::optional<SeriesGrowth>& g) {
  return g ? nlohmann::ordered_json::array({g->trend.ci_low, g->trend.ci_high})
           : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json trend_detail(const std::optional<SeriesGrowth>& g) {
  if (!g) return nullptr;
  return {{"slope_bytes_per_run", g->trend.slope},
          {"ci", {g->trend.ci_low, g->trend.ci_high}},
          {"slope_from_sampled_pairs", g->trend.sampled},
          {"mann_kendall_z", g->mann_kendall.z},
          {"mann_kendall_p", g->mann_kendall.p_value},
          {"grows", g->grows},
          {"last_third_slope_bytes_per_run", g->tail_trend.slope},
          {"last_third_grows", g->tail_grows},
          {"decision_interval", {g->trend.decision_low, g->trend.decision_high}},
          {"floor_bytes", g->floor_bytes},
          {"noise_bytes", g->noise_bytes},
          {"rises", g->rises},
          {"rise_bytes", g->rise_bytes},
          {"onset_run", or_null(g->onset_run)},
          {"slope_over_all_runs_bytes_per_run", or_null(g->overall_slope)}};
}

nlohmann::ordered_json strategy_to_json(const StrategyReport& s) {
  nlohmann::ordered_json latency = nullptr;
  if (s.latency_ms)
    latency = {{"p50", s.latency_ms->p50}, {"p95", s.latency_ms->p95}, {"p99", s.latency_ms->p99}};
  return {
      {"strategy", s.strategy},
      {"allocator", s.allocator},
      {"runs", s.runs},
      {"failed_runs", s.failed_runs},
      {"analysed_runs", s.analysed_runs},
      {"verdict", verdict_name(s.classification.verdict)},
      {"verdict_reason", s.classification.reason},
      {"rss_growth_bytes_per_run", growth_field(s.rss)},
      {"rss_growth_ci", ci_field(s.rss)},
      {"heap_growth_bytes_per_run", growth_field(s.heap)},
      {"heap_growth_ci", ci_field(s.heap)},
      {"rss_peak_bytes", or_null(s.rss_peak_bytes)},
      {"rss_first_bytes", or_null(s.rss_first_bytes)},
      {"rss_last_bytes", or_null(s.rss_last_bytes)},
      {"runs_per_second", or_null(s.runs_per_second)},
      {"latency_ms", latency},
      {"setup_ms_per_run", or_null(s.setup_ms_per_run)},
      {"digest_mismatches", s.digest_mismatches},
      {"cpu_user_seconds", or_null(s.cpu_user_seconds)},
      {"cpu_system_seconds", or_null(s.cpu_system_seconds)},
      {"pss_mean_bytes", or_null(s.pss_mean_bytes)},
      {"uss_mean_bytes", or_null(s.uss_mean_bytes)},
      {"footprint_pss_mean_bytes", or_null(s.footprint_pss_mean_bytes)},
      {"footprint_pss_peak_bytes", or_null(s.footprint_pss_peak_bytes)},
      {"within_worker_growth_bytes_per_run", or_null(s.within_worker_growth_bytes_per_run)},
      {"stopped", or_null(s.stopped)},
      {"finished", s.finished},
      {"ended_by", or_null(s.ended_by)},
      {"warmup_runs", s.warmup_runs},
      {"significance", s.alpha},
      {"bound_bytes", or_null(s.bound_bytes)},
      {"trim_released_bytes", or_null(s.trim_released_bytes)},
      {"artifact_files", s.artifact_files},
      {"stack_sample_mean_bytes", or_null(s.stack_sample_mean_bytes)},
      {"stack_samples_dropped", s.stack_samples_dropped},
      {"rss_trend", trend_detail(s.rss)},
      {"heap_trend", trend_detail(s.heap)},
  };
}

nlohmann::ordered_json suspect_to_json(const LeakSuspect& l) {
  nlohmann::ordered_json frames = nlohmann::ordered_json::array();
  for (const SymbolFrame& f : l.frames) {
    frames.push_back(
        {{"function", f.function},
         {"file", f.file.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.file)},
         {"line", f.line > 0 ? nlohmann::ordered_json(f.line) : nlohmann::ordered_json(nullptr)},
         {"module", f.module}});
  }
  return {
      {"strategy", l.strategy},
      {"allocator", l.allocator},
      {"fingerprint", l.fingerprint},
      {"basis", l.basis},
      {"growth_bytes_per_run", l.growth_bytes_per_run},
      {"growth_interval", {l.growth_interval.low, l.growth_interval.high}},
      {"live_bytes_end", l.live_bytes_end},
      {"allocations", l.allocations},
      {"samples", l.samples},
      {"frames", frames},
  };
}

nlohmann::ordered_json heaptrack_to_json(const std::optional<HeaptrackSummary>& h) {
  if (!h) return nullptr;
  nlohmann::ordered_json stacks = nlohmann::ordered_json::array();
  for (const HeaptrackStack& s : h->top_stacks) {
    stacks.push_back({{"leaked_bytes", s.leaked_bytes}, {"function", s.function}, {"frames", s.frames}});
  }
  return {
      {"status", h->status},
      {"reason", or_null(h->reason)},
      {"runs", h->runs},
      {"data_file", or_null(h->data_file)},
      {"folded_file", or_null(h->folded_file)},
      {"leaked_bytes", or_null(h->leaked_bytes)},
      {"leaking_stacks", h->leaking_stacks},
      {"top_leaked_stacks", stacks},
  };
}

}  // namespace

nlohmann::ordered_json report_to_json(const Report& report) {
  nlohmann::ordered_json strategies = nlohmann::ordered_json::array();
  for (const auto& s : report.strategies) strategies.push_back(strategy_to_json(s));
  nlohmann::ordered_json suspects = nlohmann::ordered_json::array();
  for (const auto& l : report.leak_suspects) suspects.push_back(suspect_to_json(l));
  return {
      {"schema", report.schema},
      {"scenario", report.scenario},
      {"workload", report.workload},
      {"leak", report.leak},
      {"warmup", report.warmup},
      {"planned_runs", report.planned_runs},
      {"iterations_auto", report.iterations_auto},
      {"budget_bytes_per_run", or_null(report.budget_bytes_per_run)},
      {"budget_violations", budget_violations(report)},
      {"interrupted_by_signal", or_null(report.interrupted_by_signal)},
      {"strategies", strategies},
      {"stacks_sampled", report.stacks_sampled},
      {"leak_suspects", suspects},
      {"skipped_artifact_files", report.skipped_artifact_files},
      {"heaptrack", heaptrack_to_json(report.heaptrack)},
  };
}

void write_report_json(const Report& report, const std::filesystem::path& path) {
  harness::write_json_file(path, report_to_json(report));
}

}  // namespace memsoak::reports

namespace memsoak::reports {
namespace {

class ReportJsonWriter final : public ReportWriter {
 public:
  std::string_view name() const override { return "report.json"; }
  void write(const Report& report, const WriterTarget& target) const override {
    write_report_json(report, target.run_dir / "report.json");
  }
};

}  // namespace

std::unique_ptr<ReportWriter> make_report_json_writer() { return std::make_unique<ReportJsonWriter>(); }

}  // namespace memsoak::reports
