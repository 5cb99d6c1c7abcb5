// run_soak() below the CLI: in-test workloads that succeed, crash, hang, fail, stop the soak and
// leave artifacts, under the supervisor of this test process (no memsoak executable involved).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness/artifacts.h"
#include "harness/run_manifest.h"
#include "harness/runner.h"
#include "harness/sample_file.h"
#include "harness/stop_signals.h"
#include "tests/harness/descriptors.h"
#include "tests/sanitizers.h"
#include "tests/scratch_dir.h"

namespace memsoak::harness {
namespace {
namespace fs = std::filesystem;

// What a run of the in-test workload does.
enum class Act { kOk, kAbort, kHang, kThrow, kStopSoak, kArtifact, kCountRunLogDescriptors };

// Descriptors of this process open on a file named run.log.
std::uint64_t run_log_descriptors() {
  std::uint64_t count = 0;
  for (const auto& fd : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (fs::read_symlink(fd.path(), ec).filename() == "run.log") ++count;
  }
  return count;
}

class ScriptedWorkload final : public Workload {
 public:
  explicit ScriptedWorkload(Act (*script)(std::uint64_t)) : script_(script) {}
  void setup() override {}
  std::uint64_t run(std::uint64_t i) override {
    switch (script_(i)) {
      case Act::kOk:
        break;
      case Act::kAbort:
        std::abort();
      case Act::kHang:
        std::this_thread::sleep_for(std::chrono::hours(1));
        break;
      case Act::kThrow:
        throw std::runtime_error("scripted failure of run " + std::to_string(i));
      case Act::kStopSoak:
        ::kill(::getppid(), SIGTERM);  // the entry process's parent is the supervisor (this test)
        std::this_thread::sleep_for(std::chrono::hours(1));
        break;
      case Act::kCountRunLogDescriptors:
        return run_log_descriptors();
      case Act::kArtifact: {
        ArtifactWriter writer;
        std::string payload = "run " + std::to_string(i);
        if (!writer.open("test") || !writer.append(payload.data(), payload.size()) || !writer.commit()) {
          throw std::runtime_error("artifact not written");
        }
        break;
      }
    }
    return i * 7;
  }

 private:
  Act (*script_)(std::uint64_t);
};

// Commits one artifact in setup and none in its runs.
class SetupArtifactWorkload final : public Workload {
 public:
  void setup() override {
    ArtifactWriter writer;
    if (!writer.open("setup") || !writer.commit()) throw std::runtime_error("artifact not written");
  }
  std::uint64_t run(std::uint64_t i) override { return i * 7; }
};

// Commits one artifact in setup, then fails it.
class FailingSetupWorkload final : public Workload {
 public:
  void setup() override {
    ArtifactWriter writer;
    if (!writer.open("setup") || !writer.commit()) throw std::runtime_error("artifact not written");
    throw std::runtime_error("setup failed after its artifact");
  }
  std::uint64_t run(std::uint64_t i) override { return i; }
};

// Its setup leaves this process one free descriptor, so that what comes after setup in a worker
// (opening its /proc sampler) fails.
class DescriptorHogWorkload final : public Workload {
 public:
  void setup() override {
    int fd;
    while ((fd = ::open("/dev/null", O_RDONLY)) >= 0) last_ = fd;
    if (last_ >= 0) ::close(last_);
  }
  std::uint64_t run(std::uint64_t i) override { return i; }

 private:
  int last_ = -1;
};

class SoakSupervisor : public testing::ScratchDirTest {
 protected:
  SoakSupervisor() : ScratchDirTest("supervisor") {}

