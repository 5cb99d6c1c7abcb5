// The analysis on run directories made by hand: a version-1 run (run.json "memsoak.run/1" and a
// version-1 samples.bin written byte by byte) and version-2 ones, without running any soak.
#include "reports/analysis.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "harness/artifacts.h"
#include "harness/errors.h"
#include "harness/run_manifest.h"
#include "harness/sample_file.h"
#include "tests/scratch_dir.h"

namespace memsoak::reports {
namespace {
namespace fs = std::filesystem;

// A version-1 record: 144 bytes, 4+4+8+8 then 14 signed 64-bit fields (latency, work, setup,
// worker peak RSS, harness RSS, then the sample: RSS, anon RSS, heap bytes, heap blocks, fds,
// threads, minor and major faults, user and system CPU).
std::string v1_record(std::uint32_t strategy, std::uint32_t flags, std::uint64_t run, std::int64_t rss,
                      std::int64_t heap) {
  std::string bytes(144, '\0');
  auto put = [&](std::size_t offset, auto value) {
    std::memcpy(bytes.data() + offset, &value, sizeof value);
  };
  put(0, strategy);
  put(4, flags);
  put(8, run);
  put(16, std::uint64_t{42});                                          // digest
  put(24, std::int64_t{1'000'000});                                    // latency: 1 ms
  for (std::size_t f = 32; f < 144; f += 8) put(f, std::int64_t{-1});  // not measured
  put(64, rss);
  put(80, heap);
  return bytes;
}

void write_v1_samples(const fs::path& path, const std::vector<std::string>& records) {
  std::string header(32, '\0');
  std::memcpy(header.data(), "MSOAKSMP", 8);
  std::uint32_t version = 1, record_bytes = 144;
  std::memcpy(header.data() + 8, &version, 4);
  std::memcpy(header.data() + 12, &record_bytes, 4);
  std::ofstream out(path, std::ios::binary);
  out << header;
  for (const auto& r : records) out << r;
}

nlohmann::json v1_run_json() {
  auto entry = [](const char* name) {
    return nlohmann::json{
        {"name", name}, {"allocator", "glibc"}, {"completed_runs", 300}, {"elapsed_ns", 3'000'000'000LL}};
  };
  return {{"schema", "memsoak.run/1"},
          {"command_line", {"memsoak", "run"}},
          {"scenario", "hand-written"},
          {"workload", "synthetic"},
          {"leak", "dropped:4096"},
          {"seed", 1},
          {"iterations", 300},
          {"warmup", 30},
          {"budget_bytes_per_run", 1024},
          {"strategy_list", "in-process,fork"},
          {"allocator_list", "glibc"},
          {"strategies", {entry("in-process"), entry("fork")}}};
}

class Analysis : public testing::ScratchDirTest {
 protected:
  Analysis() : ScratchDirTest("analysis") {}
};

// In-process: 4 KiB more RSS (2 KiB more live heap) every run. Fork: flat.
std::vector<std::string> two_strategies() {
  std::vector<std::string> records;
  const std::int64_t base = 8 << 20;
  for (std::uint64_t i = 0; i < 300; ++i) {
    auto rss = base + static_cast<std::int64_t>(i) * 4096;
    records.push_back(v1_record(0, i < 30 ? 2u : 0u, i, rss, rss / 2));
  }
  for (std::uint64_t i = 0; i < 300; ++i)
    records.push_back(v1_record(1, i < 30 ? 2u : 0u, i, base, base / 2));
  return records;
}

// A version-2 run whose only entry is `strategy`: memory grows 4 KiB a run within each worker of
// 50 runs and falls back when the worker is replaced.
void write_sawtooth_run(const fs::path& dir, const char* strategy) {
  harness::SoakConfig config;
  config.scenario = "sawtooth";
  config.strategies = harness::parse_strategy_list(strategy);
  config.iterations = 300;
  config.warmup = 30;
  harness::RunManifest manifest = harness::RunManifest::begin(config, harness::WorkloadSource::native({}));
  manifest.entries[0].stats.completed_runs = 300;
  manifest.write(dir);
  harness::SampleWriter samples(dir / "samples.bin", harness::SampleWriter::Mode::kCreate);
  for (std::uint64_t i = 0; i < 300; ++i) {
    harness::RunRecord r;
    r.run_index = i;
    r.flags = i < 30 ? harness::kRunWarmup : 0u;
    r.worker_id = i / 50 + 1;
    r.worker.rss_bytes = (8 << 20) + static_cast<std::int64_t>(i % 50) * 4096;
    r.worker.heap_live_bytes = r.worker.rss_bytes / 2;
    samples.append(r);
  }
}

TEST_F(Analysis, ReadsAVersion1RunDirectory) {
  std::ofstream(dir_ / "run.json") << v1_run_json().dump();
  write_v1_samples(dir_ / "samples.bin", two_strategies());
  Report report = analyse_run_directory(dir_);
  ASSERT_EQ(report.strategies.size(), 2u);
  EXPECT_EQ(report.scenario, "hand-written");
  EXPECT_EQ(report.budget_bytes_per_run, 1024u);
  const StrategyReport& in_process = report.strategies[0];
  EXPECT_EQ(in_process.runs, 300u);
  EXPECT_EQ(in_process.analysed_runs, 270u);
  EXPECT_EQ(in_process.classification.verdict, Verdict::kLeak) << in_process.classification.reason;
  ASSERT_TRUE(in_process.heap.has_value());
  EXPECT_DOUBLE_EQ(in_process.heap->trend.slope, 2048.0);
  EXPECT_DOUBLE_EQ(in_process.rss->trend.slope, 4096.0);
  EXPECT_NEAR(*in_process.runs_per_second, 100.0, 1e-9);
  EXPECT_EQ(report.strategies[1].classification.verdict, Verdict::kStable);
}

TEST_F(Analysis, ASawtoothIsBoundedOnlyUnderAStrategyThatRecyclesOnPurpose) {
  write_sawtooth_run(dir_, "recycle:50");
  Report recycled = analyse_run_directory(dir_);
  EXPECT_EQ(recycled.strategies[0].classification.verdict, Verdict::kBounded)
      << recycled.strategies[0].classification.reason;
  EXPECT_DOUBLE_EQ(recycled.strategies[0].within_worker_growth_bytes_per_run.value_or(0), 2048.0);
  // The same records from an in-process worker that kept being replaced (a crash every 50 runs):
  // its growth is not reset on purpose, so it is never "bounded".
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  write_sawtooth_run(dir_, "in-process");
  Report crashing = analyse_run_directory(dir_);
  EXPECT_NE(crashing.strategies[0].classification.verdict, Verdict::kBounded);
}

TEST_F(Analysis, CountsEachStrategysArtifactsThroughTheOneReader) {
  write_sawtooth_run(dir_, "recycle:50");
  harness::set_artifact_directory(dir_, 0);
  for (int i = 0; i < 2; ++i) {
    harness::ArtifactWriter writer;
    ASSERT_TRUE(writer.open("note") && writer.append("x", 1) && writer.commit());
  }
  std::ofstream(dir_ / "artifacts" / "0" / "1-0.stacks.partial") << "cut short";
  Report report = analyse_run_directory(dir_);
  EXPECT_EQ(report.strategies[0].artifact_files, 2u);
  EXPECT_EQ(report.skipped_artifact_files, 1u);
  harness::set_artifact_directory(dir_, 5);  // an entry run.json does not have
  harness::ArtifactWriter stray;
  ASSERT_TRUE(stray.open("note") && stray.commit());
  EXPECT_THROW(analyse_run_directory(dir_), InputError);
}

TEST_F(Analysis, RefusesARecordOfAnEntryTheManifestDoesNotHave) {
  std::ofstream(dir_ / "run.json") << v1_run_json().dump();
  write_v1_samples(dir_ / "samples.bin", {v1_record(7, 0, 0, 1, 1)});
  try {
    analyse_run_directory(dir_);
    FAIL() << "accepted a record of entry 7";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("strategy 7"), std::string::npos) << e.what();
  }
}

TEST_F(Analysis, NamesTheBadFieldOfRunJson) {
  nlohmann::json run = v1_run_json();
  run["warmup"] = "thirty";
  std::ofstream(dir_ / "run.json") << run.dump();
  write_v1_samples(dir_ / "samples.bin", {});
  try {
    analyse_run_directory(dir_);
    FAIL() << "accepted a string warmup";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("\"warmup\""), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("run.json"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace memsoak::reports
