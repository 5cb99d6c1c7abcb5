// `memsoak run --iterations auto` and `--duration` end to end: an entry stops at its ceiling or
// its share of the time, run.json says why, and in-process entries carry the trim probe. The test
// at each look (reports/sequential.h) is exercised through the harness in auto_soak_test.cpp.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "harness/sample_file.h"
#include "tests/sanitizers.h"
#include "tests/tools/run_memsoak.h"

namespace memsoak::testing {
namespace {
namespace fs = std::filesystem;

class AutoIterationsCli : public MemsoakTest {
 protected:
  nlohmann::json run_json(const std::string& dir) const {
    return nlohmann::json::parse(read_text(work_ / dir / "run.json"));
  }
  std::size_t records_of(const std::string& dir, std::uint32_t entry) const {
    auto records = harness::read_sample_file(work_ / dir / "samples.bin");
    return static_cast<std::size_t>(std::count_if(
        records.begin(), records.end(), [entry](const auto& r) { return r.strategy_index == entry; }));
  }
};

TEST_F(AutoIterationsCli, AnUnsettledEntryRunsToMaxIterations) {
  // A leak is not settled before 1,500 runs (a cache that fills for longer looks the same until it
  // stops), so this one runs to its ceiling.
  CommandResult r =
      memsoak({"run", "--workload", "synthetic", "--leak", "dropped:4096", "--strategy", "in-process",
               "--iterations", "auto", "--max-iterations", "300", "--out", "r", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json run = run_json("r");
  EXPECT_EQ(run["iterations"], 300);
  EXPECT_EQ(run["iterations_auto"], true);
  EXPECT_TRUE(run["duration_ms"].is_null());
  EXPECT_EQ(run["warmup_auto"], true);
  EXPECT_EQ(run["strategies"][0]["completed_runs"], 300);
  EXPECT_EQ(run["strategies"][0]["ended_by"], "max-iterations");
  EXPECT_EQ(records_of("r", 0), 300u);
  EXPECT_TRUE(fs::exists(work_ / "r" / "report.json"));
}

TEST_F(AutoIterationsCli, DurationEndsEveryEntryInItsShare) {
  const auto t0 = std::chrono::steady_clock::now();
  CommandResult r = memsoak({"run", "--workload", "synthetic", "--strategy", "in-process,fork", "--duration",
                             "3s", "--out", "r", "--quiet"});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Three seconds of runs, then the report of up to a million of them on a shared machine.
  EXPECT_LT(seconds, 30.0);
  nlohmann::json run = run_json("r");
  EXPECT_EQ(run["duration_ms"], 3000);
  EXPECT_EQ(run["iterations"], 1000000) << "the default ceiling with --duration";
  for (const auto& entry : run["strategies"]) {
    const std::string ended_by =
        entry["ended_by"].is_string() ? entry["ended_by"].get<std::string>() : "null";
    EXPECT_TRUE(ended_by == "duration" || ended_by == "settled") << entry["name"] << ": " << ended_by;
    EXPECT_GT(entry["completed_runs"].get<std::uint64_t>(), 0u) << entry["name"];
    // 1.5 s each, well under the ceiling of a million runs
    EXPECT_LT(entry["elapsed_ns"].get<std::int64_t>(), 10'000'000'000) << entry["name"];
  }
}

// Re-executed entry processes (another allocator) get the control pipe and stop at the ceiling
// like forked ones; the trim probe is there for glibc's malloc only.
TEST_F(AutoIterationsCli, ExecutedEntriesStopTooAndTheTrimProbeIsForGlibcOnly) {
  if (kSanitizerOwnsMalloc) GTEST_SKIP() << kNoPreloadUnderSanitizer << " (--allocator jemalloc)";
  CommandResult r = memsoak({"run", "--workload", "synthetic", "--leak", "dropped:4096", "--strategy",
                             "in-process,fork", "--allocator", "glibc-arena2,jemalloc", "--iterations",
                             "auto", "--max-iterations", "160", "--out", "r", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json run = run_json("r");
  ASSERT_EQ(run["strategies"].size(), 4u);
  for (std::uint32_t i = 0; i < 4; ++i) {
    const auto& entry = run["strategies"][i];
    EXPECT_EQ(entry["completed_runs"], 160) << entry["name"] << " " << entry["allocator"];
    EXPECT_EQ(entry["ended_by"], "max-iterations") << entry["name"] << " " << entry["allocator"];
    EXPECT_EQ(records_of("r", i), 160u);
    const bool probed = entry["name"] == "in-process" && entry["allocator"] == "glibc-arena2";
    EXPECT_EQ(entry["trim_probe"].is_object(), probed) << entry["name"] << " " << entry["allocator"];
  }
}

TEST_F(AutoIterationsCli, TrimProbeOfAnInProcessSyntheticRun) {
  CommandResult r =
      memsoak({"run", "--workload", "synthetic", "--leak", "none", "--strategy",
               "in-process,in-process+trim,fork", "--iterations", "200", "--out", "r", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json run = run_json("r");
  EXPECT_EQ(run["iterations_auto"], false);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& entry = run["strategies"][i];
    ASSERT_TRUE(entry["trim_probe"].is_object()) << entry["name"];
    const auto before = entry["trim_probe"]["rss_before_bytes"].get<std::int64_t>();
    const auto after = entry["trim_probe"]["rss_after_bytes"].get<std::int64_t>();
    EXPECT_GT(before, 0) << entry["name"];
    EXPECT_LE(after, before) << entry["name"];
    EXPECT_TRUE(entry["ended_by"].is_null()) << entry["name"];
  }
  EXPECT_TRUE(run["strategies"][2]["trim_probe"].is_null()) << "fork";
}

// A workload that does not leak is settled stable at a look (seen after 100 to 1,142 runs);
// run.log and report.json say why. (zygote: a fresh child of one template every run, flat from the
// start; an in-process worker still warming up its arenas settles later.)
TEST_F(AutoIterationsCli, AnEntryThatDoesNotLeakIsSettledEarly) {
  CommandResult r = memsoak({"run", "--workload", "synthetic", "--leak", "none", "--strategy", "zygote",
                             "--iterations", "auto", "--max-iterations", "5000", "--out", "r", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json run = run_json("r");
  EXPECT_EQ(run["strategies"][0]["ended_by"], "settled");
  const auto runs = run["strategies"][0]["completed_runs"].get<std::uint64_t>();
  EXPECT_LT(runs, 5000u) << "settled, not stopped at the ceiling";
  std::ifstream log(work_ / "r" / "run.log");
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find(fmt::format("zygote: settled after {} runs: stable", runs)), std::string::npos) << text;
  std::ifstream report_file(work_ / "r" / "report.json");
  const nlohmann::json report = nlohmann::json::parse(report_file);
  const std::string verdict = report["strategies"][0]["verdict"];
  EXPECT_EQ(verdict, "stable") << report["strategies"][0]["verdict_reason"];
  EXPECT_EQ(report["strategies"][0]["ended_by"], "settled");
  EXPECT_EQ(report["strategies"][0]["warmup_runs"], runs / 10);
  EXPECT_LT(report["strategies"][0]["significance"].get<double>(), 0.01);
}

// The new options are long options like any other: a scenario file may set them, and its
// contradictions are named by file and key.
TEST_F(AutoIterationsCli, ScenarioFilesTakeTheNewKeys) {
  std::ofstream(work_ / "s.json")
      << R"({"workload": "synthetic", "leak": "dropped:4096", "strategy": "in-process",)"
      << R"( "iterations": "auto", "max-iterations": 150})";
  CommandResult ok = memsoak({"run", "--scenario", "s.json", "--out", "r", "--quiet"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(run_json("r")["strategies"][0]["completed_runs"], 150);
  std::ofstream(work_ / "bad.json") << R"({"iterations": 400, "duration": "1m"})";
  CommandResult bad = memsoak({"run", "--scenario", "bad.json"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("bad.json: \"duration\" '1m'"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace memsoak::testing
