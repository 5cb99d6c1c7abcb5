// The exec tracker's shared region: how the preloaded tracker (libmemsoak_tracker.so, in every
// process of an external worker's tree) tells memsoak its live heap. Format in
// docs/worker-protocol.md ("The exec tracker"). Plain structs and inline functions: both sides
// include this, the tracker without any other part of memsoak.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace memsoak::harness {

inline constexpr char kTrackerMagic[8] = {'M', 'S', 'O', 'A', 'K', 'T', 'R', 'K'};
inline constexpr std::uint32_t kTrackerVersion = 1;
inline constexpr std::uint32_t kTrackerSlots = 255;
inline constexpr const char* kTrackerShmVariable = "MEMSOAK_TRACKER_SHM";

// One process's counters. pid: 0 free, else the process that claimed it (a slot whose process
// died is reused). start_time: the process's start time (field 22 of /proc/PID/stat), 0 while the
// slot is being (re)claimed; with the pid it names one process for the lifetime of the machine.
// exec_id: the address of the process image's AT_RANDOM bytes (getauxval), which a new program
// gets at every exec (the stack is placed anew): a process that exec'd a program without the
// tracker keeps its pid and start time but not this.
struct alignas(64) TrackerSlot {
  std::atomic<std::int32_t> pid;
  std::uint32_t reserved;
  std::atomic<std::uint64_t> start_time;
  std::atomic<std::int64_t> heap_bytes;   // live malloc/new bytes (usable sizes)
  std::atomic<std::int64_t> heap_blocks;  // live malloc/new blocks
  std::atomic<std::int64_t> mmap_bytes;   // live private anonymous mappings made through mmap()
  std::atomic<std::int64_t> mmap_count;   // how many such mappings
  std::atomic<std::uint64_t> exec_id;
  std::uint64_t padding;
};
static_assert(sizeof(TrackerSlot) == 64);
static_assert(std::atomic<std::int64_t>::is_always_lock_free);

struct TrackerRegion {
  char magic[8];
  std::uint32_t version;
  std::uint32_t slot_count;
  std::atomic<std::uint32_t> claims;  // slots claimed, ever (takeovers after exec included)
  std::atomic<std::uint32_t> full;    // processes that found no free slot
  // Written by memsoak after each answer: the index + 1 of the run the worker last answered, and
  // how many runs this worker has answered. The tracker's stack thread (tracker/worker_stacks.cpp)
  // turns them into run boundaries.
  std::atomic<std::uint64_t> last_run_plus_one;
  std::atomic<std::uint64_t> runs_answered;
  // Written by that thread: how many of those answers it has turned into boundaries. memsoak waits
  // for it (briefly) before it stops a worker, so the last epoch is written.
  std::atomic<std::uint64_t> runs_seen;
  // Processes of the tree whose stack thread started sampling (after the first answer they saw):
  // memsoak waits for runs_seen only when there is one.
  std::atomic<std::uint64_t> stack_writers;
  std::uint8_t padding[8];
  TrackerSlot slots[kTrackerSlots];
};
static_assert(sizeof(TrackerRegion) == 64 * (kTrackerSlots + 1));

// AT_RANDOM's value in the bytes of /proc/PID/auxv (pairs of native words), 0 without one.
inline std::uint64_t auxv_random(const unsigned char* bytes, std::size_t size) noexcept {
  constexpr std::uint64_t kAtRandom = 25;
  for (std::size_t i = 0; i + 16 <= size; i += 16) {
    std::uint64_t pair[2];
    __builtin_memcpy(pair, bytes + i, sizeof pair);
    if (pair[0] == kAtRandom) return pair[1];
    if (pair[0] == 0) break;
  }
  return 0;
}

// From the text of /proc/PID/stat: the state letter (field 3) and the start time (field 22).
// False when the text does not have them. No allocation.
inline bool parse_stat_start(const char* text, std::size_t size, char& state,
                             std::uint64_t& start_time) noexcept {
  std::size_t close = size;
  for (std::size_t i = 0; i < size; ++i) {
    if (text[i] == ')') close = i;  // the command name may contain ')': the last one ends it
  }
  if (close + 2 >= size) return false;
  std::size_t i = close + 2;
  state = text[i];
  for (int field = 3; field < 22; ++field) {
    while (i < size && text[i] != ' ') ++i;
    if (i >= size) return false;
    ++i;
  }
  std::uint64_t value = 0;
  bool any = false;
  for (; i < size && text[i] >= '0' && text[i] <= '9'; ++i, any = true) {
    value = value * 10 + static_cast<std::uint64_t>(text[i] - '0');
  }
  start_time = value;
  return any;
}

}  // namespace memsoak::harness
