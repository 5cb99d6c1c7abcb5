// ForkPerRunStrategy with workloads that succeed, throw and crash: each outcome says what happened
// and the parent goes on.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <stdexcept>

#include "harness/strategy.h"

namespace memsoak::harness {
namespace {

// Returns run_index * 3; throws on run 1; aborts on run 2; counts its setups.
class TroubledWorkload final : public Workload {
 public:
  void setup() override { ++setups_; }
  std::uint64_t run(std::uint64_t i) override {
    if (i == 1) throw std::runtime_error("model file vanished");
    if (i == 2) std::abort();
    return i * 3 + static_cast<std::uint64_t>(setups_ - 1) * 1000;
  }

 private:
  int setups_ = 0;
};

std::unique_ptr<Strategy> fork_strategy() {
  auto strategy =
      make_strategy({StrategyKind::kFork, "fork"}, [] { return std::make_unique<TroubledWorkload>(); });
  strategy->start();
  return strategy;
}

TEST(ForkPerRunStrategy, EachRunSetsUpAFreshWorkloadAndReportsItsSample) {
  auto strategy = fork_strategy();
  for (std::uint64_t i : {0ull, 3ull, 4ull}) {
    RunOutcome outcome = strategy->run(i);
    ASSERT_TRUE(outcome.ok) << outcome.failure;
    EXPECT_EQ(outcome.digest, i * 3) << "a fresh process sets up once, so setups_ is 1";
    EXPECT_GT(outcome.worker.rss_bytes, 0);
    EXPECT_GT(outcome.worker_peak_rss_bytes, 0);
    EXPECT_GE(outcome.setup_ns, 0);
    EXPECT_GT(outcome.latency_ns, 0);
  }
  strategy->stop();
}

TEST(ForkPerRunStrategy, AnExceptionInTheChildIsAFailedRunWithItsMessage) {
  RunOutcome outcome = fork_strategy()->run(1);
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.failure, "model file vanished");
}

TEST(ForkPerRunStrategy, ACrashedChildIsAFailedRunNamingTheSignal) {
  RunOutcome outcome = fork_strategy()->run(2);
  EXPECT_FALSE(outcome.ok);
  EXPECT_NE(outcome.failure.find("signal " + std::to_string(SIGABRT)), std::string::npos) << outcome.failure;
}

TEST(InProcessStrategy, SetsUpOnceAndKeepsState) {
  auto strategy = make_strategy({StrategyKind::kInProcess, "in-process"},
                                [] { return std::make_unique<TroubledWorkload>(); });
  strategy->start();
  EXPECT_EQ(strategy->run(0).digest, 0u);
  RunOutcome failed = strategy->run(1);
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ(failed.failure, "model file vanished");
  EXPECT_EQ(strategy->run(4).digest, 12u);
  strategy->stop();
}

}  // namespace
}  // namespace memsoak::harness
