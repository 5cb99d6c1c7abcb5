// compare.md, compare.json and the console table (see compare_writers.h).
#include "reports/compare_writers.h"

#include <fmt/format.h>

#include <limits>

#include "harness/json_file.h"
#include "harness/units.h"
#include "reports/summary_md.h"

namespace memsoak::reports {
namespace {

using OrderedJson = nlohmann::ordered_json;

std::string with_interval(double value, const Interval& ci) {
  return fmt::format("{} [{}, {}]", harness::format_signed_bytes(value), harness::format_bytes(ci.low),
                     harness::format_bytes(ci.high));
}

std::string entry_label(const std::string& strategy, const std::string& allocator) {
  return allocator == "glibc" ? strategy : fmt::format("{} [{}]", strategy, allocator);
}

std::string verdicts(const EntryComparison& e) {
  return e.base_verdict == e.fresh_verdict
             ? std::string(verdict_name(e.fresh_verdict))
             : fmt::format("{} -> {}", verdict_name(e.base_verdict), verdict_name(e.fresh_verdict));
}

std::string growth_cell(const std::optional<GrowthChange>& g) {
  if (!g) return "n/a";
  return fmt::format("{} -> {} ({})", with_interval(g->base, g->base_ci),
                     with_interval(g->fresh, g->fresh_ci), harness::format_signed_bytes(g->delta));
}

OrderedJson growth_json(const std::optional<GrowthChange>& g) {
  if (!g) return nullptr;
  return {{"base_bytes_per_run", g->base},
          {"base_ci", {g->base_ci.low, g->base_ci.high}},
          {"new_bytes_per_run", g->fresh},
          {"new_ci", {g->fresh_ci.low, g->fresh_ci.high}},
          {"delta_bytes_per_run", g->delta}};
}

template <typename T>
OrderedJson or_null(const std::optional<T>& value) {
  return value ? OrderedJson(*value) : OrderedJson(nullptr);
}

OrderedJson interval_json(const std::optional<Interval>& i) {
  return i ? OrderedJson::array({i->low, i->high}) : OrderedJson(nullptr);
}

std::string site_growth(const std::optional<double>& growth) {
  return growth ? harness::format_signed_bytes(*growth) + "/run" : std::string("-");
}

}  // namespace

std::string markdown_escape(std::string_view text) {
  return md_text(text, std::numeric_limits<std::size_t>::max());
}

std::string compare_markdown(const Comparison& c) {
  std::string md = "# memsoak compare\n\n";
  md += fmt::format("- base: {} ({})\n", markdown_escape(c.base_dir), markdown_escape(c.base_scenario));
  md += fmt::format("- new: {} ({})\n", markdown_escape(c.fresh_dir), markdown_escape(c.fresh_scenario));
  if (c.budget_bytes_per_run) {
    md += fmt::format("- budget: growth may rise by at most {}/run: **{}**\n",
                      harness::format_bytes(static_cast<double>(*c.budget_bytes_per_run)),
                      c.violations.empty() ? "passed" : "failed");
  }
  md +=
      "\n## Growth per run, base -> new\n\n| entry | verdict | heap | RSS | gated increase "
      "|\n|---|---|---|---|---|\n";
  for (const EntryComparison& e : c.entries) {
    md += fmt::format("| {} | {} | {} | {} | {}{} |\n", markdown_escape(entry_label(e.strategy, e.allocator)),
                      markdown_escape(verdicts(e)), markdown_escape(growth_cell(e.heap)),
                      markdown_escape(growth_cell(e.rss)),
                      markdown_escape(harness::format_signed_bytes(e.increase) + "/run"),
                      e.over_budget ? " **over budget**" : "");
  }
  const std::pair<const std::vector<std::string>*, const char*> one_sided[] = {
      {&c.only_in_base, "only in base"}, {&c.only_in_fresh, "only in new"}};
  for (const auto& [names, what] : one_sided) {
    for (const std::string& name : *names) md += fmt::format("\n- {}: {}", what, markdown_escape(name));
    if (!names->empty()) md += "\n";
  }
  md += "\n## Allocation sites\n\n";
  if (!c.stacks_compared) {
    md += "Not compared: allocation stacks were not sampled in both soaks.\n";
  } else if (c.sites.empty()) {
    md += "No leak suspects in either soak.\n";
  } else {
    md += "| entry | change | function | where | base | new |\n|---|---|---|---|---|---|\n";
    for (const SiteComparison& s : c.sites) {
      md += fmt::format(
          "| {} | {} | {} | {} | {} | {} |\n", markdown_escape(entry_label(s.strategy, s.allocator)),
          site_change_name(s.change), markdown_escape(s.function), markdown_escape(s.location),
          markdown_escape(site_growth(s.base_growth)), markdown_escape(site_growth(s.fresh_growth)));
    }
  }
  for (const std::string& v : c.violations) md += fmt::format("\n- budget exceeded: {}", markdown_escape(v));
  if (!c.violations.empty()) md += "\n";
  return md;
}

OrderedJson compare_json(const Comparison& c) {
  OrderedJson entries = OrderedJson::array();
  for (const EntryComparison& e : c.entries) {
    entries.push_back({{"strategy", e.strategy},
                       {"allocator", e.allocator},
                       {"base_verdict", verdict_name(e.base_verdict)},
                       {"new_verdict", verdict_name(e.fresh_verdict)},
                       {"verdict_changed", e.base_verdict != e.fresh_verdict},
                       {"heap", growth_json(e.heap)},
                       {"rss", growth_json(e.rss)},
                       {"base_gated_bytes_per_run", e.base_gated},
                       {"new_gated_bytes_per_run", e.fresh_gated},
                       {"increase_bytes_per_run", e.increase},
                       {"over_budget", e.over_budget}});
  }
  OrderedJson sites = OrderedJson::array();
  for (const SiteComparison& s : c.sites) {
    sites.push_back({{"strategy", s.strategy},
                     {"allocator", s.allocator},
                     {"fingerprint", s.fingerprint},
                     {"change", site_change_name(s.change)},
                     {"function", s.function},
                     {"location", s.location},
                     {"base_growth_bytes_per_run", or_null(s.base_growth)},
                     {"base_growth_interval", interval_json(s.base_interval)},
                     {"new_growth_bytes_per_run", or_null(s.fresh_growth)},
                     {"new_growth_interval", interval_json(s.fresh_interval)}});
  }
  return {{"schema", kCompareSchema},
          {"base", {{"run_directory", c.base_dir}, {"scenario", c.base_scenario}}},
          {"new", {{"run_directory", c.fresh_dir}, {"scenario", c.fresh_scenario}}},
          {"budget_bytes_per_run", or_null(c.budget_bytes_per_run)},
          {"entries", entries},
          {"only_in_base", c.only_in_base},
          {"only_in_new", c.only_in_fresh},
          {"stacks_compared", c.stacks_compared},
          {"sites", sites},
          {"budget_violations", c.violations}};
}

std::string compare_table(const Comparison& c) {
  std::string out = fmt::format("  {:<22} {:<22} {}\n", "entry", "verdict", "heap/run base -> new (delta)");
  for (const EntryComparison& e : c.entries) {
    out += fmt::format("  {:<22} {:<22} heap {}  RSS {}\n", entry_label(e.strategy, e.allocator), verdicts(e),
                       growth_cell(e.heap), growth_cell(e.rss));
  }
  for (const SiteComparison& s : c.sites) {
    if (s.change == SiteChange::kUnchanged) continue;
    out += fmt::format("  {:<22} site {:<6} {} ({})  {} -> {}\n", entry_label(s.strategy, s.allocator),
                       site_change_name(s.change), s.function, s.location, site_growth(s.base_growth),
                       site_growth(s.fresh_growth));
  }
  return out;
}

void write_comparison(const Comparison& c, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  harness::write_text_file(dir / "compare.md", compare_markdown(c));
  // Function names and paths come from outside: invalid UTF-8 is replaced, not a failure.
  harness::write_text_file(
      dir / "compare.json",
      compare_json(c).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
}

}  // namespace memsoak::reports
