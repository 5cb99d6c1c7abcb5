// memsoak's side of the exec tracker: the shared region a worker's preloaded tracker
// (libmemsoak_tracker.so) publishes its live heap in, and where that library is.
// Format: harness/tracker_shm.h; what the worker sees: docs/worker-protocol.md ("The exec tracker").
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "harness/tracker_shm.h"

namespace memsoak::harness {

inline constexpr const char* kTrackerLibraryName = "libmemsoak_tracker.so";

// The preload library: next to the running memsoak executable (the build tree puts it in the same
// folder, build/tools/), else where this build put it (an absolute path recorded at build time).
// nullopt when neither exists.
std::optional<std::filesystem::path> find_tracker_library();

// What a worker's tree published after a run.
struct TrackerReading {
  std::int64_t heap_bytes = 0;  // malloc/new
  std::int64_t heap_blocks = 0;
  std::int64_t mmap_bytes = 0;  // private anonymous mappings
  std::int64_t mmap_count = 0;
  std::uint32_t reporting = 0;  // live processes of the tree with a slot
  std::uint32_t silent = 0;     // live processes of the tree without one (static, or no preload)
  bool complete() const noexcept { return reporting > 0 && silent == 0; }
};

// One worker's region: an anonymous memory file (memfd) of memsoak's process, mapped shared. The
// worker opens it by the path /proc/<memsoak's pid>/fd/<n> (in MEMSOAK_TRACKER_SHM), so nothing is
// ever left on disk and the region goes when the last process closes or unmaps it. Not copyable.
class TrackerRegionOwner {
 public:
  TrackerRegionOwner();  // throws std::system_error when memfd_create, ftruncate or mmap fail
  ~TrackerRegionOwner();
  TrackerRegionOwner(const TrackerRegionOwner&) = delete;
  TrackerRegionOwner& operator=(const TrackerRegionOwner&) = delete;

  const std::string& path() const noexcept { return path_; }
  // Tells the worker's tracker that run `run_index` was answered (its stack epochs follow runs).
  void note_run_answered(std::uint64_t run_index) noexcept;
  // Waits up to `timeout_ms` for the worker's stack thread to acknowledge every answer; false on
  // timeout (a worker without stack sampling never acknowledges: do not call it then).
  bool await_runs_seen(std::int64_t timeout_ms) const noexcept;
  // Whether some process of the worker's tree samples stacks (and so acknowledges answers).
  bool has_stack_writers() const noexcept;

  // Sums the slots of `root` and its live descendants (zombies and processes that exited do not
  // count; a slot must match the pid, the process's start time and its program's AT_RANDOM, so a
  // process that exec'd a program without the tracker does not count either). Allocates.
  TrackerReading read(pid_t root) const;

 private:
  int fd_ = -1;
  TrackerRegion* region_ = nullptr;
  std::string path_;
};

}  // namespace memsoak::harness
