// run.json through its one owner: written and read back, older versions read, newer refused,
// bad fields named.
#include "harness/run_manifest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "harness/errors.h"
#include "tests/scratch_dir.h"

namespace memsoak::harness {
namespace {
namespace fs = std::filesystem;

class RunManifestTest : public testing::ScratchDirTest {
 protected:
  RunManifestTest() : ScratchDirTest("manifest") {}

  void write_run_json(const nlohmann::json& json) { std::ofstream(dir_ / "run.json") << json.dump(); }
  std::string refusal(const nlohmann::json& json) {
    write_run_json(json);
    try {
      RunManifest::read(dir_);
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
      return e.what();
    }
    ADD_FAILURE() << "accepted " << json.dump();
    return "";
  }
  nlohmann::json written() {
    SoakConfig config;
    config.scenario = "s";
    config.workload = "synthetic";
    config.leak = "none";
    config.strategies = parse_strategy_list("in-process,recycle:10~2");
    config.allocators = parse_allocator_list("glibc,jemalloc");
    RunManifest::begin(config, WorkloadSource::native({})).write(dir_);
    std::ifstream in(dir_ / "run.json");
    return nlohmann::json::parse(in);
  }
};

TEST_F(RunManifestTest, WritesAndReadsBackEverything) {
  SoakConfig config;
  config.scenario = "a scenario";
  config.workload = "synthetic";
  config.leak = "dropped:4096";
  config.strategies = parse_strategy_list("in-process,fork,recycle:10~2,recycle-rss:64MiB");
  config.allocators = parse_allocator_list("glibc,jemalloc");
  config.iterations = 500;
  config.warmup = 50;
  config.seed = 9;
  config.budget_bytes_per_run = 1024;
  config.run_timeout_ms = 1500;
  config.memory_limit_bytes = 1 << 30;
  config.max_failures = 4;
  config.command_line = {"memsoak", "run"};
  config.workload_info = {{"name", "synthetic"}};
  RunManifest manifest = RunManifest::begin(config, WorkloadSource::external("python3 worker.py"));
  manifest.entries[3].stats.completed_runs = 17;
  manifest.entries[3].stats.failed_runs = 2;
  manifest.entries[3].stats.artifacts = 5;
  manifest.entries[3].stats.stopped = "stopped";
  manifest.interrupted_by_signal = 2;
  manifest.write(dir_);

  RunManifest read = RunManifest::read(dir_);
  EXPECT_EQ(read.schema_version, 2);
  EXPECT_EQ(read.to_json(), manifest.to_json());
  ASSERT_EQ(read.entries.size(), 8u);
  EXPECT_EQ(read.entries[2].strategy.kind, "recycle");
  EXPECT_TRUE(read.entries[2].strategy.recycles);
  EXPECT_FALSE(read.entries[1].strategy.recycles);
  EXPECT_EQ(read.entries[2].strategy.runs_per_worker, 10u);
  EXPECT_EQ(read.entries[4].label(), "in-process [jemalloc]");
  EXPECT_EQ(read.source_kind, WorkloadSource::Kind::kExternal);
  EXPECT_EQ(read.exec_command, "python3 worker.py");
  EXPECT_EQ(read.config.strategies.size(), 4u);
  EXPECT_EQ(read.config.allocators.size(), 2u);
  EXPECT_EQ(read.config.budget_bytes_per_run, 1024u);
  EXPECT_EQ(read.config.run_timeout_ms, 1500);
  EXPECT_EQ(read.interrupted_by_signal, 2);
  EXPECT_TRUE(read.environment.contains("kernel"));
}

TEST_F(RunManifestTest, ReadsVersion1) {
  write_run_json({{"schema", "memsoak.run/1"},
                  {"command_line", {"memsoak"}},
                  {"scenario", "old"},
                  {"workload", "plugin"},
                  {"leak", ""},
                  {"seed", 1},
                  {"iterations", 10},
                  {"warmup", 1},
                  {"strategy_list", "recycle:5"},
                  {"allocator_list", "glibc"},
                  {"strategies", {{{"name", "recycle:5"}, {"allocator", "glibc"}, {"completed_runs", 10}}}}});
  RunManifest read = RunManifest::read(dir_);
  EXPECT_EQ(read.schema_version, 1);
  EXPECT_EQ(read.source_kind, WorkloadSource::Kind::kPlugin);
  ASSERT_EQ(read.entries.size(), 1u);
  EXPECT_TRUE(read.entries[0].strategy.recycles);
  EXPECT_EQ(read.entries[0].stats.failed_runs, 0u);
  EXPECT_EQ(read.entries[0].stats.completed_runs, 10u);
}

TEST_F(RunManifestTest, AutoLengthEndedByAndTrimProbeRoundTrip) {
  SoakConfig config;
  config.scenario = "auto";
  config.workload = "synthetic";
  config.strategies = parse_strategy_list("in-process,fork");
  config.iterations = 20000;
  config.warmup = 2000;
  config.iterations_auto = true;
  config.duration_ms = 90'000;
  RunManifest manifest = RunManifest::begin(config, WorkloadSource::native({}));
  manifest.entries[0].stats.ended_by = "settled";
  manifest.entries[0].stats.trim_rss_before_bytes = 9 << 20;
  manifest.entries[0].stats.trim_rss_after_bytes = 7 << 20;
  manifest.entries[1].stats.ended_by = "duration";
  manifest.write(dir_);
  RunManifest read = RunManifest::read(dir_);
  EXPECT_EQ(read.to_json(), manifest.to_json());
  EXPECT_TRUE(read.config.iterations_auto);
  EXPECT_TRUE(read.config.warmup_auto);
  EXPECT_EQ(read.config.duration_ms, std::optional<std::int64_t>(90'000));
  EXPECT_EQ(read.entries[0].stats.ended_by, std::optional<std::string>("settled"));
  EXPECT_EQ(read.entries[0].stats.trim_rss_after_bytes, std::optional<std::int64_t>(7 << 20));
  EXPECT_FALSE(read.entries[1].stats.trim_rss_before_bytes.has_value());
}

// A run.json of a memsoak before --iterations auto: a fixed length, and its warm-up as recorded.
TEST_F(RunManifestTest, AnOlderFileHasAFixedLengthAndAGivenWarmup) {
  nlohmann::json json = written();
  json.erase("iterations_auto");
  json.erase("duration_ms");
  json.erase("warmup_auto");
  for (auto& entry : json["strategies"]) {
    entry.erase("ended_by");
    entry.erase("trim_probe");
  }
  write_run_json(json);
  RunManifest read = RunManifest::read(dir_);
  EXPECT_FALSE(read.config.iterations_auto);
  EXPECT_FALSE(read.config.duration_ms.has_value());
  EXPECT_FALSE(read.config.warmup_auto);
  EXPECT_FALSE(read.entries[0].stats.ended_by.has_value());
}

TEST_F(RunManifestTest, RefusesBadAutoFields) {
  nlohmann::json json = written();
  json["iterations_auto"] = "yes";
  EXPECT_NE(refusal(json).find("\"iterations_auto\" must be true or false"), std::string::npos);
  json = written();
  json["duration_ms"] = 0;
  EXPECT_NE(refusal(json).find("\"duration_ms\" must be above 0"), std::string::npos);
  json = written();
  json["strategies"][1]["ended_by"] = "boredom";
  EXPECT_NE(refusal(json).find("strategies[1]: \"ended_by\""), std::string::npos);
  json = written();
  json["strategies"][0]["trim_probe"] = {{"rss_before_bytes", 1}};
  EXPECT_NE(refusal(json).find("\"rss_after_bytes\" is missing"), std::string::npos);
}

TEST_F(RunManifestTest, RefusesANewerVersionByName) {
  nlohmann::json json = written();
  json["schema"] = "memsoak.run/3";
  EXPECT_NE(refusal(json).find("'memsoak.run/3' is newer"), std::string::npos);
}

TEST_F(RunManifestTest, NamesTheFieldThatIsWrong) {
  nlohmann::json json = written();
  json["budget_bytes_per_run"] = -5;
  EXPECT_NE(refusal(json).find("\"budget_bytes_per_run\" must be a whole number"), std::string::npos);
  json = written();
  json.erase("iterations");
  EXPECT_NE(refusal(json).find("\"iterations\" is missing"), std::string::npos);
  json = written();
  json["strategies"][1]["recycles"] = false;
  EXPECT_NE(refusal(json).find("\"recycles\" does not match"), std::string::npos);
  json = written();
  json["strategies"][0]["name"] = "teleport";
  EXPECT_NE(refusal(json).find("teleport"), std::string::npos);
  json = written();
  json["workload_source"]["kind"] = "remote";
  EXPECT_NE(refusal(json).find("\"kind\" is not known"), std::string::npos);
  EXPECT_NE(refusal(nlohmann::json::array()).find("no \"schema\""), std::string::npos);
}

TEST_F(RunManifestTest, NamesTheEntryAndFieldOfABadEntry) {
  nlohmann::json json = written();
  json["strategies"][2]["allocator"] = "jemallocx";
  std::string why = refusal(json);
  EXPECT_NE(why.find("run.json strategies[2]: \"allocator\""), std::string::npos) << why;
  EXPECT_NE(why.find("jemallocx"), std::string::npos) << why;
  json = written();
  json["strategies"][1].erase("name");
  why = refusal(json);
  EXPECT_NE(why.find("strategies[1]: \"name\" is missing"), std::string::npos) << why;
  EXPECT_EQ(why.find("run.json"), why.rfind("run.json")) << "the file is named once: " << why;
}

TEST_F(RunManifestTest, RefusesNumbersOutOfRangeInsteadOfWrappingThem) {
  const std::uint64_t huge = std::uint64_t{1} << 63;
  for (auto [key, value] :
       {std::pair<const char*, std::uint64_t>{"interrupted_by_signal", std::uint64_t{1} << 40},
        {"started_at", huge},
        {"run_timeout_ms", huge + 5}}) {
    nlohmann::json json = written();
    json[key] = value;
    EXPECT_NE(refusal(json).find(std::string("\"") + key + "\""), std::string::npos) << key;
  }
  nlohmann::json json = written();
  json["strategies"][0]["elapsed_ns"] = huge;
  EXPECT_NE(refusal(json).find("\"elapsed_ns\""), std::string::npos);
}

TEST_F(RunManifestTest, OnlyAHigherVersionIsCalledNewer) {
  nlohmann::json json = written();
  json["schema"] = "memsoak.run/0";
  std::string why = refusal(json);
  EXPECT_EQ(why.find("newer"), std::string::npos) << why;
  EXPECT_NE(why.find("'memsoak.run/0' is not one this memsoak reads"), std::string::npos) << why;
  json["schema"] = "memsoak.report/1";
  EXPECT_NE(refusal(json).find("is not one this memsoak reads"), std::string::npos);
}

TEST_F(RunManifestTest, RefusesADocumentNestedTooDeep) {
  std::string deep = written().dump();
  const std::string nested = std::string(100000, '[') + std::string(100000, ']');
  deep.replace(deep.find("\"workload_info\":{"), 17, "\"workload_info\":{\"x\":" + nested + ",");
  std::ofstream(dir_ / "run.json") << deep;
  try {
    RunManifest::read(dir_);
    FAIL() << "accepted a document nested 100000 levels deep";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("nested more than"), std::string::npos) << e.what();
  }
}

// Entries k = 0..3 (in-process, recycle:10~2, then both under jemalloc): shard 1/3 owns 0 and 3.
TEST_F(RunManifestTest, AShardKeepsItsEntriesAndRecordsTheirPlaceInTheSoak) {
  SoakConfig config;
  config.scenario = "s";
  config.workload = "synthetic";
  config.strategies = parse_strategy_list("in-process,recycle:10~2");
  config.allocators = parse_allocator_list("glibc,jemalloc");
  config.shard = ShardSpec{1, 3};
  RunManifest first = RunManifest::begin(config, WorkloadSource::native({}));
  ASSERT_EQ(first.entries.size(), 2u);
  EXPECT_EQ(first.entries[1].label(), "recycle:10~2 [jemalloc]");
  first.write(dir_);
  RunManifest back = RunManifest::read(dir_);
  ASSERT_TRUE(back.shard.has_value());
  EXPECT_EQ(back.shard->entries, (std::vector<std::uint32_t>{0, 3}));
  EXPECT_EQ(back.shard->soak_entries.size(), 4u);
  EXPECT_EQ(back.build_id, first.build_id);
  EXPECT_FALSE(first.build_id.empty()) << "the test executable is linked with a build id";

  std::ifstream in(dir_ / "run.json");
  nlohmann::json json = nlohmann::json::parse(in);
  json["shard"]["entries"] = {0, 2};  // entry 2 belongs to shard 3
  EXPECT_NE(refusal(json).find("shard: \"entries\" [1] is not entry recycle:10~2 [jemalloc] of shard 1/3"),
            std::string::npos);
  json["shard"]["entries"] = {0, 3};
  json["shard"]["index"] = 4;
  EXPECT_NE(refusal(json).find("4 of 3 shards"), std::string::npos);
}

}  // namespace
}  // namespace memsoak::harness
