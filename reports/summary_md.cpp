// summary.md: the soak's answer in Markdown, for a CI job's summary page (GitHub Actions:
// `cat summary.md >> "$GITHUB_STEP_SUMMARY"`). What it holds is in docs/run-directory.md.
//
// Every string that comes from outside memsoak (the scenario, which names an --exec command;
// symbols; file names; reasons that quote them) goes through md_text(), so no input can open a
// link, an HTML tag or a code span, or break a table row. Lists are cut to a fixed length with a
// line saying how many were left out, and the whole file to kMaxSummaryBytes, because GitHub
// refuses a step summary past 1 MiB.
#include "reports/summary_md.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "harness/units.h"
#include "reports/answer.h"
#include "reports/budget_gate.h"
#include "reports/utf8.h"
#include "reports/writer.h"

namespace memsoak::reports {
namespace {

constexpr std::size_t kMaxTableRows = 100;
constexpr std::size_t kMaxNamesPerLine = 20;
constexpr std::size_t kMaxListedLines = 50;
constexpr std::size_t kMaxSuspects = 10;
constexpr std::size_t kMaxFramesPerSuspect = 5;
constexpr std::size_t kMaxHeaptrackStacks = 5;
constexpr std::size_t kMaxNameCodePoints = 120;
constexpr std::size_t kMaxReasonCodePoints = 300;

std::string name_text(std::string_view text) { return md_text(text, kMaxNameCodePoints); }
std::string reason_text(std::string_view text) { return md_text(text, kMaxReasonCodePoints); }
std::string label_text(const StrategyReport& s) { return name_text(entry_label(s.strategy, s.allocator)); }

std::string bytes_text(std::optional<std::int64_t> bytes) {
  return bytes ? harness::format_bytes(static_cast<double>(*bytes)) : std::string("–");
}

std::string ms_text(double ms) { return fmt::format("{:.{}f} ms", ms, ms < 10 ? 2 : ms < 100 ? 1 : 0); }

std::string growth_cell(const std::optional<SeriesGrowth>& g) {
  if (!g) return "–";
  return fmt::format("{} [{}, {}]", harness::format_signed_bytes(g->trend.slope),
                     harness::format_bytes(g->trend.ci_low), harness::format_bytes(g->trend.ci_high));
}

// "137 runs/s, latency p50 1.20 ms / p99 3.40 ms, peak RSS 7.4 MiB": what a strategy costs.
std::string cost_text(const StrategyReport& s) {
  std::vector<std::string> parts;
  if (s.runs_per_second) parts.push_back(fmt::format("{:.0f} runs/s", *s.runs_per_second));
  if (s.latency_ms)
    parts.push_back(
        fmt::format("latency p50 {} / p99 {}", ms_text(s.latency_ms->p50), ms_text(s.latency_ms->p99)));
  if (s.rss_peak_bytes) parts.push_back("peak RSS " + bytes_text(s.rss_peak_bytes));
  if (s.footprint_pss_peak_bytes)
    parts.push_back("peak footprint PSS " + bytes_text(s.footprint_pss_peak_bytes));
  return parts.empty() ? std::string("no cost measured") : fmt::format("{}", fmt::join(parts, ", "));
}

bool is_flat(const StrategyReport& s) { return s.classification.verdict == Verdict::kStable; }
bool is_bounded(const StrategyReport& s) {
  return s.classification.verdict == Verdict::kPlateau || s.classification.verdict == Verdict::kBounded;
}
bool is_growing(const StrategyReport& s) {
  return s.classification.verdict == Verdict::kLeak || s.classification.verdict == Verdict::kRetention;
}
bool is_inconclusive(const StrategyReport& s) { return s.classification.verdict == Verdict::kInconclusive; }

// The highest throughput among the strategies `keep` accepts (the first of them when none has one).
const StrategyReport* fastest(const Report& report, const std::function<bool(const StrategyReport&)>& keep) {
  const StrategyReport* best = nullptr;
  for (const StrategyReport& s : report.strategies) {
    if (!keep(s)) continue;
    if (best == nullptr || s.runs_per_second.value_or(-1) > best->runs_per_second.value_or(-1)) best = &s;
  }
  return best;
}

// "- Grows: in-process (leak, +325.0 KiB/run), …" for the strategies `keep` accepts.
void append_group(std::string& out, const Report& report, std::string_view title,
                  const std::function<bool(const StrategyReport&)>& keep,
                  const std::function<std::string(const StrategyReport&)>& detail) {
  std::vector<std::string> names;
  std::size_t total = 0;
  for (const StrategyReport& s : report.strategies) {
    if (!keep(s)) continue;
    if (++total <= kMaxNamesPerLine) names.push_back(label_text(s) + detail(s));
  }
  if (total == 0) return;
  out += fmt::format("- {}: {}", title, fmt::join(names, ", "));
  if (total > names.size()) out += fmt::format(" and {} more", total - names.size());
  out += '\n';
}

void append_answer(std::string& out, const Report& report) {
  // The same pick as report.html's (reports/answer.h), so the two never disagree.
  const StrategyReport* pick = recommended_strategy(report);
  std::string what = "keeps memory stable";
  if (pick != nullptr && !is_flat(*pick)) {
    what = fmt::format("keeps memory bounded ({})", verdict_name(pick->classification.verdict));
  }
  if (pick != nullptr) {
    out += fmt::format("**{}** {}: {}.", label_text(*pick), what, cost_text(*pick));
    const StrategyReport* top = fastest(report, [](const StrategyReport&) { return true; });
    if (top != pick && top->runs_per_second && pick->runs_per_second && *top->runs_per_second > 0) {
      out += fmt::format(" That is {:.2f}× the throughput of the fastest, **{}** ({}).",
                         *pick->runs_per_second / *top->runs_per_second, label_text(*top),
                         verdict_name(top->classification.verdict));
    }
    out += "\n\n";
  } else if (report.strategies.empty()) {
    out += "**No strategy has a record yet.**\n\n";
  } else if (std::all_of(report.strategies.begin(), report.strategies.end(), is_inconclusive)) {
    out += "**No verdict**: too little was measured under every strategy.\n\n";
  } else {
    out += "**No strategy keeps memory stable.**\n\n";
  }
  auto none = [](const StrategyReport&) { return std::string(); };
  append_group(out, report, "Stable", is_flat, none);
  append_group(out, report, "Bounded", is_bounded, [](const StrategyReport& s) {
    return fmt::format(" ({})", verdict_name(s.classification.verdict));
  });
  append_group(out, report, "Grows", is_growing, [](const StrategyReport& s) {
    return fmt::format(" ({}, {}/run)", verdict_name(s.classification.verdict),
                       harness::format_signed_bytes(gated_growth_bytes_per_run(s)));
  });
  append_group(out, report, "Inconclusive", is_inconclusive,
               [](const StrategyReport& s) { return " (" + reason_text(s.classification.reason) + ")"; });
}

void append_table(std::string& out, const Report& report) {
  out += "\n## Strategies\n\n";
  out +=
      "| strategy | allocator | verdict | heap growth/run [95% interval] | RSS growth/run [95% interval] "
      "| peak RSS | peak footprint PSS | runs/s | latency p50 / p99 | failed runs |\n"
      "|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (std::size_t i = 0; i < report.strategies.size() && i < kMaxTableRows; ++i) {
    const StrategyReport& s = report.strategies[i];
    std::string latency =
        s.latency_ms ? ms_text(s.latency_ms->p50) + " / " + ms_text(s.latency_ms->p99) : "–";
    std::string rate = s.runs_per_second ? fmt::format("{:.0f}", *s.runs_per_second) : "–";
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} of {} |\n", name_text(s.strategy),
                       name_text(s.allocator), verdict_name(s.classification.verdict), growth_cell(s.heap),
                       growth_cell(s.rss), bytes_text(s.rss_peak_bytes),
                       bytes_text(s.footprint_pss_peak_bytes), rate, latency, s.failed_runs, s.runs);
  }
  if (report.strategies.size() > kMaxTableRows) {
    out += fmt::format("\n*{} more strategies not shown (report.json has them all).*\n",
                       report.strategies.size() - kMaxTableRows);
  }
}

