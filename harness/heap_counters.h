// Live-heap counters kept by memsoak's counting allocator (harness/tracker/counting_malloc.cpp).
#pragma once

#include <cstdint>

namespace memsoak::harness {

struct HeapCounters {
  std::int64_t live_bytes = 0;   // usable bytes of blocks allocated and not yet freed
  std::int64_t live_blocks = 0;  // number of such blocks
};

// True when the counting allocator is linked into this process (the memsoak executable links
// it; a library user may not). Signal-safe, no allocation.
bool heap_counters_available() noexcept;

// The counters now, or zeros when unavailable. Signal-safe, no allocation, a few ns.
HeapCounters read_heap_counters() noexcept;

}  // namespace memsoak::harness
