// The preload library's start-up: finds memsoak's shared region (MEMSOAK_TRACKER_SHM), claims a
// slot for this process and publishes the heap and mapping counters there (harness/tracker_shm.h,
// docs/worker-protocol.md "The exec tracker").
//
// A process claims a slot when the library is loaded (a constructor: at start-up, also after
// exec, where the slot of the same pid is taken over) and again in the child after fork
// (pthread_atfork, registered at start-up), before the child's first flush can reach its parent's
// slot. A slot whose process is gone (kill(pid, 0) fails with ESRCH) is reused when no slot is
// free. Without the variable, or with a region that is not memsoak's, nothing is published: the
// library then only counts, as in memsoak's own processes.
#include "harness/tracker/internal/preload.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>  // getenv
#include <cstring>

#include "harness/tracker/internal/counters.h"
#include "harness/tracker_shm.h"

namespace memsoak::harness::internal {
namespace {

TrackerRegion* g_region = nullptr;
HeapMirror g_heap_mirror{nullptr, nullptr};

std::uint64_t own_start_time() noexcept {
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[1024];
  ssize_t n = read(fd, text, sizeof text);
  close(fd);
  char state = 0;
  std::uint64_t start = 0;
  if (n <= 0 || !parse_stat_start(text, static_cast<std::size_t>(n), state, start)) return 0;
  return start;
}

bool process_gone(std::int32_t pid) noexcept { return kill(pid, 0) < 0 && errno == ESRCH; }

// The slot this process takes: its own (after exec), a free one, or a dead process's.
TrackerSlot* find_slot(std::int32_t pid) noexcept {
  TrackerSlot* slots = g_region->slots;
  for (std::uint32_t i = 0; i < kTrackerSlots; ++i) {
    if (slots[i].pid.load(std::memory_order_acquire) == pid) return &slots[i];
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (std::uint32_t i = 0; i < kTrackerSlots; ++i) {
      std::int32_t owner = slots[i].pid.load(std::memory_order_acquire);
      if (owner == 0 || (pass == 1 && owner > 0 && process_gone(owner))) {
        if (slots[i].pid.compare_exchange_strong(owner, pid, std::memory_order_acq_rel)) return &slots[i];
      }
    }
  }
  return nullptr;
}

// Detaches from any slot (after fork: the parent's), then claims this process's own.
void claim_slot() noexcept {
  set_heap_mirror(nullptr);
  set_mapping_mirror(nullptr, nullptr);
  g_heap_mirror = HeapMirror{nullptr, nullptr};
  if (g_region == nullptr) return;
  const int saved = errno;
  const auto pid = static_cast<std::int32_t>(getpid());
  TrackerSlot* slot = find_slot(pid);
  if (slot == nullptr) {
    g_region->full.fetch_add(1, std::memory_order_relaxed);
    errno = saved;
    return;
  }
  // Readers match pid and start time; 0 marks the counters as not yet this process's.
  slot->start_time.store(0, std::memory_order_release);
  g_heap_mirror = HeapMirror{&slot->heap_bytes, &slot->heap_blocks};
  set_heap_mirror(&g_heap_mirror);
  set_mapping_mirror(&slot->mmap_bytes, &slot->mmap_count);
  slot->exec_id.store(getauxval(AT_RANDOM), std::memory_order_relaxed);
  slot->start_time.store(own_start_time(), std::memory_order_release);
  g_region->claims.fetch_add(1, std::memory_order_relaxed);
  errno = saved;
}

void after_fork_in_child() noexcept { claim_slot(); }

TrackerRegion* open_region() noexcept {
  const char* path = getenv(kTrackerShmVariable);
  if (path == nullptr || *path == '\0') return nullptr;
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st {};
  void* mapped = MAP_FAILED;
  if (fstat(fd, &st) == 0 && static_cast<std::size_t>(st.st_size) >= sizeof(TrackerRegion)) {
    // The raw call: the region is not the program's memory, so not counted.
    long rc = syscall(SYS_mmap, nullptr, sizeof(TrackerRegion), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (rc != -1) mapped = reinterpret_cast<void*>(rc);
  }
  close(fd);
  if (mapped == MAP_FAILED) return nullptr;
  auto* region = static_cast<TrackerRegion*>(mapped);
  if (std::memcmp(region->magic, kTrackerMagic, sizeof kTrackerMagic) != 0 ||
      region->version != kTrackerVersion || region->slot_count != kTrackerSlots) {
    syscall(SYS_munmap, mapped, sizeof(TrackerRegion));
    return nullptr;
  }
  return region;
}

__attribute__((constructor(101))) void start_tracker() noexcept {
  start_mapping_table();
  g_region = open_region();
  if (g_region == nullptr) return;
  claim_slot();
  pthread_atfork(nullptr, nullptr, after_fork_in_child);
  start_worker_stacks(g_region);
}

}  // namespace
}  // namespace memsoak::harness::internal

// Tells whether this process publishes to a slot (for tests and debugging).
extern "C" int memsoak_tracker_publishing() noexcept {
  return memsoak::harness::internal::g_heap_mirror.bytes != nullptr ? 1 : 0;
}
