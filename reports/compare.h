// `memsoak compare BASE NEW`: two soaks of one scenario (typically two builds) side by side. The
// model is plain data, separate from its writers (reports/compare_writers.h), so that other views
// (an HTML one) can be built from it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reports/report_model.h"

namespace memsoak::reports {

// One series' growth per run in BASE and NEW (both measured), and the change.
struct GrowthChange {
  double base = 0;
  Interval base_ci;
  double fresh = 0;  // NEW ("new" is a keyword)
  Interval fresh_ci;
  double delta = 0;  // fresh - base
};

// One (strategy, allocator) entry present in both soaks.
struct EntryComparison {
  std::string strategy;
  std::string allocator;
  Verdict base_verdict = Verdict::kInconclusive;
  Verdict fresh_verdict = Verdict::kInconclusive;
  std::optional<GrowthChange> heap;  // null unless both measured the live heap
  std::optional<GrowthChange> rss;
  // The rate the budget compares: growth of memory that keeps growing (leak or retention, as the
  // run's own --budget gate reads it), 0 for any other verdict, so that noise in a flat series
  // cannot fail the gate.
  double base_gated = 0;
  double fresh_gated = 0;
  double increase = 0;  // fresh_gated - base_gated
  bool over_budget = false;
};

enum class SiteChange { kNew, kGone, kGrown, kShrunk, kUnchanged };
std::string_view site_change_name(SiteChange change);

// One allocation site (LeakSuspect.fingerprint) of one entry, a suspect in BASE, NEW or both.
struct SiteComparison {
  std::string strategy;
  std::string allocator;
  std::string fingerprint;
  std::string function;  // the innermost frame's function
  std::string location;  // its file:line, or its module
  SiteChange change = SiteChange::kUnchanged;
  std::optional<double> base_growth;  // bytes per run
  std::optional<Interval> base_interval;
  std::optional<double> fresh_growth;
  std::optional<Interval> fresh_interval;
};

struct Comparison {
  std::string base_dir;
  std::string fresh_dir;
  std::string base_scenario;
  std::string fresh_scenario;
  std::optional<std::uint64_t> budget_bytes_per_run;  // --budget on the increase
  std::vector<EntryComparison> entries;               // in BASE's order
  std::vector<std::string> only_in_base;              // entry labels
  std::vector<std::string> only_in_fresh;
  bool stacks_compared = false;  // both soaks sampled allocation stacks
  std::vector<SiteComparison> sites;
  std::vector<std::string> violations;  // one line per entry over the budget
};

// A run directory's report for comparing: analysed as `memsoak report` does, but with the leak
// suspects of its report.json when it has one. Those were symbolized when the soak's executables
// were still in place; a later analysis of an older build often finds them rebuilt or gone, and
// its frames (module + offset) would give other fingerprints than the same sites in NEW. Throws
// InputError as analyse_run_directory does.
Report load_report_for_compare(const std::filesystem::path& run_dir);

// Compares the entries the two reports share. Sites: "grown" when NEW's growth interval lies
// wholly above BASE's and the rate rose by at least a tenth and 64 B/run, "shrunk" likewise below; sites are
// compared only when both soaks sampled stacks, and only for the entries both have. With a budget, an entry
// fails when its gated growth rose by more than the budget per run, or when NEW's verdict is inconclusive
// (too little measured to pass a gate). Throws InputError when the two have no entry in common.
Comparison compare_reports(const Report& base, const Report& fresh, std::optional<std::uint64_t> budget);

}  // namespace memsoak::reports
