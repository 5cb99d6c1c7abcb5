// The memsoak command line: bad input exits 2 with one line naming the value and creates nothing;
// report and list behave as documented. Short runs only (the soaks are in soak_test.cpp).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/tools/run_memsoak.h"

namespace memsoak::testing {
namespace {
namespace fs = std::filesystem;

class MemsoakCli : public MemsoakTest {
 protected:
  // Exit 2, one line on stderr that contains `value`, and nothing left in the working directory.
  void expect_refused(const std::vector<std::string>& args, const std::string& value) {
    CommandResult r = memsoak(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(value), std::string::npos) << "stderr does not name '" << value << "': " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(fs::is_empty(work_)) << "bad input left files behind";
  }
};

TEST_F(MemsoakCli, UnknownStrategyIsRefused) {
  expect_refused({"run", "--strategy", "in-process,forky"}, "'forky'");
}

TEST_F(MemsoakCli, UnknownLeakModeIsRefused) { expect_refused({"run", "--leak", "leaky"}, "'leaky'"); }

TEST_F(MemsoakCli, UnknownWorkloadIsRefused) { expect_refused({"run", "--workload", "nope"}, "'nope'"); }

TEST_F(MemsoakCli, ZeroIterationsAreRefused) { expect_refused({"run", "--iterations", "0"}, "'0'"); }

TEST_F(MemsoakCli, NegativeIterationsAreRefused) { expect_refused({"run", "--iterations=-5"}, "-5"); }

TEST_F(MemsoakCli, UnparsableSizesAreRefused) {
  expect_refused({"run", "--budget", "12XB"}, "'12XB'");
  expect_refused({"run", "--leak", "dropped:lots"}, "dropped:lots");
}

TEST_F(MemsoakCli, WarmupMustLeaveRunsToAnalyse) {
  expect_refused({"run", "--iterations", "100", "--warmup", "100"}, "'100'");
}

TEST_F(MemsoakCli, UnwritableOutIsRefused) {
  // Under a regular file nothing can be created, even as root.
  fs::path blocker = fs::temp_directory_path() / ("memsoak-blocker-" + std::to_string(::getpid()));
  std::ofstream(blocker) << "x";
  expect_refused({"run", "--iterations", "50", "--out", (blocker / "run").string()},
                 (blocker / "run").string());
  fs::remove(blocker);
}

TEST_F(MemsoakCli, NonEmptyOutIsRefused) {
  fs::create_directories(work_ / "old");
  std::ofstream(work_ / "old" / "keep.txt") << "earlier results";
  CommandResult r = memsoak({"run", "--iterations", "50", "--out", "old"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not empty"), std::string::npos) << r.err;
  EXPECT_EQ(read_text(work_ / "old" / "keep.txt"), "earlier results");
}

TEST_F(MemsoakCli, UnknownOptionIsUsageError) {
  CommandResult r = memsoak({"run", "--frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--frobnicate"), std::string::npos) << r.err;
}

TEST_F(MemsoakCli, DefaultOutputGoesToATimestampedDirectoryWithALatestLink) {
  CommandResult r = memsoak({"run", "--iterations", "60", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::is_symlink(work_ / "memsoak-out" / "latest"));
  fs::path latest = fs::canonical(work_ / "memsoak-out" / "latest");
  EXPECT_TRUE(fs::exists(latest / "report.json"));
  EXPECT_TRUE(fs::exists(latest / "run.json"));
  EXPECT_TRUE(fs::exists(latest / "samples.bin"));
  // --quiet prints only the report's path.
  EXPECT_EQ(fs::canonical(work_ / r.out.substr(0, r.out.size() - 1)), latest / "report.json");
}

TEST_F(MemsoakCli, RunJsonRecordsConfigAndEnvironment) {
  ASSERT_EQ(memsoak({"run", "--iterations", "40", "--seed", "9", "--out", "r", "--quiet"}).exit_code, 0);
  auto run = nlohmann::json::parse(read_text(work_ / "r" / "run.json"));
  EXPECT_EQ(run["schema"], "memsoak.run/1");
  EXPECT_EQ(run["seed"], 9);
  EXPECT_EQ(run["iterations"], 40);
  EXPECT_EQ(run["warmup"], 4);
  EXPECT_EQ(run["strategies"].size(), 2u);
  EXPECT_EQ(run["strategies"][1]["completed_runs"], 40);
  for (const char* key : {"kernel", "glibc", "compiler", "cpus", "memory_bytes"}) {
    EXPECT_TRUE(run["environment"].contains(key)) << key;
  }
  EXPECT_TRUE(run["git_commit"].is_string());
}

TEST_F(MemsoakCli, ReportRebuildsFromTheRunDirectory) {
  ASSERT_EQ(memsoak({"run", "--iterations", "100", "--out", "r", "--quiet"}).exit_code, 0);
  nlohmann::json first = report("r");
  fs::remove(work_ / "r" / "report.json");
  CommandResult r = memsoak({"report", "r"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(report("r"), first);
  EXPECT_NE(r.out.find("in-process"), std::string::npos);
}

TEST_F(MemsoakCli, ReportWorksOnARunCutShortByACrash) {
  ASSERT_EQ(memsoak({"run", "--iterations", "100", "--out", "r", "--quiet"}).exit_code, 0);
  // A crash mid-write leaves part of a record at the end.
  fs::resize_file(work_ / "r" / "samples.bin", fs::file_size(work_ / "r" / "samples.bin") - 100);
  CommandResult r = memsoak({"report", "r"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(strategy(report("r"), "fork")["runs"], 99);
}

TEST_F(MemsoakCli, ReportRefusesWhatIsNotARunDirectory) {
  CommandResult missing = memsoak({"report", "nowhere"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nowhere"), std::string::npos);
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;
  fs::create_directories(work_ / "junk");
  std::ofstream(work_ / "junk" / "run.json") << "{ not json";
  CommandResult junk = memsoak({"report", "junk"});
  EXPECT_EQ(junk.exit_code, 2);
  EXPECT_NE(junk.err.find("run.json"), std::string::npos) << junk.err;
  EXPECT_EQ(std::count(junk.err.begin(), junk.err.end(), '\n'), 1) << junk.err;
  fs::create_directories(work_ / "dir-as-file" / "run.json");
  EXPECT_EQ(memsoak({"report", "dir-as-file"}).exit_code, 2);
}

TEST_F(MemsoakCli, ReportRefusesANegativeBudgetInRunJson) {
  ASSERT_EQ(memsoak({"run", "--iterations", "40", "--out", "r", "--quiet"}).exit_code, 0);
  auto run = nlohmann::json::parse(read_text(work_ / "r" / "run.json"));
  run["budget_bytes_per_run"] = -5;
  std::ofstream(work_ / "r" / "run.json") << run.dump();
  CommandResult r = memsoak({"report", "r"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("budget_bytes_per_run"), std::string::npos) << r.err;
}

TEST_F(MemsoakCli, UnknownCommandIsNamed) {
  CommandResult r = memsoak({"bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'bogus'"), std::string::npos) << r.err;
}

TEST_F(MemsoakCli, EmptyValuesAreRefusedNotDefaulted) {
  expect_refused({"run", "--out", ""}, "--out ''");
  expect_refused({"run", "--warmup", ""}, "--warmup ''");
}

TEST_F(MemsoakCli, ListNamesStrategiesAndLeakModes) {
  CommandResult r = memsoak({"list"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* name : {"in-process", "fork", "synthetic", "dropped:SIZE", "bounded:COUNTxSIZE"}) {
    EXPECT_NE(r.out.find(name), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace memsoak::testing
