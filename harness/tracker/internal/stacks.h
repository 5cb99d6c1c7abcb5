// Allocation stacks sampled by bytes: the tracker's tables and what its interposition layer calls.
//
// Sampling is a Poisson process over allocated bytes with mean M: each thread counts down a
// distance drawn from an exponential distribution, and the allocation that crosses it is sampled
// with weight size / (1 - exp(-size / M)), the inverse of its chance of being sampled, so the sum
// of the weights of a stack's live samples is an unbiased estimate of its live bytes. M = 0
// records every allocation with weight = size.
//
// Tables (mmap'd when sampling is configured, never malloc'd): stack records, interned by a hash
// of their frames, and the sampled pointers (address -> stack, weight, run generation). Both are
// lock-free (compare-and-swap on one word), so a forked child never inherits a held lock, and
// bounded: a sample that finds a table full is dropped and counted.
//
// Run generations: a process that lives for one run (a fork or zygote child, a spawned run)
// calls stack_run_begin() before the run, and its records then also count, per stack, the bytes
// allocated during that run and still live: what the run would have leaked in-process.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace memsoak::harness::internal::stacks {

inline constexpr std::uint32_t kMaxDepth = 64;
inline constexpr std::uint32_t kStackCapacity = 16384;
inline constexpr std::uint32_t kStackIndexSlots = 32768;  // power of two, twice the capacity
// The pointer table is mapped resident from the start (6 MiB): pages touched as samples spread
// over the heap would otherwise show up as RSS growth of the very process being measured.
inline constexpr std::uint32_t kPointerSlots = 1u << 18;  // power of two
inline constexpr std::uint32_t kPointerProbes = 16;  // a pointer lives within this many slots of its home
inline constexpr std::uint32_t kNoStack = 0xffffffffu;

struct StackRecord {
  std::atomic<std::uint32_t> state;  // 0: being filled, 1: published, 2: abandoned (lost a race)
  std::uint32_t depth;
  std::uint64_t hash;
  std::atomic<std::int64_t> live_bytes;  // weighted: estimated live bytes of this stack
  std::atomic<std::int64_t> live_blocks_x256;
  std::atomic<std::int64_t> run_bytes;  // of those, allocated during the current run (one-run processes)
  std::atomic<std::int64_t> run_blocks_x256;
  std::atomic<std::uint64_t> samples;  // samples ever taken here
  void* frames[kMaxDepth];
};

// The process's tables; null until configure_tables(). Readers use acquire loads.
struct Tables {
  StackRecord* records;
  std::atomic<std::uint32_t>* index;  // record index + 1, 0 when empty
  std::atomic<std::uint32_t> record_count;
  struct PointerSlot {
    std::atomic<std::uintptr_t> key;  // 0 empty, 1 tombstone
    std::int64_t weight;
    std::uint32_t stack;
    std::uint32_t generation;
  } * pointers;
  std::atomic<std::uint64_t> dropped;  // samples lost to a full table or a failed unwind
};

// Null until sampling was configured in this process (or its parent before fork).
Tables* tables() noexcept;

// Maps the tables (idempotent). Cold: not from a hook. False when mmap fails.
bool configure_tables() noexcept;

// Sampling parameters, process-wide. mean_bytes: 0 = every allocation. depth: frames kept.
void set_sampling(bool enabled, std::uint64_t mean_bytes, std::uint32_t depth) noexcept;
bool sampling_enabled() noexcept;
std::uint64_t sampling_mean() noexcept;

// The sampling plan's number: set_sampling() changes it, and each thread compares it with the
// number its countdown was drawn under on every allocation.
extern std::atomic<std::uint32_t> g_sampling_epoch;

// Called by the interposition layer when a thread's countdown (bytes until its next sample)
// reached zero or below with the allocation `ptr` of `usable` bytes, or when the thread's plan
// number `thread_epoch` is not g_sampling_epoch (a new thread, a new mean: the countdown is then
// drawn afresh, and nothing is sampled unless every allocation is). Decides the weight, records
// the sample, and sets the countdown to the distance to the next one. noexcept, no allocation,
// no lock; recursion-safe (allocations made by the unwinder are never sampled).
void on_countdown(void* ptr, std::size_t usable, std::int64_t& countdown,
                  std::uint32_t& thread_epoch) noexcept;

// Called for every block of `usable` bytes about to be freed while tables() is set: forgets it
// if it was sampled.
void on_free(void* ptr, std::size_t usable) noexcept;

// The current run generation, and starting a new one: clears every record's run columns.
void begin_run_generation() noexcept;

// Defined by the interposition layer: sets the calling thread's countdown.
void set_countdown(std::int64_t bytes) noexcept;

// Gives the calling thread a fresh random state and countdown: a forked child must not repeat
// its parent's (or its siblings') sampling decisions.
void reseed_thread() noexcept;

}  // namespace memsoak::harness::internal::stacks
