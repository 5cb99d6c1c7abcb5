// Reads the counting allocator's counters when it is linked in (see heap_counters.h).
#include "harness/heap_counters.h"

extern "C" int memsoak_heap_counters(std::int64_t* live_bytes, std::int64_t* live_blocks) noexcept
    __attribute__((weak));

namespace memsoak::harness {

bool heap_counters_available() noexcept { return &memsoak_heap_counters != nullptr; }

HeapCounters read_heap_counters() noexcept {
  HeapCounters counters;
  if (heap_counters_available()) memsoak_heap_counters(&counters.live_bytes, &counters.live_blocks);
  return counters;
}

}  // namespace memsoak::harness
