// Analysis of a run directory (see analysis.h).
#include "reports/analysis.h"

#include <fmt/format.h>

#include <algorithm>
#include <span>
#include <unordered_map>

#include "harness/errors.h"
#include "harness/run_directory.h"
#include "harness/sample_file.h"

namespace memsoak::reports {
namespace fs = std::filesystem;
using harness::kNotMeasured;
using harness::RunRecord;

namespace {

nlohmann::json read_run_json(const fs::path& path) {
  nlohmann::json run = harness::read_json_file(path);
  if (!run.is_object() || !run.contains("schema") || !run["schema"].is_string()) {
    throw InputError(fmt::format("{}: not a memsoak run.json (no \"schema\")", path.string()));
  }
  auto schema = run["schema"].get<std::string>();
  if (schema != harness::kRunJsonSchema) {
    throw InputError(fmt::format("{}: schema '{}' is not one this memsoak reads ({})", path.string(), schema,
                                 harness::kRunJsonSchema));
  }
  if (!run.contains("strategies") || !run["strategies"].is_array()) {
    throw InputError(fmt::format("{}: \"strategies\" is missing or not a list", path.string()));
  }
  return run;
}

template <typename T>
T get_or(const nlohmann::json& object, const char* key, T fallback) {
  if (!object.contains(key) || object[key].is_null()) return fallback;
  return object[key].get<T>();
}

std::vector<double> series(const std::vector<const RunRecord*>& runs,
                           std::int64_t harness::ProcessSample::*field) {
  std::vector<double> values;
  values.reserve(runs.size());
  for (const RunRecord* r : runs) {
    if (r->worker.*field == kNotMeasured) return {};  // a partial series would skew the trend
    values.push_back(static_cast<double>(r->worker.*field));
  }
  return values;
}

LatencyMs latency_percentiles(const std::vector<const RunRecord*>& runs) {
  std::vector<double> ms;
  ms.reserve(runs.size());
  for (const RunRecord* r : runs) ms.push_back(static_cast<double>(r->latency_ns) / 1e6);
  return {quantile(ms, 0.50), quantile(ms, 0.95), quantile(ms, 0.99)};
}

void fill_costs(StrategyReport& s, std::span<const RunRecord> records, const nlohmann::json& info) {
  std::int64_t peak = kNotMeasured;
  double setup_ns_sum = 0;
  std::uint64_t ok_runs = 0;
  for (const RunRecord& r : records) {
    peak = std::max({peak, r.worker_peak_rss_bytes, r.worker.rss_bytes});
    if ((r.flags & harness::kRunFailed) == 0 && r.setup_ns != kNotMeasured) {
      setup_ns_sum += static_cast<double>(r.setup_ns);
      ++ok_runs;
    }
  }
  if (peak != kNotMeasured) s.rss_peak_bytes = peak;
  if (ok_runs > 0) s.setup_ms_per_run = setup_ns_sum / static_cast<double>(ok_runs) / 1e6;
  auto elapsed_ns = get_or<double>(info, "elapsed_ns", 0.0);
  if (elapsed_ns > 0) s.runs_per_second = static_cast<double>(s.runs) / (elapsed_ns / 1e9);
}

StrategyReport analyse_strategy(const nlohmann::json& info, std::span<const RunRecord> records) {
  StrategyReport s;
  s.strategy = get_or<std::string>(info, "name", "?");
  s.allocator = get_or<std::string>(info, "allocator", "glibc");
  s.runs = records.size();
  std::vector<const RunRecord*> analysed;
  for (const RunRecord& r : records) {
    if (r.flags & harness::kRunFailed) {
      ++s.failed_runs;
    } else if ((r.flags & harness::kRunWarmup) == 0) {
      analysed.push_back(&r);
    }
  }
  s.analysed_runs = analysed.size();
  std::vector<double> rss = series(analysed, &harness::ProcessSample::rss_bytes);
  std::vector<double> heap = series(analysed, &harness::ProcessSample::heap_live_bytes);
  if (!rss.empty()) {
    s.rss = analyse_series(rss, kRssNoiseFloorBytes);
    s.rss_first_bytes = static_cast<std::int64_t>(rss.front());
    s.rss_last_bytes = static_cast<std::int64_t>(rss.back());
  }
  if (!heap.empty()) s.heap = analyse_series(heap, kHeapNoiseFloorBytes);
  if (s.rss) {
    s.classification = classify(s.heap, *s.rss, s.analysed_runs);
  } else {
    s.classification = {Verdict::kInconclusive, "no RSS samples after warm-up"};
  }
  if (!analysed.empty()) s.latency_ms = latency_percentiles(analysed);
  fill_costs(s, records, info);
  return s;
}

// Compares each strategy's output digests with the first strategy's, run by run.
void count_digest_mismatches(std::vector<StrategyReport>& reports,
                             const std::vector<std::span<const RunRecord>>& by_strategy) {
  if (by_strategy.empty()) return;
  std::unordered_map<std::uint64_t, std::uint64_t> reference;
  for (const RunRecord& r : by_strategy[0]) {
    if ((r.flags & harness::kRunFailed) == 0) reference[r.run_index] = r.digest;
  }
  for (std::size_t s = 1; s < by_strategy.size(); ++s) {
    for (const RunRecord& r : by_strategy[s]) {
      auto it = reference.find(r.run_index);
      if ((r.flags & harness::kRunFailed) == 0 && it != reference.end() && it->second != r.digest) {
        ++reports[s].digest_mismatches;
      }
    }
  }
}

Report analyse_run_directory_unchecked(const fs::path& run_dir) {
  if (!fs::is_directory(run_dir)) {
    throw InputError(fmt::format("'{}': not a run directory ({})", run_dir.string(),
                                 fs::exists(run_dir) ? "not a directory" : "no such directory"));
  }
  nlohmann::json run = read_run_json(run_dir / "run.json");
  std::vector<RunRecord> records = harness::read_sample_file(run_dir / "samples.bin");
  const nlohmann::json& strategies = run["strategies"];
  for (const RunRecord& r : records) {
    if (r.strategy_index >= strategies.size()) {
      throw InputError(fmt::format("{}: a record names strategy {} but run.json lists {}",
                                   (run_dir / "samples.bin").string(), r.strategy_index, strategies.size()));
    }
  }
  // Strategies ran one after another, so their records are already grouped; the stable sort only
  // guards against a file assembled by hand. Each strategy then gets a span, not a copy.
  std::stable_sort(records.begin(), records.end(), [](const RunRecord& a, const RunRecord& b) {
    return a.strategy_index < b.strategy_index;
  });
  std::vector<std::span<const RunRecord>> by_strategy;
  auto begin = records.begin();
  for (std::uint32_t s = 0; s < strategies.size(); ++s) {
    auto end = std::find_if(begin, records.end(), [s](const RunRecord& r) { return r.strategy_index != s; });
    by_strategy.emplace_back(records.data() + (begin - records.begin()),
                             static_cast<std::size_t>(end - begin));
    begin = end;
  }

  Report report;
  report.run_directory = run_dir.string();
  report.scenario = get_or<std::string>(run, "scenario", "");
  report.workload = get_or<std::string>(run, "workload", "");
  report.leak = get_or<std::string>(run, "leak", "");
  report.warmup = get_or<std::uint64_t>(run, "warmup", 0);
  if (run.contains("budget_bytes_per_run") && !run["budget_bytes_per_run"].is_null()) {
    if (!run["budget_bytes_per_run"].is_number_unsigned()) {
      throw InputError(fmt::format("{}: \"budget_bytes_per_run\" must be a whole number of bytes, not {}",
                                   (run_dir / "run.json").string(), run["budget_bytes_per_run"].dump()));
    }
    report.budget_bytes_per_run = run["budget_bytes_per_run"].get<std::uint64_t>();
  }
  for (std::size_t s = 0; s < by_strategy.size(); ++s) {
    report.strategies.push_back(analyse_strategy(strategies[s], by_strategy[s]));
  }
  count_digest_mismatches(report.strategies, by_strategy);
  return report;
}

}  // namespace

Report analyse_run_directory(const fs::path& run_dir) {
  try {
    return analyse_run_directory_unchecked(run_dir);
  } catch (const nlohmann::json::exception& e) {
    // A field of run.json with the wrong type.
    throw InputError(fmt::format("{}: unexpected content ({})", (run_dir / "run.json").string(), e.what()));
  }
}

}  // namespace memsoak::reports
