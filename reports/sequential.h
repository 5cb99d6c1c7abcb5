// Stopping a strategy as soon as its verdict is settled (--iterations auto, --duration), without
// making the verdict less trustworthy than a fixed-length soak's.
//
// The method is a group-sequential test with alpha spending. The looks are fixed in advance
// (harness/sequential_looks.h: after 100, 150, 225, ... runs). Look k tests at level
//   alpha_k = alpha * 6 / (pi^2 (k + 1)^2),   alpha = kSequentialAlpha,
// and the alpha_k sum to alpha, so by the union bound the chance that any look of the sequence
// calls growth where there is none is at most alpha, however the stopping turns out. The same
// holds for the other error (calling a strategy stable although it grows faster than the goal
// rate): each look spends its share of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "harness/run_manifest.h"
#include "harness/sample.h"

namespace memsoak::reports {

// The total error spent over every look of a soak.
inline constexpr double kSequentialAlpha = 0.01;

// Growth of any kind (leak, retention, plateau, bounded) is not settled before this many runs: a
// cache that fills for a thousand runs is growth at every look until it stops, so a soak that
// stopped at the first significant rise would call it a leak where the fixed 2,000-run soak sees it
// level off; and a small leak between its page steps looks like a plateau. Stability is settled at
// any look.
inline constexpr std::uint64_t kMinRunsToSettleGrowth = 1500;

// alpha_k of look k.
double look_alpha(std::size_t look);

struct LookDecision {
  bool settled = false;
  std::string why;  // the verdict and its reason when settled; what is missing when not
};

// Called at each look with every record of entry `entry_index` so far (failed runs included):
// whether its verdict is settled at that look's level.
LookDecision decide_at_look(const harness::RunManifest& manifest, std::uint32_t entry_index,
                            std::span<const harness::RunRecord> records);

}  // namespace memsoak::reports
