// run_soak() under --iterations auto, below the CLI: the supervisor asks `settled` at each look of
// harness/sequential_looks.h, the entry process waits for its answer, and an entry ends at a
// settled look, at its ceiling or at its deadline. Also the trim probe of in-process entries.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "harness/run_manifest.h"
#include "harness/runner.h"
#include "harness/sample_file.h"
#include "harness/sequential_looks.h"
#include "tests/sanitizers.h"
#include "tests/scratch_dir.h"

namespace memsoak::harness {
namespace {

// Run i aborts its process when i == kCrashRun, sleeps `sleep_ms`, and returns i * 7.
class PacedWorkload final : public Workload {
 public:
  PacedWorkload(std::uint64_t crash_run, int sleep_ms) : crash_run_(crash_run), sleep_ms_(sleep_ms) {}
  void setup() override {}
  std::uint64_t run(std::uint64_t i) override {
    if (i == crash_run_) std::abort();
    if (sleep_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms_));
    return i * 7;
  }

 private:
  std::uint64_t crash_run_;
  int sleep_ms_;
};

constexpr std::uint64_t kNoCrash = ~std::uint64_t{0};

class AutoSoak : public testing::ScratchDirTest {
 protected:
  AutoSoak() : ScratchDirTest("auto") {}

  SoakResult soak(const char* strategies, std::uint64_t ceiling, const SoakOptions& options,
                  std::uint64_t crash_run = kNoCrash, int sleep_ms = 0,
                  std::optional<std::int64_t> duration_ms = std::nullopt) {
    SoakConfig config;
    config.scenario = "in-test";
    config.workload = "paced";
    config.strategies = parse_strategy_list(strategies);
    config.iterations = ceiling;
    config.iterations_auto = true;
    config.duration_ms = duration_ms;
    config.warmup = ceiling / 10;
    config.stacks.enabled = false;
    auto make = [crash_run, sleep_ms] { return std::make_unique<PacedWorkload>(crash_run, sleep_ms); };
    return run_soak(config, WorkloadSource::native(make), dir_, options);
  }

  // Records of entry `index` in samples.bin, in order.
  std::vector<RunRecord> records_of(std::uint32_t index) const {
    std::vector<RunRecord> out;
    for (const RunRecord& r : read_sample_file(dir_ / "samples.bin"))
      if (r.strategy_index == index) out.push_back(r);
    return out;
  }
};

TEST_F(AutoSoak, AnEntryEndsAtTheLookWhereItsVerdictIsSettled) {
  struct Call {
    std::uint32_t entry;
    std::size_t runs;
  };
  std::vector<Call> calls;
  SoakOptions options;
  options.settled = [&calls](const RunManifest& manifest, std::uint32_t entry,
                             std::span<const RunRecord> records) {
    EXPECT_EQ(manifest.entries.size(), 2u);
    for (std::size_t i = 0; i < records.size(); ++i) {
      EXPECT_EQ(records[i].run_index, i);
      EXPECT_EQ(records[i].strategy_index, entry);
      EXPECT_EQ(records[i].digest, i * 7);
    }
    calls.push_back({entry, records.size()});
    return records.size() == look_runs(1);  // settled at the second look, 150 runs
  };
  soak("in-process,fork", 2000, options);
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0].runs, 100u);
  EXPECT_EQ(calls[1].runs, 150u);
  EXPECT_EQ(calls[3].entry, 1u);
  RunManifest manifest = RunManifest::read(dir_);
  EXPECT_TRUE(manifest.config.iterations_auto);
  for (std::uint32_t i = 0; i < 2; ++i) {
    EXPECT_EQ(manifest.entries[i].stats.completed_runs, 150u) << manifest.entries[i].label();
    EXPECT_EQ(manifest.entries[i].stats.ended_by.value_or("null"), "settled") << manifest.entries[i].label();
    EXPECT_EQ(records_of(i).size(), 150u) << "no run past the settled look";
  }
}

TEST_F(AutoSoak, AnEntryNeverSettledRunsToItsCeilingWithoutWarmupFlags) {
  soak("in-process", 120, SoakOptions{});
  RunManifest manifest = RunManifest::read(dir_);
  EXPECT_EQ(manifest.entries[0].stats.completed_runs, 120u);
  EXPECT_EQ(manifest.entries[0].stats.ended_by.value_or("null"), "max-iterations");
  std::vector<RunRecord> records = records_of(0);
  ASSERT_EQ(records.size(), 120u);
  for (const RunRecord& r : records) EXPECT_EQ(r.flags & kRunWarmup, 0u) << r.run_index;
}