// Appends up to kMaxListedLines of `lines` as a bullet list, then how many were left out.
void append_bullets(std::string& out, const std::vector<std::string>& lines, std::string_view what) {
  for (std::size_t i = 0; i < lines.size() && i < kMaxListedLines; ++i) out += "- " + lines[i] + '\n';
  if (lines.size() > kMaxListedLines)
    out += fmt::format("- … {} more {} not shown\n", lines.size() - kMaxListedLines, what);
}

void append_budget(std::string& out, const Report& report) {
  if (!report.budget_bytes_per_run) return;
  const std::vector<std::string> violations = budget_violations(report);
  out += fmt::format("\n## Budget gate: {}\n\nBudget: {}/run of growth per strategy. ",
                     violations.empty() ? "passed" : "failed",
                     harness::format_bytes(static_cast<double>(*report.budget_bytes_per_run)));
  if (violations.empty()) {
    out += "Every strategy is within it.\n";
    return;
  }
  out +=
      fmt::format("{} of {} strategies are not within it:\n\n", violations.size(), report.strategies.size());
  std::vector<std::string> lines;
  for (const std::string& v : violations) lines.push_back(reason_text(v));
  append_bullets(out, lines, "violations");
}

void append_notes(std::string& out, const Report& report) {
  std::vector<std::string> notes;
  if (report.interrupted_by_signal) {
    notes.push_back(fmt::format("**Interrupted** by signal {}: the report covers the runs measured so far.",
                                *report.interrupted_by_signal));
  }
  for (const StrategyReport& s : report.strategies) {
    if (s.stopped)
      notes.push_back(fmt::format("{} stopped early: {}", label_text(s), reason_text(*s.stopped)));
    if (s.ended_by) {
      notes.push_back(fmt::format("{}: {} runs, ended by {} (`--iterations auto`, tests at α = {:.2g})",
                                  label_text(s), s.runs, *s.ended_by, s.alpha));
    }
    if (auto unfinished = unfinished_entry(report, s)) {
      notes.push_back(fmt::format("**Did not finish**: {}.", reason_text(*unfinished)));
    } else if (s.runs == 0) {
      notes.push_back(fmt::format("{} recorded no runs.", label_text(s)));
    }
    if (s.digest_mismatches > 0) {
      notes.push_back(fmt::format("{}: {} runs gave a different output from the first strategy's.",
                                  label_text(s), s.digest_mismatches));
    }
  }
  if (report.skipped_artifact_files > 0) {
    notes.push_back(
        fmt::format("artifacts/ holds {} partial or unknown files (a process died writing them?).",
                    report.skipped_artifact_files));
  }
  if (notes.empty()) return;
  out += "\n## Cut short and warnings\n\n";
  append_bullets(out, notes, "notes");
}

