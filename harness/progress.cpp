// ProgressBar (see progress.h).
#include "harness/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "harness/internal/clock.h"

namespace memsoak::harness {

bool ProgressBar::is_terminal(std::FILE* out) { return ::isatty(::fileno(out)) == 1; }

void ProgressBar::begin(std::string_view strategy, std::uint64_t total_runs) {
  std::size_t n = std::min(strategy.size(), sizeof strategy_ - 1);
  std::memcpy(strategy_, strategy.data(), n);
  strategy_[n] = '\0';
  total_runs_ = total_runs;
  start_ns_ = internal::monotonic_ns();
  last_draw_ns_ = 0;
}

void ProgressBar::update(std::uint64_t done_runs, std::int64_t rss_bytes) {
  if (!enabled_) return;
  std::int64_t now = internal::monotonic_ns();
  if (now - last_draw_ns_ < 100'000'000 && done_runs != total_runs_) return;
  last_draw_ns_ = now;
  draw(done_runs, rss_bytes, now);
}

void ProgressBar::draw(std::uint64_t done_runs, std::int64_t rss_bytes, std::int64_t now_ns) {
  constexpr int kWidth = 24;
  double fraction = total_runs_ ? static_cast<double>(done_runs) / static_cast<double>(total_runs_) : 1.0;
  char bar[kWidth + 1];
  int filled = static_cast<int>(fraction * kWidth);
  for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '.';
  bar[kWidth] = '\0';
  double seconds = static_cast<double>(now_ns - start_ns_) / 1e9;
  double rate = seconds > 0 ? static_cast<double>(done_runs) / seconds : 0.0;
  std::fprintf(out_, "\r\033[K  %-12s [%s] %6llu/%llu  %7.0f runs/s  RSS %7.1f MiB", strategy_, bar,
               static_cast<unsigned long long>(done_runs), static_cast<unsigned long long>(total_runs_), rate,
               static_cast<double>(rss_bytes) / (1024.0 * 1024.0));
  std::fflush(out_);
}

void ProgressBar::end() {
  if (!enabled_) return;
  std::fprintf(out_, "\r\033[K");
  std::fflush(out_);
}

}  // namespace memsoak::harness
