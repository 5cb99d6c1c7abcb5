// The report's headline (see answer.h).
#include "reports/answer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>

#include "harness/units.h"

namespace memsoak::reports {

bool keeps_memory_bounded(Verdict verdict) {
  return verdict == Verdict::kStable || verdict == Verdict::kPlateau || verdict == Verdict::kBounded;
}

namespace {

double throughput(const StrategyReport& s) { return s.runs_per_second.value_or(0.0); }

std::string growth_phrase(const StrategyReport& s) {
  const std::optional<SeriesGrowth>& g = s.heap && s.heap->grows ? s.heap : s.rss;
  if (!g) return std::string(verdict_name(s.classification.verdict));
  return fmt::format("{} ({}{}/run of {})", verdict_name(s.classification.verdict),
                     g->trend.slope >= 0 ? "+" : "", harness::format_bytes(g->trend.slope),
                     &g == &s.heap ? "live heap" : "RSS");
}

std::string memory_phrase(const StrategyReport& s) {
  switch (s.classification.verdict) {
    case Verdict::kPlateau:
      return "memory bounded (it grew, then levelled off)";
    case Verdict::kBounded:
      return "memory bounded (each worker grows, and is replaced)";
    default:
      return "memory stable";
  }
}

std::string cost_phrase(const StrategyReport& chosen, const StrategyReport& fastest) {
  std::string cost = chosen.runs_per_second ? fmt::format("{:.1f} runs/s", *chosen.runs_per_second)
                                            : std::string("an unmeasured throughput");
  if (&chosen != &fastest && throughput(fastest) > 0 && throughput(chosen) > 0) {
    cost += fmt::format(", {:.2f}× the throughput of {} ({:.1f} runs/s)",
                        throughput(chosen) / throughput(fastest), entry_label(fastest), throughput(fastest));
  }
  if (chosen.rss_peak_bytes) {
    cost += fmt::format(", peak RSS {}", harness::format_bytes(static_cast<double>(*chosen.rss_peak_bytes)));
  }
  if (chosen.footprint_pss_mean_bytes) {
    cost += fmt::format(", mean footprint {} PSS", harness::format_bytes(*chosen.footprint_pss_mean_bytes));
  }
  return cost;
}

}  // namespace

const StrategyReport* recommended_strategy(const Report& report) {
  const StrategyReport* stable = nullptr;
  const StrategyReport* bounded = nullptr;
  for (const StrategyReport& s : report.strategies) {
    if (s.analysed_runs == 0) continue;
    const Verdict v = s.classification.verdict;
    const StrategyReport*& best = v == Verdict::kStable ? stable : bounded;
    if (!keeps_memory_bounded(v)) continue;
    if (best == nullptr || throughput(s) > throughput(*best)) best = &s;
  }
  return stable != nullptr ? stable : bounded;
}

std::optional<std::string> unfinished_entry(const Report& report, const StrategyReport& s) {
  if (s.finished || report.interrupted_by_signal) return std::nullopt;
  return s.runs == 0 ? fmt::format("{} did not start", entry_label(s))
                     : fmt::format("{} has {} of {} runs", entry_label(s), s.runs, report.planned_runs);
}

Answer answer_of(const Report& report) {
  Answer answer;
  const StrategyReport* fastest = nullptr;
  for (const StrategyReport& s : report.strategies) {
    if (fastest == nullptr || throughput(s) > throughput(*fastest)) fastest = &s;
  }
  const StrategyReport* chosen = recommended_strategy(report);
  const bool all_inconclusive =
      std::all_of(report.strategies.begin(), report.strategies.end(),
                  [](const StrategyReport& s) { return s.classification.verdict == Verdict::kInconclusive; });
  if (report.strategies.empty()) {
    answer.headline = "No strategy ran.";
  } else if (all_inconclusive) {
    answer.headline = "No verdict: too little was measured under every strategy.";
  } else if (chosen == nullptr) {
    answer.headline = "No strategy keeps memory stable.";
  } else {
    answer.headline = fmt::format("{} keeps {}, at {}.", entry_label(*chosen), memory_phrase(*chosen),
                                  cost_phrase(*chosen, *fastest));
    if (chosen->failed_runs > 0) {
      answer.headline += fmt::format(" But {} of its {} runs failed.", chosen->failed_runs, chosen->runs);
    }
  }
  for (const StrategyReport& s : report.strategies) {
    if (&s == chosen) continue;
    std::string line = fmt::format("{}: {}", entry_label(s), growth_phrase(s));
    if (s.runs_per_second) line += fmt::format(", {:.1f} runs/s", *s.runs_per_second);
    if (s.runs > 0 && s.failed_runs == s.runs) {
      line += fmt::format(", every run failed");
    } else if (s.analysed_runs == 0) {
      line += ", no successful run after warm-up";
    } else if (s.failed_runs > 0) {
      line += fmt::format(", {} of {} runs failed", s.failed_runs, s.runs);
    }
    answer.details.push_back(std::move(line));
  }
  std::vector<std::string> unfinished;
  for (const StrategyReport& s : report.strategies) {
    if (auto line = unfinished_entry(report, s)) unfinished.push_back(std::move(*line));
  }
  if (!unfinished.empty()) {
    answer.details.push_back(
        fmt::format("The soak did not finish (memsoak was killed, or is still running): {}.",
                    fmt::join(unfinished, "; ")));
  }
  if (report.interrupted_by_signal) {
    answer.details.push_back(
        fmt::format("The soak was stopped by {} before it finished; these are the runs "
                    "measured until then.",
                    strsignal(*report.interrupted_by_signal)));
  }
  return answer;
}

}  // namespace memsoak::reports
