// `memsoak run --profiler heaptrack`: the pass under Debian's heaptrack finds the synthetic leak,
// `memsoak report` rebuilds it, and without heaptrack the soak goes on. A few seconds in all.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "tests/tools/run_memsoak.h"

namespace memsoak::testing {
namespace {
namespace fs = std::filesystem;

bool heaptrack_installed() {
  return std::system("command -v heaptrack >/dev/null 2>&1 && command -v heaptrack_print >/dev/null 2>&1") ==
         0;
}

class HeaptrackCli : public MemsoakTest {
 protected:
  // Runs memsoak with PATH replaced by `path`.
  CommandResult memsoak_with_path(const std::string& path, const std::vector<std::string>& args) const {
    std::string command = "cd " + shell_quote(work_.string()) + " && PATH=" + shell_quote(path) + " " +
                          shell_quote(MEMSOAK_BINARY);
    for (const auto& a : args) command += " " + shell_quote(a);
    command += " >.stdout 2>.stderr";
    CommandResult result;
    int status = std::system(command.c_str());
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = read_text(work_ / ".stdout");
    result.err = read_text(work_ / ".stderr");
    fs::remove(work_ / ".stdout");
    fs::remove(work_ / ".stderr");
    return result;
  }
};

TEST_F(HeaptrackCli, ThePassNamesTheSyntheticLeakAndReportRebuildsIt) {
  if (!heaptrack_installed()) GTEST_SKIP() << "heaptrack is not installed (apt install heaptrack)";
  CommandResult r =
      memsoak({"run", "--workload", "synthetic", "--leak", "dropped:64KiB", "--strategy", "in-process",
               "--iterations", "40", "--profiler", "heaptrack", "--profiler-runs", "30", "--out", "r"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("heaptrack"), std::string::npos)
      << "the console names heaptrack's top leak: " << r.out;
  nlohmann::json h = report("r")["heaptrack"];
  ASSERT_TRUE(h.is_object()) << h;
  EXPECT_EQ(h["status"], "ok") << h;
  EXPECT_EQ(h["runs"], 30);
  ASSERT_TRUE(h["data_file"].is_string());
  EXPECT_TRUE(fs::is_regular_file(work_ / "r" / h["data_file"].get<std::string>()));
  EXPECT_TRUE(h["data_file"].get<std::string>().ends_with(".zst")) << h["data_file"];
  EXPECT_TRUE(fs::is_regular_file(work_ / "r" / "heaptrack" / "leaked.folded"));
  ASSERT_FALSE(h["top_leaked_stacks"].empty());
  const nlohmann::json& top = h["top_leaked_stacks"][0];
  // 30 dropped blocks of 64 KiB, attributed to the synthetic workload, not to malloc: its run(),
  // where heaptrack places the inlined leak() it calls (scenarios/synthetic.cpp).
  EXPECT_EQ(top["leaked_bytes"], 30 * 64 * 1024) << top;
  EXPECT_NE(top["function"].get<std::string>().find("(synthetic.cpp)"), std::string::npos) << top;
  EXPECT_EQ(top["frames"][0], "malloc (interpose.cpp)") << "leaf first: " << top;
  const auto& frames = top["frames"];
  EXPECT_NE(std::find(frames.begin(), frames.end(), "leak (synthetic.cpp)"), frames.end()) << top;

  fs::remove(work_ / "r" / "report.json");
  ASSERT_EQ(memsoak({"report", "r"}).exit_code, 0);
  EXPECT_EQ(report("r")["heaptrack"], h);
}

TEST_F(HeaptrackCli, WithoutHeaptrackTheSoakGoesOn) {
  // Only memsoak's own directory: no heaptrack, and nothing else memsoak needs.
  CommandResult r = memsoak_with_path(
      "/nonexistent", {"run", "--workload", "synthetic", "--strategy", "in-process", "--iterations", "30",
                       "--profiler", "heaptrack", "--out", "r", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(
                "memsoak: --profiler heaptrack: heaptrack is not installed (apt install heaptrack); the soak "
                "goes on without it"),
            std::string::npos)
      << r.err;
  nlohmann::json rep = report("r");
  EXPECT_EQ(strategy(rep, "in-process")["runs"], 30);
  EXPECT_EQ(rep["heaptrack"]["status"], "not-installed");
  EXPECT_TRUE(rep["heaptrack"]["top_leaked_stacks"].empty());
  EXPECT_FALSE(fs::exists(work_ / "r" / "heaptrack" / "leaked.folded"));
}

TEST_F(HeaptrackCli, WithoutTheOptionThereIsNoPass) {
  ASSERT_EQ(memsoak({"run", "--workload", "synthetic", "--strategy", "in-process", "--iterations", "20",
                     "--out", "r", "--quiet"})
                .exit_code,
            0);
  EXPECT_TRUE(report("r")["heaptrack"].is_null());
  EXPECT_FALSE(fs::exists(work_ / "r" / "heaptrack"));
}

TEST_F(HeaptrackCli, AnExternalWorkerGetsNoPassAndTheReportSaysSo) {
  CommandResult r = memsoak({"run", "--exec", MEMSOAK_EXAMPLE_WORKER, "--strategy", "in-process",
                             "--iterations", "20", "--profiler", "heaptrack", "--out", "r", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json h = report("r")["heaptrack"];
  EXPECT_EQ(h["status"], "not-applicable") << h;
  EXPECT_NE(h["reason"].get<std::string>().find("--exec"), std::string::npos) << h;
}

TEST_F(HeaptrackCli, BadProfilerOptionsAreRefused) {
  for (const auto& [args, named] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--profiler", "valgrind"}, "'valgrind'"},
           {{"--profiler", "heaptrack", "--profiler-runs", "0"}, "--profiler-runs '0'"},
           {{"--profiler", "heaptrack", "--profiler-runs", "many"}, "'many'"},
           {{"--profiler", "heaptrack", "--iterations", "50", "--profiler-runs", "51"},
            "--profiler-runs '51'"},
           {{"--profiler-runs", "10"}, "--profiler-runs '10'"}}) {
    std::vector<std::string> full = {"run", "--workload", "synthetic"};
    full.insert(full.end(), args.begin(), args.end());
    CommandResult r = memsoak(full);
    EXPECT_EQ(r.exit_code, 2) << named << ": " << r.err;
    EXPECT_NE(r.err.find(named), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(fs::is_empty(work_)) << "bad input left files behind";
  }
}

}  // namespace
}  // namespace memsoak::testing
