// A one-line progress bar on stderr while a strategy soaks: runs done, runs/s, current RSS.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string_view>

namespace memsoak::harness {

// Redraws at most ten times a second; draws nothing when disabled (not a terminal, --quiet).
// No allocation per update. Not thread-safe.
class ProgressBar {
 public:
  ProgressBar(std::FILE* out, bool enabled) : out_(out), enabled_(enabled) {}
  void begin(std::string_view strategy, std::uint64_t total_runs);
  void update(std::uint64_t done_runs, std::int64_t rss_bytes);
  void end();

  // True when `out` is a terminal: the default for showing progress.
  static bool is_terminal(std::FILE* out);

 private:
  void draw(std::uint64_t done_runs, std::int64_t rss_bytes, std::int64_t now_ns);

  std::FILE* out_;
  bool enabled_;
  char strategy_[32] = {};
  std::uint64_t total_runs_ = 0;
  std::int64_t start_ns_ = 0;
  std::int64_t last_draw_ns_ = 0;
};

}  // namespace memsoak::harness
