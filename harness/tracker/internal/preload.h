// The parts of the tracker that only the preload library (libmemsoak_tracker.so, for external
// workers) has: the anonymous-mapping category and the shared-memory slot (tracker/preload.cpp,
// tracker/mmap_hooks.cpp). memsoak's own processes count the heap alone.
#pragma once

#include <atomic>
#include <cstdint>

namespace memsoak::harness::internal {

// True while the calling thread is inside the next allocator (interpose.cpp): mappings made then
// are the allocator's own, already counted as heap blocks.
bool inside_next_allocator() noexcept;

}  // namespace memsoak::harness::internal
namespace memsoak::harness {
struct TrackerRegion;
}
namespace memsoak::harness::internal {

// Starts allocation-stack sampling in this worker when memsoak's environment asks for it
// (tracker/worker_stacks.cpp). Cold: from the library's constructor.
void start_worker_stacks(memsoak::harness::TrackerRegion* region) noexcept;

// Maps the table of counted mappings (idempotent). Cold: at start-up. False when mmap fails; then
// no mapping is counted.
bool start_mapping_table() noexcept;

// Like set_heap_mirror (internal/counters.h), for the mapping category: sets *bytes and *count to
// the process's totals and adds every later change to them too. Null detaches.
void set_mapping_mirror(std::atomic<std::int64_t>* bytes, std::atomic<std::int64_t>* count) noexcept;

}  // namespace memsoak::harness::internal
