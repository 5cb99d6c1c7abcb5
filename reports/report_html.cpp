// report.html: one self-contained page for a reviewer (see docs/run-directory.md). The answer
// first, then charts of memory against run index, the comparison table, where memory grows,
// failures and the environment. The tables are written here, escaped; the charts (uPlot) and the
// flame graph are drawn by the embedded script from the embedded data. A Content-Security-Policy
// allows exactly the embedded scripts and styles (by digest) and no network at all.
#include "reports/report_html.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <iterator>

#include "harness/json_file.h"
#include "harness/units.h"
#include "reports/answer.h"
#include "reports/budget_gate.h"
#include "reports/chart_series.h"
#include "reports/html_assets.h"
#include "reports/html_text.h"
#include "reports/writer.h"

namespace memsoak::reports {
namespace {

using Out = std::back_insert_iterator<std::string>;

// Suspects listed per strategy, and frames shown before the rest fold away.
constexpr std::size_t kSuspectsPerStrategy = 10;
constexpr std::size_t kFramesShown = 12;
constexpr std::size_t kFailureGroupsShown = 50;

std::string bytes(double value) { return harness::format_bytes(value); }

std::string growth_cell(const std::optional<SeriesGrowth>& g) {
  if (!g) return "<td class=\"num\">n/a</td>";
  return fmt::format(
      "<td class=\"num\" title=\"95% interval [{}, {}] per run; over the last third {}/run\">"
      "{}/run<br><span class=\"reason\">[{}, {}]</span></td>",
      bytes(g->trend.ci_low), bytes(g->trend.ci_high), harness::format_signed_bytes(g->tail_trend.slope),
      harness::format_signed_bytes(g->trend.slope), bytes(g->trend.ci_low), bytes(g->trend.ci_high));
}

template <typename T, typename F>
std::string optional_cell(const std::optional<T>& value, F format) {
  return value ? fmt::format("<td class=\"num\">{}</td>", format(*value)) : "<td class=\"num\">–</td>";
}

void write_answer(Out out, const Report& report) {
  const Answer answer = answer_of(report);
  fmt::format_to(out, "<section class=\"answer\" id=\"answer\"><p class=\"headline\">{}</p>",
                 html_escape(answer.headline));
  if (!answer.details.empty()) {
    fmt::format_to(out, "<ul>");
    for (const auto& line : answer.details) fmt::format_to(out, "<li>{}</li>", html_escape(line));
    fmt::format_to(out, "</ul>");
  }
  if (report.budget_bytes_per_run) {
    const auto violations = budget_violations(report);
    const std::string budget = bytes(static_cast<double>(*report.budget_bytes_per_run));
    if (violations.empty()) {
      fmt::format_to(out, "<p><span class=\"gate-pass\">Budget {}/run: passed.</span></p>", budget);
    } else {
      fmt::format_to(out, "<p><span class=\"gate-fail\">Budget {}/run: failed.</span></p><ul>", budget);
      for (const auto& v : violations) fmt::format_to(out, "<li>{}</li>", html_escape(v));
      fmt::format_to(out, "</ul>");
    }
  }
  fmt::format_to(out, "</section>\n");
}

void write_table(Out out, const Report& report) {
  fmt::format_to(out,
                 "<h2>Comparison</h2><div class=\"table-wrap\"><table "
                 "id=\"comparison\"><thead><tr><th>Strategy</th><th>Verdict</th>"
                 "<th>Live heap</th><th>RSS</th><th>Peak RSS</th>"
                 "<th>Footprint (PSS)</th><th>Runs/s</th><th>Latency p50 / p99</th><th>Setup per run</th>"
                 "<th>Runs</th></tr></thead><tbody>\n");
  for (const StrategyReport& s : report.strategies) {
    const std::string verdict(verdict_name(s.classification.verdict));
    fmt::format_to(
        out,
        "<tr><td>{}</td><td class=\"verdict-cell\"><span class=\"verdict verdict-{}\">{}</span><br>"
        "<span class=\"reason\">{}</span></td>{}{}",
        html_escape(entry_label(s)), verdict, verdict, html_escape(s.classification.reason),
        growth_cell(s.heap), growth_cell(s.rss));
    fmt::format_to(out, "{}", optional_cell(s.rss_peak_bytes, [](std::int64_t v) {
                     return bytes(static_cast<double>(v));
                   }));
    if (s.footprint_pss_mean_bytes) {
      fmt::format_to(out, "<td class=\"num\">{} mean<br><span class=\"reason\">{} peak</span></td>",
                     bytes(*s.footprint_pss_mean_bytes),
                     bytes(static_cast<double>(s.footprint_pss_peak_bytes.value_or(0))));
    } else {
      fmt::format_to(out, "<td class=\"num\">–</td>");
    }
    fmt::format_to(
        out, "{}{}{}", optional_cell(s.runs_per_second, [](double v) { return fmt::format("{:.1f}", v); }),
        optional_cell(s.latency_ms,
                      [](const LatencyMs& l) { return fmt::format("{:.2f} / {:.2f} ms", l.p50, l.p99); }),
        optional_cell(s.setup_ms_per_run, [](double v) { return fmt::format("{:.2f} ms", v); }));
    std::string runs =
        fmt::format("{}<br><span class=\"reason\">{} analysed</span>", s.runs, s.analysed_runs);
    if (s.failed_runs > 0)
      runs += fmt::format("<br><span class=\"gate-fail\">{} failed</span>", s.failed_runs);
    if (s.digest_mismatches > 0) runs += fmt::format("<br>{} outputs differ", s.digest_mismatches);
    if (s.stopped) runs += "<br><span class=\"reason\">stopped: " + html_escape(*s.stopped) + "</span>";
    fmt::format_to(out, "<td class=\"num\">{}</td></tr>\n", runs);
  }
  fmt::format_to(out, "</tbody></table></div>\n");
}

std::string frame_text(const SymbolFrame& f) {
  std::string where = f.file.empty() ? f.module : fmt::format("{}:{} · {}", f.file, f.line, f.module);
  return fmt::format("{} <span class=\"frame-where\">{}</span>", html_escape(f.function), html_escape(where));
}

void write_suspect(Out out, const LeakSuspect& l) {
  fmt::format_to(out,
                 "<div class=\"suspect\"><p><strong>{}/run</strong> [{}, {}] · {} · live at the end {} "
                 "· {} samples · <span class=\"mono\">{}</span></p><ol>",
                 harness::format_signed_bytes(l.growth_bytes_per_run), bytes(l.growth_interval.low),
                 bytes(l.growth_interval.high),
                 l.basis == "runs" ? "left live by each one-run process" : "growth of a long-lived process",
                 bytes(static_cast<double>(l.live_bytes_end)), l.samples, html_escape(l.fingerprint));
  for (std::size_t i = 0; i < l.frames.size() && i < kFramesShown; ++i) {
    fmt::format_to(out, "<li>{}</li>", frame_text(l.frames[i]));
  }
  fmt::format_to(out, "</ol>");
  if (l.frames.size() > kFramesShown) {
    fmt::format_to(out, "<details><summary>{} more frames</summary><ol start=\"{}\">",
                   l.frames.size() - kFramesShown, kFramesShown + 1);
    for (std::size_t i = kFramesShown; i < l.frames.size(); ++i) {
      fmt::format_to(out, "<li>{}</li>", frame_text(l.frames[i]));
    }
    fmt::format_to(out, "</ol></details>");
  }
  fmt::format_to(out, "</div>\n");
}

void write_suspects(Out out, const Report& report) {
  fmt::format_to(out, "<h2>Where memory grows</h2>\n");
  if (!report.stacks_sampled && report.leak_suspects.empty()) {
    fmt::format_to(out,
                   "<p class=\"note\">Allocation stacks were not sampled in this soak "
                   "(<code>--stack-sample off</code>, or a workload memsoak cannot sample).</p>\n");
  } else if (report.leak_suspects.empty()) {
    fmt::format_to(out,
                   "<p class=\"note\">Allocation stacks were sampled; no allocation site's live memory "
                   "grew.</p>\n");
  } else {
    fmt::format_to(out, "<div id=\"flame\"></div>\n");
    for (const StrategyReport& s : report.strategies) {
      std::size_t shown = 0, total = 0;
      for (const LeakSuspect& l : report.leak_suspects) {
        if (l.strategy != s.strategy || l.allocator != s.allocator) continue;
        if (total++ == 0) fmt::format_to(out, "<h3>{}</h3>\n", html_escape(entry_label(s)));
        if (shown < kSuspectsPerStrategy) {
          write_suspect(out, l);
          ++shown;
        }
      }
      if (total > shown)
        fmt::format_to(out, "<p class=\"note\">{} more sites in report.json.</p>", total - shown);
    }
  }
  if (report.heaptrack) {
    const HeaptrackSummary& h = *report.heaptrack;
    fmt::format_to(out, "<h3>heaptrack</h3><p>{}", html_escape(h.status));
    if (h.reason) fmt::format_to(out, ": {}", html_escape(*h.reason));
    if (h.leaked_bytes) {
      fmt::format_to(out, " · {} runs · {} left live by {} stacks", h.runs,
                     bytes(static_cast<double>(*h.leaked_bytes)), h.leaking_stacks);
    }
    if (h.data_file) fmt::format_to(out, " · data: <code>{}</code>", html_escape(*h.data_file));
    fmt::format_to(out, "</p>");
    if (!h.top_stacks.empty()) {
      fmt::format_to(out, "<table><thead><tr><th>Left live</th><th>Function</th></tr></thead><tbody>");
      for (const HeaptrackStack& stack : h.top_stacks) {
        fmt::format_to(out, "<tr><td class=\"num\">{}</td><td class=\"mono\">{}</td></tr>",
                       bytes(static_cast<double>(stack.leaked_bytes)), html_escape(stack.function));
      }
      fmt::format_to(out, "</tbody></table>\n");
    }
  }
}

void write_failures(Out out, const Report& report) {
  fmt::format_to(out, "<h2>Failures</h2>\n");
  if (report.failures.empty()) {
    fmt::format_to(out, "<p class=\"note\">No run failed.</p>\n");
    return;
  }
  fmt::format_to(out,
                 "<table id=\"failures\"><thead><tr><th>Strategy</th><th>Runs</th><th>First</th>"
                 "<th>Reason</th></tr></thead><tbody>");
  for (std::size_t i = 0; i < report.failures.size() && i < kFailureGroupsShown; ++i) {
    const FailureGroup& f = report.failures[i];
    fmt::format_to(
        out,
        "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"mono\">{}</td></tr>",
        html_escape(f.entry), f.runs, f.first_run, html_escape(f.reason));
  }
  fmt::format_to(out, "</tbody></table>");
  if (report.failures.size() > kFailureGroupsShown || report.failures_truncated) {
    fmt::format_to(out, "<p class=\"note\">More failures are in run.log.</p>");
  }
  fmt::format_to(out, "\n");
}

void write_environment(Out out, const Report& report) {
  fmt::format_to(out, "<h2>Environment</h2><dl class=\"env\">");
  auto item = [&](std::string_view name, std::string_view value) {
    fmt::format_to(out, "<dt>{}</dt><dd>{}</dd>", html_escape(name), html_escape(value));
  };
  item("run directory", report.run_directory);
  item("workload", report.workload + (report.leak.empty() ? "" : " --leak " + report.leak));
  item("warm-up", fmt::format("{} runs per strategy", report.warmup));
  for (const auto& [name, value] : report.environment) item(name, value);
  fmt::format_to(out, "</dl>\n");
}

nlohmann::json line_json(const ChartLine& line) { return {{"x", line.x}, {"y", line.y}}; }

// What the embedded script draws.
nlohmann::json chart_data(const Report& report) {
  nlohmann::json strategies = nlohmann::json::array();
  for (std::size_t i = 0; i < report.strategies.size() && i < report.charts.size(); ++i) {
    const StrategyCharts& c = report.charts[i];
    strategies.push_back(chart_strategy_json(i, entry_label(report.strategies[i]), c));
  }
  nlohmann::json flame = nlohmann::json::array();
  for (const StrategyReport& s : report.strategies) {
    nlohmann::json stacks = nlohmann::json::array();
    for (const LeakSuspect& l : report.leak_suspects) {
      if (l.strategy != s.strategy || l.allocator != s.allocator || l.growth_bytes_per_run <= 0) continue;
      // The workload's frames only: memsoak's own, the same above every site, would stack a tower
      // of identical bars over the part that tells sites apart.
      const std::vector<SymbolFrame> own = workload_frames(l.frames);
      nlohmann::json frames = nlohmann::json::array();
      for (auto f = own.rbegin(); f != own.rend(); ++f) frames.push_back(f->function);
      stacks.push_back({{"frames", std::move(frames)}, {"bytes_per_run", l.growth_bytes_per_run}});
    }
    if (!stacks.empty()) flame.push_back({{"label", entry_label(s)}, {"stacks", std::move(stacks)}});
  }
  return {{"strategies", std::move(strategies)}, {"flame", std::move(flame)}};
}

std::string chart_note(const Report& report) {
  std::string note = fmt::format(
      "Shaded: warm-up (left out of the trend). A tick at the top: a new worker "
      "process took over. A red mark at the bottom: a failed run.");
  std::vector<std::string> per_run;
  for (std::size_t i = 0; i < report.charts.size() && i < report.strategies.size(); ++i) {
    if (report.charts[i].process_per_run) per_run.push_back(entry_label(report.strategies[i]));
  }
  if (!per_run.empty())
    note += " A new process for every run (not marked): " + fmt::format("{}", fmt::join(per_run, ", ")) + ".";
  std::uint64_t left_out = 0;
  for (const StrategyCharts& c : report.charts) left_out += c.marks_left_out;
  if (left_out > 0) {
    note += fmt::format(
        " Only the first {} replacements and failed runs of each strategy are marked ({} more "
        "are not; run.log and samples.csv have them all).",
        kChartMarks, left_out);
  }
  return html_escape(note);
}

}  // namespace

std::string html_page_open(std::string_view title) {
  const HtmlAsset uplot_js = html_asset("uplot.js"), uplot_css = html_asset("uplot.css");
  const HtmlAsset page_js = html_asset("report.js"), page_css = html_asset("report.css");
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "script-src '{}' '{}'; style-src '{}' '{}'; img-src data:; base-uri 'none'; form-action 'none'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{}</title>\n<style>{}</style>\n<style>{}</style>\n</head><body>\n",
      uplot_js.csp_source, page_js.csp_source, uplot_css.csp_source, page_css.csp_source, html_escape(title),
      uplot_css.text, page_css.text);
}

