// The counting allocator's counters as its interposition layer (tracker/interpose.cpp) feeds them.
#pragma once

#include <atomic>
#include <cstdint>

namespace memsoak::harness::internal {

// Each thread adds its allocations and frees to a delta of its own, and the delta is added to the
// process totals (two atomics) when the thread has made kFlushCalls calls since the last flush,
// when the delta passes +-kFlushBytes, when the thread reads the counters (heap_counters.h) and
// when it exits. So another live thread's unflushed part is under kFlushCalls blocks and at most
// kFlushBytes: an offset that does not accumulate, not a drift.
inline constexpr std::int32_t kFlushCalls = 64;
inline constexpr std::int64_t kFlushBytes = 256 * 1024;

// Called once, when the next allocator has been resolved: creates the pthread key whose
// destructor flushes an exiting thread's delta. pthread_key_create does not allocate in glibc;
// if another libc's did, it would find malloc ready. No-op if the key cannot be created (then an
// exiting thread's unflushed delta is lost).
void start_thread_exit_flush() noexcept;

// Adds one allocation (+usable bytes, +1 block) or free (-usable bytes, -1 block) to the calling
// thread's delta, and flushes the delta when due. The hot path: a few plain stores to thread-local
// storage, two relaxed atomic adds on a flush. noexcept, no allocation, no locks, safe after fork.
void count_heap_change(std::int64_t bytes, std::int64_t blocks) noexcept;

// A second pair of totals that every flush also adds to: the exec tracker's shared-memory slot
// (tracker/preload.cpp). Null (the default, and always in memsoak's own processes) for none.
struct HeapMirror {
  std::atomic<std::int64_t>* bytes;
  std::atomic<std::int64_t>* blocks;
};

// Flushes the calling thread's delta, sets *mirror to the process totals and attaches it (null
// detaches). Call while the process has one thread (start-up, a forked child): another thread's
// flush between the copy and the attach would be missing from the mirror.
void set_heap_mirror(const HeapMirror* mirror) noexcept;

}  // namespace memsoak::harness::internal