// A run that takes its process down is recorded by the supervisor; it counts toward the look,
// which the supervisor then takes itself, with the lost run's record among the others.
TEST_F(AutoSoak, ALostRunCountsAndTheSupervisorTakesItsLook) {
  std::vector<std::size_t> sizes;
  SoakOptions options;
  options.settled = [&sizes](const RunManifest&, std::uint32_t, std::span<const RunRecord> records) {
    sizes.push_back(records.size());
    EXPECT_NE(records[99].flags & kRunFailed, 0u);
    return records.size() == look_runs(1);
  };
  soak("in-process", 2000, options, /*crash_run=*/99);
  EXPECT_EQ(sizes, (std::vector<std::size_t>{100, 150}));
  RunManifest manifest = RunManifest::read(dir_);
  EXPECT_EQ(manifest.entries[0].stats.completed_runs, 150u);
  EXPECT_EQ(manifest.entries[0].stats.failed_runs, 1u);
  EXPECT_EQ(manifest.entries[0].stats.ended_by.value_or("null"), "settled");
  EXPECT_EQ(records_of(0).size(), 150u);
}

// A test that fails at a look stops the entry like a settled one, then fails the soak as a harness
// error once the entry's process has ended.
TEST_F(AutoSoak, ALookThatThrowsFailsTheSoak) {
  SoakOptions options;
  options.settled = [](const RunManifest&, std::uint32_t, std::span<const RunRecord>) -> bool {
    throw std::runtime_error("the test at the look failed");
  };
  EXPECT_THROW(soak("in-process", 2000, options), std::runtime_error);
  EXPECT_EQ(records_of(0).size(), 100u);
}

TEST_F(AutoSoak, DurationIsSharedAmongEntriesAndEndsThem) {
  const auto t0 = std::chrono::steady_clock::now();
  soak("in-process,fork", 1'000'000, SoakOptions{}, kNoCrash, /*sleep_ms=*/5, /*duration_ms=*/1000);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 10.0);
  RunManifest manifest = RunManifest::read(dir_);
  EXPECT_EQ(manifest.config.duration_ms, std::optional<std::int64_t>(1000));
  for (const ManifestEntry& e : manifest.entries) {
    EXPECT_EQ(e.stats.ended_by.value_or("null"), "duration") << e.label();
    EXPECT_GT(e.stats.completed_runs, 0u) << e.label();
    EXPECT_LT(e.stats.completed_runs, 200u) << e.label() << ": about half a second of 5 ms runs";
  }
}

TEST_F(AutoSoak, InProcessEntriesUnderGlibcReportATrimProbeOthersNone) {
  if (memsoak::testing::kSanitizerOwnsMalloc) GTEST_SKIP() << memsoak::testing::kNoGlibcHeapUnderSanitizer;
  SoakConfig config;
  config.scenario = "in-test";
  config.workload = "paced";
  config.strategies = parse_strategy_list("in-process,in-process+trim,fork");
  config.iterations = 5;
  config.warmup = 0;
  config.stacks.enabled = false;
  run_soak(config, WorkloadSource::native([] { return std::make_unique<PacedWorkload>(kNoCrash, 0); }), dir_,
           SoakOptions{});
  RunManifest manifest = RunManifest::read(dir_);
  for (std::size_t i = 0; i < 2; ++i) {
    const EntryStats& stats = manifest.entries[i].stats;
    ASSERT_TRUE(stats.trim_rss_before_bytes.has_value()) << manifest.entries[i].label();
    ASSERT_TRUE(stats.trim_rss_after_bytes.has_value());
    EXPECT_GT(*stats.trim_rss_before_bytes, 0);
    EXPECT_LE(*stats.trim_rss_after_bytes, *stats.trim_rss_before_bytes);
    EXPECT_FALSE(stats.ended_by.has_value()) << "a fixed-length soak has no ended_by";
  }
  EXPECT_FALSE(manifest.entries[2].stats.trim_rss_before_bytes.has_value()) << "fork: no probe";
}

}  // namespace
}  // namespace memsoak::harness