  // Runs `strategies` for `iterations` runs each of the workload `make` builds.
  SoakResult soak_workload(const char* strategies, std::uint64_t iterations, WorkloadFactory make,
                           SoakConfig config = {}) {
    config.scenario = "in-test";
    config.workload = "scripted";
    config.strategies = parse_strategy_list(strategies);
    config.iterations = iterations;
    config.warmup = 0;
    return run_soak(config, WorkloadSource::native(std::move(make)), dir_, SoakOptions{});
  }
  SoakResult soak(const char* strategies, std::uint64_t iterations, Act (*script)(std::uint64_t),
                  SoakConfig config = {}) {
    return soak_workload(
        strategies, iterations, [script] { return std::make_unique<ScriptedWorkload>(script); }, config);
  }
  template <typename W>
  SoakResult soak_a(const char* strategies, std::uint64_t iterations) {
    return soak_workload(strategies, iterations, [] { return std::make_unique<W>(); });
  }
  // Artifact files listed per entry.
  std::vector<std::uint64_t> listed_artifacts(std::size_t entries) const {
    std::vector<std::uint64_t> listed(entries, 0);
    for (const ArtifactInfo& a : list_artifacts(dir_).complete) ++listed.at(a.entry_index);
    return listed;
  }
  std::string log() const {
    std::ifstream in(dir_ / "run.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
};

TEST_F(SoakSupervisor, RecordsEveryRunOfEveryEntry) {
  SoakResult result = soak("in-process,fork", 12, [](std::uint64_t) { return Act::kOk; });
  EXPECT_EQ(result.interrupted_by_signal, 0);
  RunManifest manifest = RunManifest::read(dir_);
  ASSERT_EQ(manifest.entries.size(), 2u);
  for (const ManifestEntry& entry : manifest.entries) {
    EXPECT_EQ(entry.stats.completed_runs, 12u) << entry.label();
    EXPECT_EQ(entry.stats.failed_runs, 0u) << entry.label();
    EXPECT_TRUE(entry.stats.elapsed_ns.has_value());
  }
  std::vector<RunRecord> records = read_sample_file(dir_ / "samples.bin");
  ASSERT_EQ(records.size(), 24u);
  for (const RunRecord& r : records) {
    EXPECT_EQ(r.flags & kRunFailed, 0u);
    EXPECT_EQ(r.digest, r.run_index * 7) << "entry " << r.strategy_index << " run " << r.run_index;
  }
}

TEST_F(SoakSupervisor, ACrashLosesOneRunAndTheEntryGoesOnInANewProcess) {
  soak("in-process", 8, [](std::uint64_t i) { return i == 3 ? Act::kAbort : Act::kOk; });
  RunManifest manifest = RunManifest::read(dir_);
  EXPECT_EQ(manifest.entries[0].stats.completed_runs, 8u);
  EXPECT_EQ(manifest.entries[0].stats.failed_runs, 1u);
  std::vector<RunRecord> records = read_sample_file(dir_ / "samples.bin");
  ASSERT_EQ(records.size(), 8u);
  for (const RunRecord& r : records) EXPECT_EQ((r.flags & kRunFailed) != 0, r.run_index == 3) << r.run_index;
  EXPECT_NE(log().find("in-process run 3: failed: its process killed by signal 6"), std::string::npos)
      << log();
}

TEST_F(SoakSupervisor, AHungRunIsKilledByTheStrategyTimeout) {
  SoakConfig config;
  config.run_timeout_ms = 300;
  soak(
      "fork", 4, [](std::uint64_t i) { return i == 1 ? Act::kHang : Act::kOk; }, config);
  RunManifest manifest = RunManifest::read(dir_);
  EXPECT_EQ(manifest.entries[0].stats.completed_runs, 4u);
  EXPECT_EQ(manifest.entries[0].stats.failed_runs, 1u);
  EXPECT_NE(log().find("fork run 1: failed: hung past --run-timeout (300 ms)"), std::string::npos) << log();
}

TEST_F(SoakSupervisor, AHungInProcessRunIsCaughtByTheWatchdog) {
  SoakConfig config;
  config.run_timeout_ms = 100;  // watchdog: twice that plus 10 s of slack
  soak(
      "in-process", 3, [](std::uint64_t i) { return i == 1 ? Act::kHang : Act::kOk; }, config);
  RunManifest manifest = RunManifest::read(dir_);
  EXPECT_EQ(manifest.entries[0].stats.completed_runs, 3u);
  EXPECT_EQ(manifest.entries[0].stats.failed_runs, 1u);
  EXPECT_NE(log().find("in-process run 1: failed: hung past --run-timeout (100 ms): its process was killed"),
            std::string::npos)
      << log();
}

TEST_F(SoakSupervisor, MaxFailuresStopsTheEntryWithAReasonAndTheNextEntryRuns) {
  SoakConfig config;
  config.max_failures = 3;
  soak(
      "in-process,fork", 50, [](std::uint64_t i) { return i % 2 == 0 ? Act::kThrow : Act::kOk; }, config);
  RunManifest manifest = RunManifest::read(dir_);
  for (const ManifestEntry& entry : manifest.entries) {
    EXPECT_EQ(entry.stats.failed_runs, 3u) << entry.label();
    EXPECT_EQ(entry.stats.completed_runs, 5u) << entry.label() << ": runs 0..4, three of them failed";
    EXPECT_EQ(entry.stats.stopped.value_or(""), "stopped after 3 failed runs (--max-failures)");
  }
  EXPECT_NE(log().find("fork run 4: failed: scripted failure of run 4"), std::string::npos) << log();
}

TEST_F(SoakSupervisor, MaxFailuresCountsCrashesToo) {
  SoakConfig config;
  config.max_failures = 2;
  soak(
      "in-process", 50, [](std::uint64_t i) { return i >= 1 ? Act::kAbort : Act::kOk; }, config);
  RunManifest manifest = RunManifest::read(dir_);
  EXPECT_EQ(manifest.entries[0].stats.failed_runs, 2u);
  EXPECT_EQ(manifest.entries[0].stats.completed_runs, 3u);
  EXPECT_TRUE(manifest.entries[0].stats.stopped.has_value());
}

TEST_F(SoakSupervisor, SigtermStopsTheSoakAndRunJsonSaysSo) {
  SoakResult result =
      soak("in-process,fork", 20, [](std::uint64_t i) { return i == 5 ? Act::kStopSoak : Act::kOk; });
  EXPECT_EQ(result.interrupted_by_signal, SIGTERM);
  RunManifest manifest = RunManifest::read(dir_);
  EXPECT_EQ(manifest.interrupted_by_signal, SIGTERM);
  EXPECT_EQ(manifest.entries[0].stats.completed_runs, 5u);
  EXPECT_EQ(manifest.entries[1].stats.completed_runs, 0u) << "the soak stopped before the next entry";
}

// A process that runs the workload must not hold run.log open: it would change its descriptor
// count (a sampled metric) and could write into it.
TEST_F(SoakSupervisor, NoProcessRunningTheWorkloadInheritsRunLog) {
  soak("in-process,fork,zygote,recycle:2", 4,
       [](std::uint64_t i) { return i == 0 ? Act::kThrow : Act::kCountRunLogDescriptors; });
  std::vector<RunRecord> records = read_sample_file(dir_ / "samples.bin");
  ASSERT_EQ(records.size(), 16u);
  for (const RunRecord& r : records) {
    if (r.run_index > 0) {
      EXPECT_EQ(r.digest, 0u) << "entry " << r.strategy_index << " run " << r.run_index;
    }
  }
}

TEST_F(SoakSupervisor, ArtifactsOfForkChildrenAndOfTheEntryProcessAreCountedAndListed) {
  soak("in-process,fork", 6, [](std::uint64_t i) { return i % 2 == 0 ? Act::kArtifact : Act::kOk; });
  RunManifest manifest = RunManifest::read(dir_);
  EXPECT_EQ(manifest.entries[0].stats.artifacts, 3u);
  EXPECT_EQ(manifest.entries[1].stats.artifacts, 3u);
  ArtifactListing listing = list_artifacts(dir_);
  ASSERT_EQ(listing.complete.size(), 6u);
  EXPECT_TRUE(listing.skipped.empty());
  std::vector<std::string> payloads;
  for (const ArtifactInfo& a : listing.complete) {
    EXPECT_EQ(a.kind, "test");
    if (a.entry_index == 1) payloads.push_back(read_artifact_payload(a));
  }
  std::sort(payloads.begin(), payloads.end());
  EXPECT_EQ(payloads, (std::vector<std::string>{"run 0", "run 2", "run 4"}));
}

// With room for only a few descriptors the soak fails somewhere (run.json, samples.bin, the
// entry's pipes, the entry process itself): wherever it does, the supervisor leaves none open.
TEST_F(SoakSupervisor, ForcedDescriptorFailuresLeakNothing) {
  if (memsoak::testing::kSanitizerOwnsMalloc)
    GTEST_SKIP() << memsoak::testing::kNoDescriptorLimitUnderSanitizer;
  StopSignals::install();  // its self-pipe lives as long as the process, by design
  for (int free_fds = 0; free_fds <= 12; ++free_fds) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const int before = testing::open_descriptors();
    {
      testing::DescriptorLimit limit(free_fds);
      try {
        soak("in-process,fork", 3, [](std::uint64_t) { return Act::kOk; });
      } catch (const std::exception&) {
        // expected while descriptors are short
      }
    }
    EXPECT_EQ(testing::open_descriptors(), before) << free_fds << " free descriptors";
  }
}

// Artifacts committed in setup count wherever setup runs: once in-process and in a zygote's
// template, per run under fork, per worker under recycle. run.json's counts match the files.
TEST_F(SoakSupervisor, SetupArtifactsAreCountedUnderEveryStrategy) {
  soak_a<SetupArtifactWorkload>("in-process,fork,zygote,recycle:2", 4);
  RunManifest manifest = RunManifest::read(dir_);
  const std::vector<std::uint64_t> listed = listed_artifacts(manifest.entries.size());
  std::vector<std::uint64_t> counted;
  for (const ManifestEntry& e : manifest.entries) counted.push_back(e.stats.artifacts);
  EXPECT_EQ(counted, (std::vector<std::uint64_t>{1, 4, 1, 2}));
  EXPECT_EQ(listed, counted);
}

TEST_F(SoakSupervisor, ArtifactsOfAFailedSetupAreCountedToo) {
  soak_a<FailingSetupWorkload>("fork,recycle:2", 3);
  RunManifest manifest = RunManifest::read(dir_);
  const std::vector<std::uint64_t> listed = listed_artifacts(manifest.entries.size());
  for (std::size_t i = 0; i < manifest.entries.size(); ++i) {
    EXPECT_EQ(manifest.entries[i].stats.failed_runs, 3u) << manifest.entries[i].label();
    EXPECT_EQ(manifest.entries[i].stats.artifacts, 3u) << manifest.entries[i].label();
    EXPECT_EQ(listed[i], 3u) << manifest.entries[i].label();
  }
}

// A recycled worker that fails after its setup (here: no descriptor left for its sampler) must
// end, not go on as a second copy of the entry's loop writing records of its own.
TEST_F(SoakSupervisor, AWorkerThatFailsAfterSetupDoesNotRunTheEntryLoop) {
  soak_a<DescriptorHogWorkload>("recycle:2", 4);
  std::vector<RunRecord> records = read_sample_file(dir_ / "samples.bin");
  std::vector<std::uint64_t> runs;
  for (const RunRecord& r : records) runs.push_back(r.run_index);
  EXPECT_EQ(runs, (std::vector<std::uint64_t>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace memsoak::harness
