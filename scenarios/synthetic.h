// The synthetic workload: a realistic mix of small and large allocations per run, with leak modes.
#pragma once

#include <cstdint>
#include <string_view>

#include "harness/workload.h"

namespace memsoak::scenarios {

// --leak for the synthetic workload:
//   none                  no leak
//   dropped:SIZE          SIZE bytes per run allocated, written and made unreachable
//   cache:SIZE            SIZE bytes per run kept reachable in a cache that is never pruned
//                         (a logical leak: LeakSanitizer sees nothing wrong)
//   bounded:COUNTxSIZE    an LRU of COUNT entries of SIZE bytes: grows for COUNT runs, then flat
// and, for testing how strategies survive faults, on run K only:
//   crash:K               a segmentation fault
//   hang:K                sleeps for an hour
//   hog:K                 allocates and touches 1 GiB (fails under --child-memory-limit)
struct SyntheticLeak {
  enum class Kind { kNone, kDropped, kCache, kBounded, kCrash, kHang, kHog } kind = Kind::kNone;
  std::uint64_t size_bytes = 0;
  std::uint64_t count = 0;  // bounded: entries; faults: the run index K
};

// Throws InputError naming the text when it is not one of the modes above.
SyntheticLeak parse_synthetic_leak(std::string_view text);

harness::WorkloadFactory make_synthetic_workload(SyntheticLeak leak, std::uint64_t seed);

}  // namespace memsoak::scenarios
