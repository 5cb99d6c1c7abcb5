// How memsoak re-executes itself: the command lines of an entry process (`_entry`) and of one
// spawned run (`_run`), with the descriptor numbers they inherit. The harness builds them with
// to_argv(); tools/ parses them back with parse(). One definition, so the two sides cannot drift.
//
// Both re-execute /proc/self/exe, not a path: the process runs the very binary that launched the
// soak even when the file on disk is rebuilt meanwhile, so the structs on the pipes always match.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace memsoak::harness {

inline constexpr const char* kSelfExecutable = "/proc/self/exe";

// An entry (strategy x allocator) run in a freshly executed memsoak: needed when the allocator
// is not glibc's, since LD_PRELOAD and MALLOC_ARENA_MAX act only when a program starts.
//   memsoak _entry DIR --entry I --first-run R --failures-before F [--deadline-ns T] [--progress]
// It writes its EntryResult to kResultFd and its heartbeats to kHeartbeatFd, and under
// --iterations auto reads the supervisor's answers at looks from kControlFd.
struct EntryInvocation {
  static constexpr const char* kCommand = "_entry";
  static constexpr int kResultFd = 3;
  static constexpr int kHeartbeatFd = 4;
  static constexpr int kControlFd = 5;

  std::filesystem::path run_dir;
  std::uint32_t entry_index = 0;
  std::uint64_t first_run = 0;
  std::uint64_t failures_before = 0;  // failed runs of earlier processes of the entry
  bool show_progress = false;
  // --duration: the entry's deadline, CLOCK_MONOTONIC in ns (one clock for every process of the
  // machine); 0: none.
  std::int64_t deadline_ns = 0;

  std::vector<std::string> to_argv() const;
  // `args` are the words after the command. Throws InputError naming a missing or bad word.
  static EntryInvocation parse(std::span<const std::string> args);
};

// One run of the spawn strategy in a fresh executable:
//   memsoak _run DIR --entry I --run R
// It writes its ChildReport to kResultFd.
struct SpawnInvocation {
  static constexpr const char* kCommand = "_run";
  static constexpr int kResultFd = 3;

  std::filesystem::path run_dir;
  std::uint32_t entry_index = 0;
  std::uint64_t run_index = 0;

  std::vector<std::string> to_argv() const;
  static SpawnInvocation parse(std::span<const std::string> args);
};

}  // namespace memsoak::harness
