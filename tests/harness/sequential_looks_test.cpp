// The look schedule of --iterations auto: fixed in advance, the same on every machine.
#include "harness/sequential_looks.h"

#include <gtest/gtest.h>

#include <vector>

namespace memsoak::harness {
namespace {

TEST(SequentialLooks, ScheduleGrowsByHalfRoundedUp) {
  std::vector<std::uint64_t> runs;
  for (std::size_t k = 0; k < 5; ++k) runs.push_back(look_runs(k));
  EXPECT_EQ(runs, (std::vector<std::uint64_t>{100, 150, 225, 338, 507}));
  EXPECT_EQ(look_runs(0), kFirstLookRuns);
  // Each look from the one before, in integers: ceil(previous * 3 / 2).
  for (std::size_t k = 1; k < 40; ++k) EXPECT_EQ(look_runs(k), (look_runs(k - 1) * 3 + 1) / 2) << k;
}

TEST(SequentialLooks, LookAtIsOnlyOnTheSchedule) {
  EXPECT_EQ(look_at(100), std::optional<std::size_t>(0));
  EXPECT_EQ(look_at(150), std::optional<std::size_t>(1));
  EXPECT_EQ(look_at(225), std::optional<std::size_t>(2));
  EXPECT_EQ(look_at(338), std::optional<std::size_t>(3));
  EXPECT_EQ(look_at(507), std::optional<std::size_t>(4));
  for (std::uint64_t runs : {0u, 1u, 99u, 101u, 149u, 151u, 224u, 337u, 339u, 506u, 508u}) {
    EXPECT_FALSE(look_at(runs).has_value()) << runs;
  }
}

TEST(SequentialLooks, LookCoveringIsTheFirstLookAtOrAfter) {
  EXPECT_EQ(look_covering(0), 0u);
  EXPECT_EQ(look_covering(1), 0u);
  EXPECT_EQ(look_covering(100), 0u);
  EXPECT_EQ(look_covering(101), 1u);
  EXPECT_EQ(look_covering(150), 1u);
  EXPECT_EQ(look_covering(151), 2u);
  EXPECT_EQ(look_covering(338), 3u);
  EXPECT_EQ(look_covering(339), 4u);
  EXPECT_EQ(look_covering(507), 4u);
  // Every look covers itself, and the runs between it and the one before.
  for (std::size_t k = 1; k < 20; ++k) {
    EXPECT_EQ(look_covering(look_runs(k)), k);
    EXPECT_EQ(look_covering(look_runs(k - 1) + 1), k);
  }
}

TEST(SequentialLooks, HugeCountsDoNotOverflow) {
  EXPECT_EQ(look_runs(1000), UINT64_MAX);
  EXPECT_LT(look_covering(UINT64_MAX - 1), 1000u);
}

}  // namespace
}  // namespace memsoak::harness
