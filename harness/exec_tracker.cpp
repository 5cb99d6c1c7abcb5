// memsoak's side of the exec tracker (see exec_tracker.h).
#include "harness/exec_tracker.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <system_error>
#include <utility>
#include <vector>

#include "harness/process_tree.h"

namespace memsoak::harness {
namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

struct LiveProcess {
  pid_t pid;
  std::uint64_t start_time;
  std::uint64_t exec_id;
};

// AT_RANDOM of the program `pid` runs now (see TrackerSlot::exec_id); 0 when unreadable.
std::uint64_t read_exec_id(pid_t pid) {
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%d/auxv", static_cast<int>(pid));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  unsigned char bytes[1024];
  ssize_t n = ::read(fd, bytes, sizeof bytes);
  ::close(fd);
  return n > 0 ? auxv_random(bytes, static_cast<std::size_t>(n)) : 0;
}

// False for a process that is gone or a zombie.
bool read_live_process(pid_t pid, LiveProcess& out) {
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char text[1024];
  ssize_t n = ::read(fd, text, sizeof text);
  ::close(fd);
  char state = 0;
  std::uint64_t start = 0;
  if (n <= 0 || !parse_stat_start(text, static_cast<std::size_t>(n), state, start)) return false;
  if (state == 'Z' || state == 'X') return false;
  out = {pid, start, read_exec_id(pid)};
  return true;
}

}  // namespace

std::optional<std::filesystem::path> find_tracker_library() {
  std::error_code error;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    std::filesystem::path beside = self.parent_path() / kTrackerLibraryName;
    if (std::filesystem::is_regular_file(beside, error)) return beside;
  }
#ifdef MEMSOAK_TRACKER_BUILD_PATH
  std::filesystem::path built = MEMSOAK_TRACKER_BUILD_PATH;
  if (std::filesystem::is_regular_file(built, error)) return built;
#endif
  return std::nullopt;
}

TrackerRegionOwner::TrackerRegionOwner() {
  fd_ = ::memfd_create("memsoak-tracker", MFD_CLOEXEC);
  if (fd_ < 0) throw_errno("memfd_create");
  if (::ftruncate(fd_, static_cast<off_t>(sizeof(TrackerRegion))) != 0) {
    ::close(fd_);
    throw_errno("ftruncate");
  }
  void* mapped = ::mmap(nullptr, sizeof(TrackerRegion), PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (mapped == MAP_FAILED) {
    ::close(fd_);
    throw_errno("mmap");
  }
  region_ = new (mapped) TrackerRegion{};  // a fresh memfd is zeroed; this sets the header
  std::memcpy(region_->magic, kTrackerMagic, sizeof kTrackerMagic);
  region_->version = kTrackerVersion;
  region_->slot_count = kTrackerSlots;
  path_ = "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd_);
}

TrackerRegionOwner::~TrackerRegionOwner() {
  ::munmap(region_, sizeof(TrackerRegion));
  ::close(fd_);
}

void TrackerRegionOwner::note_run_answered(std::uint64_t run_index) noexcept {
  region_->last_run_plus_one.store(run_index + 1, std::memory_order_relaxed);
  region_->runs_answered.fetch_add(1, std::memory_order_release);
}

bool TrackerRegionOwner::has_stack_writers() const noexcept {
  return region_->stack_writers.load(std::memory_order_acquire) > 0;
}

bool TrackerRegionOwner::await_runs_seen(std::int64_t timeout_ms) const noexcept {
  for (std::int64_t waited = 0;; waited += 1) {
    if (region_->runs_seen.load(std::memory_order_acquire) >=
        region_->runs_answered.load(std::memory_order_relaxed))
      return true;
    if (waited >= timeout_ms) return false;
    timespec pause{0, 1'000'000};
    nanosleep(&pause, nullptr);
  }
}

TrackerReading TrackerRegionOwner::read(pid_t root) const {
  std::vector<LiveProcess> live;
  LiveProcess one{};
  if (read_live_process(root, one)) live.push_back(one);
  for (pid_t pid : list_descendants(root)) {
    if (read_live_process(pid, one)) live.push_back(one);
  }
  TrackerReading reading;
  for (const LiveProcess& process : live) {
    bool found = false;
    for (const TrackerSlot& slot : region_->slots) {
      if (slot.pid.load(std::memory_order_acquire) != process.pid) continue;
      if (slot.start_time.load(std::memory_order_acquire) != process.start_time) continue;
      if (slot.exec_id.load(std::memory_order_relaxed) != process.exec_id) continue;  // exec'd since
      reading.heap_bytes += slot.heap_bytes.load(std::memory_order_relaxed);
      reading.heap_blocks += slot.heap_blocks.load(std::memory_order_relaxed);
      reading.mmap_bytes += slot.mmap_bytes.load(std::memory_order_relaxed);
      reading.mmap_count += slot.mmap_count.load(std::memory_order_relaxed);
      found = true;
      break;
    }
    ++(found ? reading.reporting : reading.silent);
  }
  return reading;
}

}  // namespace memsoak::harness
