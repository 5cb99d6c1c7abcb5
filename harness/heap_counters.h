// Live-heap counters kept by memsoak's counting allocator (harness/tracker/), and how to read them.
#pragma once

#include <cstdint>

namespace memsoak::harness {

struct HeapCounters {
  std::int64_t live_bytes = 0;   // usable bytes of blocks allocated and not yet freed
  std::int64_t live_blocks = 0;  // number of such blocks
};

// True when the counting allocator is linked into this process (the memsoak executable links
// it; a library user may not). Thread-safe, async-signal-safe, no allocation, no system call.
bool heap_counters_available() noexcept;

// The counters now, or zeros when the counting allocator is not linked in. Two loads, and two
// atomic adds when the calling thread has counts to flush: nanoseconds.
//
// Each thread counts into a delta of its own that reaches the process totals every 64 allocator
// calls of that thread, when it passes +-256 KiB, at thread exit, and when that thread calls this
// (harness/tracker/internal/counters.h). So the calling thread's own allocations are counted
// exactly, while another live thread's latest ones may be missing: fewer than 64 blocks and at
// most 256 KiB per thread, an offset that does not accumulate (memsoak reads from the thread that
// ran the workload).
//
// Thread-safe and lock-free; no allocation, no system call. Async-signal-safe: it may be called
// from a signal handler, even one that interrupted this thread while the counting allocator was
// changing the thread's delta (inside malloc, free, operator new... or this function). In that
// case the delta is left as it is and is missing from the result (fewer than 64 blocks, at most
// 256 KiB plus the block being counted) rather than counted twice.
HeapCounters read_heap_counters() noexcept;

}  // namespace memsoak::harness
