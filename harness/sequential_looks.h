// When a soak that stops on its own (--iterations auto, --duration) looks at its data: a schedule
// fixed in advance, so that the error of the whole sequence of looks can be bounded (see
// reports/sequential.h for the test done at each look).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace memsoak::harness {

// Runs done at the first look: a tenth is warm-up, the rest is enough for a first trend.
inline constexpr std::uint64_t kFirstLookRuns = 100;

// Runs done at look k (k = 0, 1, 2, ...): 100, then each look 1.5 times the last, rounded up:
// 100, 150, 225, 338, 507, 761, 1142, 1713, 2570, ... A soak that settles between two looks runs at
// most half as long again as it had to.
std::uint64_t look_runs(std::size_t look);

// The look taken when exactly `runs` are done, if `runs` is on the schedule.
std::optional<std::size_t> look_at(std::uint64_t runs);

// The look whose test a final analysis of `runs` uses: the first look at or after `runs` (a soak
// that ended between two looks, at its ceiling or deadline or because it was killed, spends the
// next look's share of the error).
std::size_t look_covering(std::uint64_t runs);

}  // namespace memsoak::harness
