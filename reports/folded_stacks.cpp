// stacks-growth.folded: the leak suspects' growth per run as folded stacks (one line per stack,
// "root;...;leaf BYTES"), which flamegraph.pl, inferno and speedscope read as they are. The first
// frame of every line is the strategy (with its allocator when not glibc), so one flame graph
// compares strategies side by side.
#include <cmath>
#include <string>

#include "harness/json_file.h"
#include "reports/writer.h"

namespace memsoak::reports {
namespace {

// The format's separators are ';' between frames and the last ' ' before the count: a frame
// keeps its spaces (a folded-stack reader splits at the last space only) but not ';' or newlines.
std::string frame_text(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    if (c == ';') c = ',';
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

class FoldedStacksWriter final : public ReportWriter {
 public:
  std::string_view name() const override { return "stacks-growth.folded"; }
  void write(const Report& report, const WriterTarget& target) const override {
    if (!report.stacks_sampled) return;
    std::string text;
    for (const LeakSuspect& l : report.leak_suspects) {
      const auto bytes = static_cast<long long>(std::llround(l.growth_bytes_per_run));
      if (bytes <= 0) continue;
      text += frame_text(entry_label(l.strategy, l.allocator));
      for (auto f = l.frames.rbegin(); f != l.frames.rend(); ++f) text += ';' + frame_text(f->function);
      text += ' ' + std::to_string(bytes) + '\n';
    }
    harness::write_text_file(target.run_dir / "stacks-growth.folded", text);
  }
};

}  // namespace

std::unique_ptr<ReportWriter> make_folded_stacks_writer() { return std::make_unique<FoldedStacksWriter>(); }

}  // namespace memsoak::reports