// "in f (file.cpp:77)": a frame never starts its line, so a symbol like "+[A b]" or "1. x" cannot
// open a nested list.
std::string frame_text(const SymbolFrame& f) {
  std::string where = f.file.empty() ? name_text(f.module) : fmt::format("{}:{}", name_text(f.file), f.line);
  return fmt::format("in {} ({})", name_text(f.function), where);
}

void append_suspects(std::string& out, const Report& report) {
  if (!report.stacks_sampled) return;
  out += "\n## Top leak suspects\n\n";
  if (report.leak_suspects.empty()) {
    out += "Allocation stacks were sampled; no allocation site grows.\n";
    return;
  }
  std::vector<const LeakSuspect*> order;
  for (const LeakSuspect& l : report.leak_suspects) order.push_back(&l);
  std::stable_sort(order.begin(), order.end(), [](const LeakSuspect* a, const LeakSuspect* b) {
    return a->growth_bytes_per_run > b->growth_bytes_per_run;
  });
  for (std::size_t i = 0; i < order.size() && i < kMaxSuspects; ++i) {
    const LeakSuspect& l = *order[i];
    out += fmt::format("{}. **{}/run** [{}, {}] under {} ({}, {} samples)\n", i + 1,
                       harness::format_signed_bytes(l.growth_bytes_per_run),
                       harness::format_bytes(l.growth_interval.low),
                       harness::format_bytes(l.growth_interval.high),
                       name_text(entry_label(l.strategy, l.allocator)), name_text(l.basis), l.samples);
    for (std::size_t f = 0; f < l.frames.size() && f < kMaxFramesPerSuspect; ++f)
      out += "   - " + frame_text(l.frames[f]) + '\n';
    if (l.frames.size() > kMaxFramesPerSuspect)
      out += fmt::format("   - … {} more frames\n", l.frames.size() - kMaxFramesPerSuspect);
  }
  if (order.size() > kMaxSuspects) {
    out += fmt::format("\n*{} more suspects not shown (report.json has them all).*\n",
                       order.size() - kMaxSuspects);
  }
}

