// Monotonic nanoseconds for latency measurement; no allocation, safe after fork.
#pragma once

#include <time.h>

#include <cstdint>

namespace memsoak::harness::internal {

inline std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace memsoak::harness::internal