std::string html_page_close(const nlohmann::json& data) {
  return fmt::format(
      "<script type=\"application/json\" "
      "id=\"memsoak-data\">{}</script>\n<script>{}</script>\n<script>{}</script>\n"
      "</body></html>\n",
      json_for_script(data), html_asset("uplot.js").text, html_asset("report.js").text);
}

nlohmann::json chart_strategy_json(std::size_t index, const std::string& label, const StrategyCharts& c) {
  return {{"index", index},
          {"label", label},
          {"first_analysed_run", c.first_analysed_run},
          {"process_per_run", c.process_per_run},
          {"replacements", c.replacements},
          {"failed", c.failed_runs},
          {"rss", line_json(c.rss)},
          {"heap", line_json(c.heap)},
          {"pss", line_json(c.pss)},
          {"uss", line_json(c.uss)}};
}

std::string render_report_html(const Report& report) {
  std::string page = html_page_open("memsoak: " + report.scenario);
  page.reserve(256 * 1024);
  Out out(page);
  std::uint64_t runs = 0;
  for (const StrategyReport& s : report.strategies) runs += s.runs;
  fmt::format_to(
      out, "<header><h1>memsoak report</h1><p class=\"meta\">{} · {} strategies · {} runs</p></header>\n",
      html_escape(report.scenario), report.strategies.size(), runs);
  write_answer(out, report);
  fmt::format_to(out, "<h2>Memory per run</h2><p class=\"note\">{}</p><div id=\"charts\"></div>\n",
                 chart_note(report));
  write_table(out, report);
  write_suspects(out, report);
  write_failures(out, report);
  write_environment(out, report);
  fmt::format_to(out,
                 "<footer>Written by memsoak. The numbers behind this page: report.json and samples.bin in "
                 "the run directory.</footer>\n");
  page += html_page_close(chart_data(report));
  return page;
}

namespace {

class HtmlReportWriter final : public ReportWriter {
 public:
  std::string_view name() const override { return "report.html"; }
  void write(const Report& report, const WriterTarget& target) const override {
    harness::write_text_file(target.run_dir / "report.html", render_report_html(report));
  }
};

}  // namespace

std::unique_ptr<ReportWriter> make_report_html_writer() { return std::make_unique<HtmlReportWriter>(); }

}  // namespace memsoak::reports
