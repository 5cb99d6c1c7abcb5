// The terminal summary (see console_summary.h).
#include "reports/console_summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include "harness/units.h"
#include "reports/writer.h"

namespace memsoak::reports {
namespace {

std::string growth_text(const char* what, const std::optional<SeriesGrowth>& g) {
  if (!g) return fmt::format("{} n/a", what);
  return fmt::format("{} {}/run [{}, {}]", what, harness::format_signed_bytes(g->trend.slope),
                     harness::format_bytes(g->trend.ci_low), harness::format_bytes(g->trend.ci_high));
}

}  // namespace

std::string heaptrack_line(const HeaptrackSummary& h) {
  if (h.status != "ok") return fmt::format("  {:<20} {}: {}", "heaptrack", h.status, h.reason.value_or(""));
  if (h.top_stacks.empty())
    return fmt::format("  {:<20} nothing left live after {} runs", "heaptrack", h.runs);
  const HeaptrackStack& top = h.top_stacks.front();
  return fmt::format("  {:<20} top leak {} after {} runs in {}  ({})", "heaptrack",
                     harness::format_bytes(static_cast<double>(top.leaked_bytes)), h.runs, top.function,
                     h.data_file.value_or(""));
}

// "    where: fn (file.cpp:77) +4.0 KiB/run" for the strategy's fastest-growing suspect.
std::optional<std::string> top_suspect_line(const Report& report, const StrategyReport& s) {
  for (const LeakSuspect& l : report.leak_suspects) {
    if (l.strategy != s.strategy || l.allocator != s.allocator || l.frames.empty()) continue;
    // The first frame of the program's own code, past the standard library's containers.
    auto own = std::find_if(l.frames.begin(), l.frames.end(), [](const SymbolFrame& frame) {
      return !frame.function.starts_with("std::") && !frame.function.starts_with("__gnu_cxx::") &&
             !frame.function.starts_with("void std::");
    });
    const SymbolFrame& f = own != l.frames.end() ? *own : l.frames.front();
    std::string where = f.file.empty()
                            ? f.module
                            : fmt::format("{}:{}", std::filesystem::path(f.file).filename().string(), f.line);
    return fmt::format("  {:<20} grows at {} ({}) {}/run", "", f.function, where,
                       harness::format_signed_bytes(l.growth_bytes_per_run));
  }
  return std::nullopt;
}

std::string summary_line(const StrategyReport& s) {
  std::string line = fmt::format("  {:<20} {:<12} {}  {}", entry_label(s.strategy, s.allocator),
                                 verdict_name(s.classification.verdict), growth_text("heap", s.heap),
                                 growth_text("RSS", s.rss));
  if (s.rss_peak_bytes)
    line += fmt::format("  peak {}", harness::format_bytes(static_cast<double>(*s.rss_peak_bytes)));
  if (s.runs_per_second) line += fmt::format("  {:.0f} runs/s", *s.runs_per_second);
  if (s.failed_runs > 0) line += fmt::format("  {} failed", s.failed_runs);
  if (s.digest_mismatches > 0) line += fmt::format("  {} outputs differ", s.digest_mismatches);
  if (s.ended_by) line += fmt::format("  {} runs ({})", harness::format_count(s.runs), *s.ended_by);
  if (!s.finished) line += fmt::format("  did not finish ({} runs)", harness::format_count(s.runs));
  // What would settle it, or what bounds it: the reason says it better than the numbers.
  if (s.classification.verdict == Verdict::kInconclusive || s.classification.verdict == Verdict::kBounded)
    line += fmt::format("\n  {:<20} {}", "", s.classification.reason);
  return line;
}

}  // namespace memsoak::reports

namespace memsoak::reports {
namespace {

// One line per strategy on the terminal; nothing with --quiet.
class ConsoleSummaryWriter final : public ReportWriter {
 public:
  std::string_view name() const override { return "console summary"; }
  void write(const Report& report, const WriterTarget& target) const override {
    if (target.console == nullptr) return;
    for (const auto& s : report.strategies) {
      *target.console << summary_line(s) << '\n';
      if (auto line = top_suspect_line(report, s)) *target.console << *line << '\n';
    }
    if (report.heaptrack) *target.console << heaptrack_line(*report.heaptrack) << '\n';
  }
};

}  // namespace

std::unique_ptr<ReportWriter> make_console_summary_writer() {
  return std::make_unique<ConsoleSummaryWriter>();
}

}  // namespace memsoak::reports