void append_heaptrack(std::string& out, const Report& report) {
  if (!report.heaptrack) return;
  const HeaptrackSummary& h = *report.heaptrack;
  out += "\n## heaptrack\n\n";
  if (h.status != "ok") {
    out += fmt::format("The heaptrack pass did not run to the end: {}{}.\n", name_text(h.status),
                       h.reason ? " (" + reason_text(*h.reason) + ")" : "");
    return;
  }
  out += fmt::format("{} runs left {} live in {} stacks", h.runs,
                     h.leaked_bytes ? harness::format_bytes(static_cast<double>(*h.leaked_bytes)) : "nothing",
                     h.leaking_stacks);
  out += h.data_file ? fmt::format(" (recording: {}).\n", name_text(*h.data_file)) : ".\n";
  if (!h.top_stacks.empty()) out += '\n';
  for (std::size_t i = 0; i < h.top_stacks.size() && i < kMaxHeaptrackStacks; ++i) {
    out +=
        fmt::format("- {} in {}\n", harness::format_bytes(static_cast<double>(h.top_stacks[i].leaked_bytes)),
                    name_text(h.top_stacks[i].function));
  }
  if (h.top_stacks.size() > kMaxHeaptrackStacks)
    out += fmt::format("- … {} more stacks not shown\n", h.top_stacks.size() - kMaxHeaptrackStacks);
}

}  // namespace

std::string md_text(std::string_view text, std::size_t max_code_points) {
  std::string out;
  std::size_t pos = 0;
  for (std::size_t count = 0; pos < text.size(); ++count) {
    if (count == max_code_points) {
      out += "…";
      break;
    }
    const char32_t c = next_code_point(text, pos);
    if (c < 0x20 || c == 0x7F) {
      out += ' ';  // a newline would end a table row or a list item
    } else if (c < 0x80 &&
               std::string_view("\\`*_[]<>|~&$").find(static_cast<char>(c)) != std::string_view::npos) {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      append_utf8(out, c);
    }
  }
  return out;
}

std::string summary_markdown(const Report& report) {
  std::string out = fmt::format("# memsoak: {}\n\n", reason_text(report.scenario));
  append_answer(out, report);
  append_table(out, report);
  append_budget(out, report);
  append_notes(out, report);
  append_suspects(out, report);
  append_heaptrack(out, report);
  out += fmt::format("\nEvery number, and more, is in report.json in {}.\n", name_text(report.run_directory));
  if (out.size() >= kMaxSummaryBytes) {
    // The lists above are capped well below this; the cut is a last guard, made at a line's end.
    const std::size_t keep = out.rfind('\n', kMaxSummaryBytes - 200);
    const std::size_t dropped = out.size() - keep - 1;
    out.resize(keep + 1);
    out += fmt::format("\n*summary.md cut here: {} more bytes not shown (see report.json).*\n", dropped);
  }
  return out;
}

std::unique_ptr<ReportWriter> make_summary_markdown_writer() {
  return make_text_file_writer("summary.md", summary_markdown);
}

}  // namespace memsoak::reports
