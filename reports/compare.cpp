// The comparison of two soaks (see compare.h).
#include "reports/compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "harness/errors.h"
#include "harness/units.h"
#include "reports/analysis.h"
#include "reports/budget_gate.h"

namespace memsoak::reports {
namespace {

// Intervals that do not overlap can still differ by nothing anyone would act on: an exact leak
// (a zero-width interval) of 4120 B/run in one soak and 4104 in another. A site grew or shrank
// only when its rate moved by at least a tenth, and by at least 64 B/run.
bool material(double base, double fresh) {
  const double change = std::abs(fresh - base);
  return change >= 64.0 && change >= 0.1 * std::max(std::abs(base), std::abs(fresh));
}

std::string label(const std::string& strategy, const std::string& allocator) {
  return allocator == "glibc" ? strategy : fmt::format("{} [{}]", strategy, allocator);
}

std::optional<GrowthChange> growth_change(const std::optional<SeriesGrowth>& base,
                                          const std::optional<SeriesGrowth>& fresh) {
  if (!base || !fresh) return std::nullopt;
  return GrowthChange{base->trend.slope,
                      {base->trend.ci_low, base->trend.ci_high},
                      fresh->trend.slope,
                      {fresh->trend.ci_low, fresh->trend.ci_high},
                      fresh->trend.slope - base->trend.slope};
}

double gated(const StrategyReport& s) {
  const Verdict v = s.classification.verdict;
  return v == Verdict::kLeak || v == Verdict::kRetention ? gated_growth_bytes_per_run(s) : 0.0;
}

void apply_budget(Comparison& c, EntryComparison& e) {
  if (!c.budget_bytes_per_run) return;
  const auto budget = static_cast<double>(*c.budget_bytes_per_run);
  const std::string name = label(e.strategy, e.allocator);
  if (e.fresh_verdict == Verdict::kInconclusive) {
    e.over_budget = true;
    c.violations.push_back(
        fmt::format("{}: inconclusive in NEW, so it can't be shown within the budget", name));
  } else if (e.increase > budget) {
    e.over_budget = true;
    c.violations.push_back(
        fmt::format("{}: growth rose by {}/run ({}/run to {}/run), above the budget of {}/run", name,
                    harness::format_bytes(e.increase), harness::format_bytes(e.base_gated),
                    harness::format_bytes(e.fresh_gated), harness::format_bytes(budget)));
  }
}

using SiteKey = std::tuple<std::string, std::string, std::string>;  // strategy, allocator, fingerprint

void compare_sites(const Report& base, const Report& fresh, Comparison& c) {
  std::map<SiteKey, SiteComparison> sites;
  auto add = [&](const LeakSuspect& l, bool is_base) {
    SiteComparison& s = sites[{l.strategy, l.allocator, l.fingerprint}];
    s.strategy = l.strategy;
    s.allocator = l.allocator;
    s.fingerprint = l.fingerprint;
    if (!l.frames.empty() && s.function.empty()) {
      const SymbolFrame& f = l.frames.front();
      s.function = f.function;
      s.location = f.file.empty() ? f.module : fmt::format("{}:{}", f.file, f.line);
    }
    (is_base ? s.base_growth : s.fresh_growth) = l.growth_bytes_per_run;
    (is_base ? s.base_interval : s.fresh_interval) = l.growth_interval;
  };
  // Sites of an entry that only one soak has would all read as new or gone: they are left out.
  auto shared = [&](const LeakSuspect& l) {
    return std::any_of(c.entries.begin(), c.entries.end(), [&](const EntryComparison& e) {
      return e.strategy == l.strategy && e.allocator == l.allocator;
    });
  };
  for (const LeakSuspect& l : base.leak_suspects)
    if (shared(l)) add(l, true);
  for (const LeakSuspect& l : fresh.leak_suspects)
    if (shared(l)) add(l, false);
  for (auto& [key, s] : sites) {
    if (!s.base_growth) {
      s.change = SiteChange::kNew;
    } else if (!s.fresh_growth) {
      s.change = SiteChange::kGone;
    } else if (s.fresh_interval->low > s.base_interval->high && material(*s.base_growth, *s.fresh_growth)) {
      s.change = SiteChange::kGrown;
    } else if (s.fresh_interval->high < s.base_interval->low && material(*s.base_growth, *s.fresh_growth)) {
      s.change = SiteChange::kShrunk;
    }
    c.sites.push_back(std::move(s));
  }
  // The changes first (new, gone, grown, shrunk), then by growth in NEW, largest first.
  std::stable_sort(c.sites.begin(), c.sites.end(), [](const SiteComparison& a, const SiteComparison& b) {
    if (a.change != b.change) return a.change < b.change;
    return a.fresh_growth.value_or(0) > b.fresh_growth.value_or(0);
  });
}

// report.json's leak_suspects (reports/report_json.cpp writes them); nullopt when the file is
// missing or not as this memsoak writes it, and the fresh analysis's suspects are used instead.
std::optional<std::vector<LeakSuspect>> written_suspects(const std::filesystem::path& run_dir) {
  std::ifstream in(run_dir / "report.json");
  if (!in) return std::nullopt;
  try {
    const nlohmann::json json = nlohmann::json::parse(in);
    if (!json.at("stacks_sampled").get<bool>()) return std::nullopt;
    std::vector<LeakSuspect> suspects;
    for (const nlohmann::json& l : json.at("leak_suspects")) {
      LeakSuspect s;
      s.strategy = l.at("strategy").get<std::string>();
      s.allocator = l.at("allocator").get<std::string>();
      s.fingerprint = l.at("fingerprint").get<std::string>();
      s.basis = l.at("basis").get<std::string>();
      s.growth_bytes_per_run = l.at("growth_bytes_per_run").get<double>();
      s.growth_interval = {l.at("growth_interval").at(0).get<double>(),
                           l.at("growth_interval").at(1).get<double>()};
      for (const nlohmann::json& f : l.at("frames")) {
        s.frames.push_back({f.at("function").get<std::string>(),
                            f.at("file").is_null() ? "" : f.at("file").get<std::string>(),
                            f.at("line").is_null() ? 0 : f.at("line").get<int>(),
                            f.at("module").get<std::string>()});
      }
      suspects.push_back(std::move(s));
    }
    return suspects;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

Report load_report_for_compare(const std::filesystem::path& run_dir) {
  Report report = analyse_run_directory(run_dir);
  if (report.stacks_sampled) {
    if (auto suspects = written_suspects(run_dir)) report.leak_suspects = std::move(*suspects);
  }
  return report;
}

std::string_view site_change_name(SiteChange change) {
  switch (change) {
    case SiteChange::kNew:
      return "new";
    case SiteChange::kGone:
      return "gone";
    case SiteChange::kGrown:
      return "grown";
    case SiteChange::kShrunk:
      return "shrunk";
    case SiteChange::kUnchanged:
      return "unchanged";
  }
  return "unchanged";
}

Comparison compare_reports(const Report& base, const Report& fresh, std::optional<std::uint64_t> budget) {
  Comparison c;
  c.base_dir = base.run_directory;
  c.fresh_dir = fresh.run_directory;
  c.base_scenario = base.scenario;
  c.fresh_scenario = fresh.scenario;
  c.budget_bytes_per_run = budget;
  auto find = [](const Report& r, const StrategyReport& s) {
    return std::find_if(r.strategies.begin(), r.strategies.end(), [&](const StrategyReport& o) {
      return o.strategy == s.strategy && o.allocator == s.allocator;
    });
  };
  for (const StrategyReport& b : base.strategies) {
    auto f = find(fresh, b);
    if (f == fresh.strategies.end()) {
      c.only_in_base.push_back(label(b.strategy, b.allocator));
      continue;
    }
    EntryComparison e;
    e.strategy = b.strategy;
    e.allocator = b.allocator;
    e.base_verdict = b.classification.verdict;
    e.fresh_verdict = f->classification.verdict;
    e.heap = growth_change(b.heap, f->heap);
    e.rss = growth_change(b.rss, f->rss);
    e.base_gated = gated(b);
    e.fresh_gated = gated(*f);
    e.increase = e.fresh_gated - e.base_gated;
    apply_budget(c, e);
    c.entries.push_back(std::move(e));
  }
  for (const StrategyReport& f : fresh.strategies) {
    if (find(base, f) == base.strategies.end()) c.only_in_fresh.push_back(label(f.strategy, f.allocator));
  }
  if (c.entries.empty()) {
    throw InputError(
        fmt::format("'{}' and '{}' have no strategy x allocator entry in common", c.base_dir, c.fresh_dir));
  }
  c.stacks_compared = base.stacks_sampled && fresh.stacks_sampled;
  if (c.stacks_compared) compare_sites(base, fresh, c);
  return c;
}

}  // namespace memsoak::reports
