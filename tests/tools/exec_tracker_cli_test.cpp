// memsoak run --exec with the exec tracker: the C++ and Python example workers get a heap series
// and read `leak` through it; --exec-tracker off gives no heap series; a worker that does not
// report falls back to RSS with one line in run.log. Short soaks (about 2 s each).
#include <gtest/gtest.h>

#include <string>

#include "tests/tools/run_memsoak.h"

namespace memsoak::testing {
namespace {

class ExecTrackerCli : public MemsoakTest {
 protected:
  nlohmann::json soak(const std::string& command, const std::string& out, std::vector<std::string> extra = {},
                      const std::string& iterations = "60") {
    std::vector<std::string> args = {"run",          "--exec",   command, "--strategy", "in-process",
                                     "--iterations", iterations, "--out", out,          "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult r = memsoak(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (r.exit_code != 0) return nlohmann::json::object();
    return strategy(report(out), "in-process");
  }
  std::string cpp_worker(const std::string& flags) const {
    return "exec " + shell_quote(MEMSOAK_EXAMPLE_WORKER) + " " + flags;
  }
  std::string python_worker(const std::string& flags) const {
    return "exec /usr/bin/python3 " +
           shell_quote(std::string(MEMSOAK_SOURCE_DIR) + "/scenarios/workers/reranker_worker.py") + " " +
           flags;
  }
};

TEST_F(ExecTrackerCli, BadValueIsRefused) {
  CommandResult r = memsoak({"run", "--exec", "true", "--exec-tracker", "maybe"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("'maybe'"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::is_empty(work_));
}

TEST_F(ExecTrackerCli, CppWorkerLeakReadsLeakThroughTheHeap) {
  nlohmann::json s = soak(cpp_worker("--leak 65536"), "on");
  EXPECT_EQ(s["verdict"], "leak") << s["verdict_reason"];
  ASSERT_FALSE(s["heap_trend"].is_null());
  const double per_run = s["heap_growth_bytes_per_run"].get<double>();
  EXPECT_GE(per_run, 65536);
  EXPECT_LT(per_run, 65536 + 1024);
  nlohmann::json run = nlohmann::json::parse(read_text(work_ / "on" / "run.json"));
  ASSERT_TRUE(run["exec_tracker"].is_string());
  EXPECT_TRUE(run["exec_tracker"].get<std::string>().ends_with("/libmemsoak_tracker.so"));
}

TEST_F(ExecTrackerCli, OffGivesNoHeapSeries) {
  // 120 runs: RSS growth over fewer than 90 analysed runs is inconclusive (a page staircase).
  nlohmann::json s = soak(cpp_worker("--leak 65536"), "off", {"--exec-tracker", "off"}, "120");
  EXPECT_EQ(s["verdict"], "leak") << s["verdict_reason"];  // from RSS, as before the tracker
  EXPECT_TRUE(s["heap_trend"].is_null());
  EXPECT_TRUE(s["heap_growth_bytes_per_run"].is_null());
  nlohmann::json run = nlohmann::json::parse(read_text(work_ / "off" / "run.json"));
  EXPECT_TRUE(run["exec_tracker"].is_null());
}

TEST_F(ExecTrackerCli, AWorkerWithoutThePreloadFallsBackToRssAndSaysSoOnce) {
  nlohmann::json s =
      soak("exec env -u LD_PRELOAD " + shell_quote(MEMSOAK_EXAMPLE_WORKER), "silent", {}, "20");
  EXPECT_TRUE(s["heap_trend"].is_null());
  std::string log = read_text(work_ / "silent" / "run.log");
  EXPECT_EQ(log.find("exec tracker:"), log.rfind("exec tracker:")) << log;
  EXPECT_NE(log.find("verdicts use RSS"), std::string::npos) << log;
}

// CPython's small objects live in pymalloc's arenas, which it maps with mmap: the tracker counts
// them as anonymous mappings, so the leak reads `leak`, never `retention` or `stable`. With
// PYTHONMALLOC=malloc they go through malloc instead, and read the same.
TEST_F(ExecTrackerCli, PythonSmallObjectLeakReadsLeak) {
  nlohmann::json s = soak(python_worker("--leak-objects 3000"), "pymalloc", {}, "120");
  EXPECT_EQ(s["verdict"], "leak") << s["verdict_reason"];
  ASSERT_FALSE(s["heap_growth_bytes_per_run"].is_null());
  EXPECT_GT(s["heap_growth_bytes_per_run"].get<double>(), 100'000);

  s = soak("PYTHONMALLOC=malloc " + python_worker("--leak-objects 3000"), "malloc", {}, "120");
  EXPECT_EQ(s["verdict"], "leak") << s["verdict_reason"];
  ASSERT_FALSE(s["heap_growth_bytes_per_run"].is_null());
  EXPECT_GT(s["heap_growth_bytes_per_run"].get<double>(), 100'000);
}

}  // namespace
}  // namespace memsoak::testing
