// compare.html: `memsoak compare` for a reviewer. The budget's answer first, then each shared
// entry's memory in BASE and NEW on one chart (the same page shell and script as report.html),
// the growth table and the allocation sites that appeared, went or grew.
#include "reports/compare_html.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iterator>

#include "harness/json_file.h"
#include "harness/units.h"
#include "reports/html_text.h"
#include "reports/report_html.h"

namespace memsoak::reports {
namespace {

using Out = std::back_insert_iterator<std::string>;

const StrategyCharts* charts_of(const Report& report, const std::string& strategy,
                                const std::string& allocator) {
  for (std::size_t i = 0; i < report.strategies.size() && i < report.charts.size(); ++i) {
    if (report.strategies[i].strategy == strategy && report.strategies[i].allocator == allocator) {
      return &report.charts[i];
    }
  }
  return nullptr;
}

std::string change_cell(const std::optional<GrowthChange>& g) {
  if (!g) return "<td class=\"num\">–</td><td class=\"num\">–</td><td class=\"num\">–</td>";
  return fmt::format(
      "<td class=\"num\">{}/run<br><span class=\"reason\">[{}, {}]</span></td>"
      "<td class=\"num\">{}/run<br><span class=\"reason\">[{}, {}]</span></td><td "
      "class=\"num\"><strong>{}/run</strong></td>",
      harness::format_signed_bytes(g->base), harness::format_bytes(g->base_ci.low),
      harness::format_bytes(g->base_ci.high), harness::format_signed_bytes(g->fresh),
      harness::format_bytes(g->fresh_ci.low), harness::format_bytes(g->fresh_ci.high),
      harness::format_signed_bytes(g->delta));
}

void write_answer(Out out, const Comparison& c) {
  std::size_t changed = 0, grew = 0;
  for (const EntryComparison& e : c.entries) {
    if (e.base_verdict != e.fresh_verdict) ++changed;
    if (e.increase > 0) ++grew;
  }
  fmt::format_to(out, "<section class=\"answer\" id=\"answer\"><p class=\"headline\">");
  if (c.budget_bytes_per_run) {
    const std::string budget = harness::format_bytes(static_cast<double>(*c.budget_bytes_per_run));
    if (c.violations.empty()) {
      fmt::format_to(out, "<span class=\"gate-pass\">No entry's growth rose by more than {}/run.</span>",
                     budget);
    } else {
      fmt::format_to(out, "<span class=\"gate-fail\">{} of {} entries grew by more than {}/run.</span>",
                     c.violations.size(), c.entries.size(), budget);
    }
  } else {
    fmt::format_to(out, "{} of {} entries changed verdict; {} grow faster in NEW.", changed, c.entries.size(),
                   grew);
  }
  fmt::format_to(out, "</p><ul>");
  for (const auto& v : c.violations) fmt::format_to(out, "<li>{}</li>", html_escape(v));
  if (!c.only_in_base.empty()) {
    fmt::format_to(out, "<li>Only in BASE: {}</li>",
                   html_escape(fmt::format("{}", fmt::join(c.only_in_base, ", "))));
  }
  if (!c.only_in_fresh.empty()) {
    fmt::format_to(out, "<li>Only in NEW: {}</li>",
                   html_escape(fmt::format("{}", fmt::join(c.only_in_fresh, ", "))));
  }
  fmt::format_to(out, "</ul></section>\n");
}

void write_entries(Out out, const Comparison& c) {
  fmt::format_to(out,
                 "<h2>Growth per run</h2><div class=\"table-wrap\"><table id=\"entries\"><thead><tr>"
                 "<th>Strategy</th><th>Verdict</th><th>Live heap BASE</th><th>NEW</th><th>Change</th>"
                 "<th>RSS BASE</th><th>NEW</th><th>Change</th><th>Gated increase</th></tr></thead><tbody>\n");
  for (const EntryComparison& e : c.entries) {
    const std::string base(verdict_name(e.base_verdict)), fresh(verdict_name(e.fresh_verdict));
    fmt::format_to(out,
                   "<tr><td>{}</td><td><span class=\"verdict verdict-{}\">{}</span> → <span class=\"verdict "
                   "verdict-{}\">{}</span></td>{}{}<td class=\"num\">{}{}/run{}</td></tr>\n",
                   html_escape(entry_label(e.strategy, e.allocator)), base, base, fresh, fresh,
                   change_cell(e.heap), change_cell(e.rss), e.over_budget ? "<span class=\"gate-fail\">" : "",
                   harness::format_signed_bytes(e.increase), e.over_budget ? "</span>" : "");
  }
  fmt::format_to(out, "</tbody></table></div>\n");
}

void write_sites(Out out, const Comparison& c) {
  fmt::format_to(out, "<h2>Allocation sites</h2>\n");
  if (!c.stacks_compared) {
    fmt::format_to(out,
                   "<p class=\"note\">Not compared: allocation stacks were not sampled in both soaks.</p>\n");
    return;
  }
  std::size_t listed = 0;
  for (const SiteComparison& site : c.sites) {
    if (site.change == SiteChange::kUnchanged) continue;
    if (listed++ == 0) {
      fmt::format_to(out,
                     "<table id=\"sites\"><thead><tr><th>Strategy</th><th>Change</th><th>Function</th>"
                     "<th>BASE</th><th>NEW</th></tr></thead><tbody>");
    }
    auto growth = [](const std::optional<double>& g) {
      return g ? harness::format_signed_bytes(*g) + "/run" : std::string("–");
    };
    fmt::format_to(
        out,
        "<tr><td>{}</td><td>{}</td><td class=\"mono\">{}<br><span class=\"frame-where\">{}</span></td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
        html_escape(entry_label(site.strategy, site.allocator)), site_change_name(site.change),
        html_escape(site.function), html_escape(site.location), growth(site.base_growth),
        growth(site.fresh_growth));
  }
  if (listed == 0) {
    fmt::format_to(out, "<p class=\"note\">No allocation site appeared, went or changed its growth.</p>\n");
  } else {
    fmt::format_to(out, "</tbody></table>\n");
  }
}

}  // namespace

std::string render_compare_html(const Comparison& c, const Report& base, const Report& fresh) {
  std::string page = html_page_open("memsoak compare: " + c.fresh_scenario);
  Out out(page);
  fmt::format_to(out,
                 "<header><h1>memsoak compare</h1><p class=\"meta\">BASE <code>{}</code> ({}) · NEW "
                 "<code>{}</code> ({})</p></header>\n",
                 html_escape(c.base_dir), html_escape(c.base_scenario), html_escape(c.fresh_dir),
                 html_escape(c.fresh_scenario));
  write_answer(out, c);
  // Each shared entry twice: BASE, then NEW in the next colour.
  nlohmann::json strategies = nlohmann::json::array();
  for (const EntryComparison& e : c.entries) {
    const std::string label = entry_label(e.strategy, e.allocator);
    if (const StrategyCharts* b = charts_of(base, e.strategy, e.allocator)) {
      nlohmann::json line = chart_strategy_json(strategies.size(), label + " · BASE", *b);
      line["dashed"] = true;
      strategies.push_back(std::move(line));
    }
    if (const StrategyCharts* f = charts_of(fresh, e.strategy, e.allocator)) {
      strategies.push_back(chart_strategy_json(strategies.size(), label + " · NEW", *f));
    }
  }
  fmt::format_to(
      out,
      "<h2>Memory per run</h2><p class=\"note\">Each entry of BASE (dashed) and of NEW. Shaded: warm-up. A "
      "tick "
      "at the top: a new worker process. A red mark: a failed run.</p><div id=\"charts\"></div>\n");
  write_entries(out, c);
  write_sites(out, c);
  fmt::format_to(
      out, "<footer>Written by memsoak compare. The numbers behind this page: compare.json.</footer>\n");
  page += html_page_close({{"strategies", std::move(strategies)}, {"flame", nlohmann::json::array()}});
  return page;
}

void write_comparison_html(const Comparison& c, const Report& base, const Report& fresh,
                           const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  harness::write_text_file(dir / "compare.html", render_compare_html(c, base, fresh));
}

}  // namespace memsoak::reports
