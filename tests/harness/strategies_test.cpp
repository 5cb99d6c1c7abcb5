// Every process strategy with a workload that succeeds, throws, crashes and hangs: each outcome
// says what happened, the strategy goes on, and the digests match across strategies.
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "harness/errors.h"
#include "harness/strategy.h"

namespace memsoak::harness {
namespace {

// Returns run_index * 3 + 1000 * (setups in this process - 1); throws on run 1; aborts on run 2;
// hangs on run 5.
class TroubledWorkload final : public Workload {
 public:
  void setup() override { ++setups_; }
  std::uint64_t run(std::uint64_t i) override {
    if (i == 1) throw std::runtime_error("model file vanished");
    if (i == 2) std::abort();
    if (i == 5) std::this_thread::sleep_for(std::chrono::hours(1));
    return i * 3 + static_cast<std::uint64_t>(setups_ - 1) * 1000;
  }

 private:
  int setups_ = 0;
};

StrategyContext context() {
  StrategyContext c;
  c.workload = WorkloadSource::native([] { return std::make_unique<TroubledWorkload>(); });
  c.run_timeout_ms = 500;
  return c;
}

std::unique_ptr<Strategy> started(const std::string& name) {
  auto strategy = make_strategy(parse_strategy_list(name).front(), context());
  strategy->start();
  return strategy;
}

class ProcessStrategies : public ::testing::TestWithParam<const char*> {};

TEST_P(ProcessStrategies, RunsReportTheirOutputAndSample) {
  auto strategy = started(GetParam());
  for (std::uint64_t i : {0ull, 3ull, 4ull}) {
    RunOutcome outcome = strategy->run(i);
    ASSERT_TRUE(outcome.ok) << outcome.failure;
    EXPECT_EQ(outcome.digest, i * 3) << "set up once per process: the same output everywhere";
    EXPECT_GT(outcome.worker.rss_bytes, 0);
    EXPECT_GT(outcome.latency_ns, 0);
  }
  strategy->stop();
}

TEST_P(ProcessStrategies, AnExceptionIsAFailedRunWithItsMessage) {
  auto strategy = started(GetParam());
  RunOutcome outcome = strategy->run(1);
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.failure, "model file vanished");
  EXPECT_TRUE(strategy->run(3).ok) << "the strategy goes on";
  strategy->stop();
}

TEST_P(ProcessStrategies, ACrashIsAFailedRunNamingTheSignalAndTheNextRunWorks) {
  auto strategy = started(GetParam());
  RunOutcome outcome = strategy->run(2);
  EXPECT_FALSE(outcome.ok);
  EXPECT_NE(outcome.failure.find("signal " + std::to_string(SIGABRT)), std::string::npos) << outcome.failure;
  RunOutcome next = strategy->run(4);
  EXPECT_TRUE(next.ok) << next.failure;
  strategy->stop();
}

TEST_P(ProcessStrategies, AHangIsKilledAtTheRunTimeout) {
  auto strategy = started(GetParam());
  RunOutcome outcome = strategy->run(5);
  EXPECT_FALSE(outcome.ok);
  EXPECT_NE(outcome.failure.find("--run-timeout"), std::string::npos) << outcome.failure;
  EXPECT_LT(outcome.latency_ns, 5'000'000'000);
  EXPECT_TRUE(strategy->run(6).ok);
  strategy->stop();
}

INSTANTIATE_TEST_SUITE_P(Each, ProcessStrategies, ::testing::Values("fork", "zygote", "recycle:3"),
                         [](const auto& param_info) {
                           return std::string(param_info.param) == "recycle:3" ? "recycle" : param_info.param;
                         });

TEST(ZygoteStrategy, ChildrenAreForkedFromATemplateSetUpOnce) {
  auto strategy = started("zygote");
  RunOutcome first = strategy->run(0);
  RunOutcome second = strategy->run(3);
  EXPECT_GE(first.setup_ns, 0);
  EXPECT_EQ(second.setup_ns, 0) << "setup is paid once, by the template";
  EXPECT_EQ(second.digest, 9u) << "the template set up once: every child sees setups_ == 1";
  EXPECT_NE(first.worker_id, second.worker_id);
  strategy->stop();
}

TEST(RecycleStrategy, ReplacesTheWorkerAfterNRuns) {
  auto strategy = started("recycle:2");
  std::vector<std::uint64_t> workers;
  for (std::uint64_t i : {0ull, 3ull, 4ull, 6ull, 7ull}) workers.push_back(strategy->run(i).worker_id);
  EXPECT_EQ(workers, (std::vector<std::uint64_t>{1, 1, 2, 2, 3}));
  strategy->stop();
}

TEST(RecycleStrategy, JitterIsSeededAndBounded) {
  auto spec = parse_strategy_list("recycle:2~3").front();
  EXPECT_EQ(spec.runs_per_worker, 2u);
  EXPECT_EQ(spec.recycle_jitter, 3u);
  auto strategy = make_strategy(spec, context());
  strategy->start();
  std::uint64_t last_worker = 0, runs_in_worker = 0;
  for (std::uint64_t i = 6; i < 40; ++i) {
    RunOutcome outcome = strategy->run(i);
    if (outcome.worker_id != last_worker) runs_in_worker = 0;
    last_worker = outcome.worker_id;
    EXPECT_LE(++runs_in_worker, 5u) << "a worker serves at most N + J runs";
  }
  strategy->stop();
}

TEST(InProcessStrategy, SetsUpOnceAndKeepsState) {
  auto strategy = started("in-process+trim");
  EXPECT_EQ(strategy->run(0).digest, 0u);
  RunOutcome failed = strategy->run(1);
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ(failed.failure, "model file vanished");
  EXPECT_EQ(strategy->run(4).digest, 12u);
  strategy->stop();
}

TEST(ParseStrategyList, RefusesMalformedStrategiesByName) {
  for (const char* bad : {"recycle:", "recycle:0", "recycle:x", "recycle:5~",
                          "recycle-rss:", "recycle-rss:lots", "zygote2", "fork,fork", "", "in-process+"}) {
    try {
      parse_strategy_list(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
  }
  auto specs =
      parse_strategy_list("in-process,in-process+trim,fork,zygote,recycle:100~20,recycle-rss:64MiB,spawn");
  ASSERT_EQ(specs.size(), 7u);
  EXPECT_TRUE(specs[1].trim);
  EXPECT_EQ(specs[5].recycle_rss_bytes, 64u << 20);
}

}  // namespace
}  // namespace memsoak::harness
