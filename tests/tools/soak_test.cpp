// Soaks on real processes (label "soak"): each leak mode of the synthetic workload gets the
// verdict a user expects under in-process and fork, and both strategies compute the same outputs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "harness/sample_file.h"
#include "tests/tools/run_memsoak.h"

namespace memsoak::testing {
namespace {

class Soak : public MemsoakTest {
 protected:
  nlohmann::json soak(const std::string& leak, const std::string& strategies,
                      const std::string& iterations = "2000") {
    CommandResult r = memsoak({"run", "--workload", "synthetic", "--leak", leak, "--strategy", strategies,
                               "--iterations", iterations, "--out", "run", "--quiet"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return report("run");
  }
};

TEST_F(Soak, DroppedBufferLeaksInProcessAndIsStableUnderFork) {
  nlohmann::json r = soak("dropped:4096", "in-process,fork");
  nlohmann::json in_process = strategy(r, "in-process");
  EXPECT_EQ(in_process["verdict"], "leak") << in_process["verdict_reason"];
  EXPECT_NEAR(in_process["heap_growth_bytes_per_run"].get<double>(), 4096, 4096 * 0.05);
  EXPECT_NEAR(in_process["rss_growth_bytes_per_run"].get<double>(), 4096, 4096 * 0.10);
  EXPECT_EQ(in_process["runs"], 2000);
  EXPECT_EQ(in_process["failed_runs"], 0);

  nlohmann::json fork = strategy(r, "fork");
  EXPECT_EQ(fork["verdict"], "stable") << fork["verdict_reason"];
  EXPECT_GT(fork["rss_peak_bytes"].get<double>(), 0);
  EXPECT_GT(fork["latency_ms"]["p99"].get<double>(), 0);
}

TEST_F(Soak, ForkComputesTheSameOutputAsInProcessRunForRun) {
  soak("cache:512", "in-process,fork", "300");
  std::map<std::uint64_t, std::uint64_t> in_process;
  std::map<std::uint64_t, std::uint64_t> fork;
  for (const auto& record : harness::read_sample_file(work_ / "run" / "samples.bin")) {
    ASSERT_EQ(record.flags & harness::kRunFailed, 0u);
    (record.strategy_index == 0 ? in_process : fork)[record.run_index] = record.digest;
  }
  ASSERT_EQ(in_process.size(), 300u);
  EXPECT_EQ(in_process, fork);
  EXPECT_EQ(strategy(report("run"), "fork")["digest_mismatches"], 0);
}

TEST_F(Soak, ReachableCacheIsALeakInProcess) {
  nlohmann::json s = strategy(soak("cache:1024", "in-process"), "in-process");
  EXPECT_EQ(s["verdict"], "leak") << s["verdict_reason"];
  EXPECT_GT(s["heap_growth_bytes_per_run"].get<double>(), 1024);
}

TEST_F(Soak, SmallBoundedCacheIsStableAfterWarmup) {
  // 100 entries fill within the 200-run warm-up: what is analysed is flat.
  nlohmann::json s = strategy(soak("bounded:100x4096", "in-process"), "in-process");
  EXPECT_EQ(s["verdict"], "stable") << s["verdict_reason"];
}

TEST_F(Soak, LargeBoundedCacheIsAPlateauNotALeak) {
  // 1000 entries of 4 KiB fill during runs 200..1000 of 2000, then stay: grew, then flat.
  nlohmann::json s = strategy(soak("bounded:1000x4096", "in-process"), "in-process");
  EXPECT_EQ(s["verdict"], "plateau") << s["verdict_reason"];
}

TEST_F(Soak, ForkIsNotAffectedByWhatAnEarlierStrategyLeaked) {
  // In-process leaks 256 KiB x 300 = 75 MiB first; fork children must not inherit any of it.
  nlohmann::json r = soak("dropped:256KiB", "in-process,fork", "300");
  EXPECT_GT(strategy(r, "in-process")["rss_peak_bytes"].get<double>(), 64.0 * 1024 * 1024);
  EXPECT_LT(strategy(r, "fork")["rss_peak_bytes"].get<double>(), 32.0 * 1024 * 1024);
  EXPECT_EQ(strategy(r, "fork")["verdict"], "stable");
}

TEST_F(Soak, NoLeakIsStableEverywhere) {
  nlohmann::json r = soak("none", "in-process,fork");
  for (const char* name : {"in-process", "fork"}) {
    EXPECT_EQ(strategy(r, name)["verdict"], "stable") << name << ": " << strategy(r, name)["verdict_reason"];
  }
}

TEST_F(Soak, BudgetGateFailsOnlyAboveTheBudget) {
  CommandResult over =
      memsoak({"run", "--workload", "synthetic", "--leak", "dropped:4096", "--strategy", "in-process",
               "--iterations", "600", "--budget", "1KiB", "--out", "over", "--quiet"});
  EXPECT_EQ(over.exit_code, 1) << over.err;
  EXPECT_NE(over.err.find("in-process"), std::string::npos) << over.err;
  EXPECT_FALSE(report("over")["budget_violations"].empty());

  CommandResult too_short =
      memsoak({"run", "--workload", "synthetic", "--strategy", "in-process", "--iterations", "20", "--warmup",
               "0", "--budget", "1KiB", "--out", "short", "--quiet"});
  EXPECT_EQ(too_short.exit_code, 1) << "an inconclusive run must not pass a budget gate";
  EXPECT_NE(too_short.err.find("inconclusive"), std::string::npos) << too_short.err;

  CommandResult under =
      memsoak({"run", "--workload", "synthetic", "--leak", "dropped:4096", "--strategy", "in-process",
               "--iterations", "600", "--budget", "64KiB", "--out", "under", "--quiet"});
  EXPECT_EQ(under.exit_code, 0) << under.err;
}

// The default scenario (the seed case): a reranker that builds its model per call and keeps every
// one alive. In-process memory grows by about a model per run; fork reclaims it.
TEST_F(Soak, DefaultScenarioLeaksAModelPerRunInProcessAndIsStableUnderFork) {
  CommandResult r = memsoak({"run", "--iterations", "300", "--out", "run", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json report_json = report("run");
  auto run = nlohmann::json::parse(read_text(work_ / "run" / "run.json"));
  double model_bytes = run["workload_info"]["model_weights_bytes"].get<double>();
  nlohmann::json in_process = strategy(report_json, "in-process");
  EXPECT_EQ(in_process["verdict"], "leak") << in_process["verdict_reason"];
  EXPECT_GT(in_process["heap_growth_bytes_per_run"].get<double>(), model_bytes);
  // Weights plus the vocabulary and tokenizer tables that come with each retained model.
  EXPECT_LT(in_process["heap_growth_bytes_per_run"].get<double>(), 2 * model_bytes);
  nlohmann::json fork = strategy(report_json, "fork");
  // Never growth; 270 analysed runs of fork's RSS may not yet exclude 64 B/run.
  EXPECT_TRUE(fork["verdict"] == "stable" || fork["verdict"] == "inconclusive") << fork["verdict_reason"];
  EXPECT_EQ(fork["digest_mismatches"], 0);
  EXPECT_EQ(run["workload_info"]["load_method"], "read");
}

// No leak: never growth, and a flat live heap. 360 analysed runs may still show the allocator
// warming up as a small RSS plateau (30 KiB seen in one CI run), or RSS too noisy to settle yet.
TEST_F(Soak, RerankerWithoutALeakIsStable) {
  CommandResult r =
      memsoak({"run", "--workload", "reranker", "--iterations", "400", "--out", "run", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* name : {"in-process", "fork"}) {
    const nlohmann::json s = strategy(report("run"), name);
    EXPECT_TRUE(s["verdict"] == "stable" || s["verdict"] == "plateau" || s["verdict"] == "inconclusive")
        << name << ": " << s["verdict_reason"];
    EXPECT_NEAR(s["heap_growth_bytes_per_run"].get<double>(), 0, 64) << name;
  }
}

// Every process strategy on the same leak: only the one that keeps its process keeps the leak.
TEST_F(Soak, EachStrategyOnADroppedBuffer) {
  nlohmann::json r = soak("dropped:4096", "in-process,fork,zygote,spawn,recycle:50", "600");
  EXPECT_EQ(strategy(r, "in-process")["verdict"], "leak");
  for (const char* name : {"fork", "zygote", "spawn"}) {
    nlohmann::json s = strategy(r, name);
    // A fresh process per run: the live heap is exactly flat. Spawn's RSS (a new executable each run)
    // is noisy enough that 540 analysed runs may not yet exclude 64 B/run: never growth, though.
    EXPECT_EQ(s["heap_growth_bytes_per_run"], 0) << name;
    if (std::string(name) == "spawn") {
      EXPECT_TRUE(s["verdict"] == "stable" || s["verdict"] == "inconclusive")
          << name << ": " << s["verdict_reason"];
    } else {
      EXPECT_EQ(s["verdict"], "stable") << name << ": " << s["verdict_reason"];
    }
    EXPECT_EQ(s["digest_mismatches"], 0) << name;
    EXPECT_EQ(s["failed_runs"], 0) << name;
  }
  nlohmann::json recycle = strategy(r, "recycle:50");
  EXPECT_EQ(recycle["verdict"], "bounded") << recycle["verdict_reason"];
  EXPECT_NEAR(recycle["within_worker_growth_bytes_per_run"].get<double>(), 4096, 4096 * 0.05);
  // Zygote children share the template's pages: their unique memory is below their RSS.
  nlohmann::json zygote = strategy(r, "zygote");
  EXPECT_LT(zygote["uss_mean_bytes"].get<double>(), zygote["pss_mean_bytes"].get<double>());
  EXPECT_GT(zygote["footprint_pss_peak_bytes"].get<double>(), 0);
  EXPECT_GT(strategy(r, "spawn")["latency_ms"]["p50"].get<double>(),
            strategy(r, "in-process")["latency_ms"]["p50"].get<double>())
      << "a fresh executable per run costs more than a call";
}

TEST_F(Soak, EveryAllocatorRunsAndTheHeapCountersStillSeeTheLeak) {
  CommandResult r = memsoak({"run", "--workload", "synthetic", "--leak", "dropped:4096", "--strategy",
                             "in-process", "--allocator", "glibc,glibc-arena2,jemalloc,tcmalloc,mimalloc",
                             "--iterations", "300", "--out", "run", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json entries = report("run")["strategies"];
  ASSERT_EQ(entries.size(), 5u);
  for (const auto& s : entries) {
    EXPECT_EQ(s["failed_runs"], 0) << s["allocator"];
    EXPECT_EQ(s["verdict"], "leak") << s["allocator"] << ": " << s["verdict_reason"];
    EXPECT_NEAR(s["heap_growth_bytes_per_run"].get<double>(), 4096, 4096 * 0.05) << s["allocator"];
  }
}

TEST_F(Soak, TrimHoldsLessRssThanPlainInProcessOnAFragmentedHeap) {
  CommandResult r = memsoak({"run", "--workload", "reranker", "--leak", "fragmentation", "--strategy",
                             "in-process,in-process+trim", "--iterations", "400", "--out", "run", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json report_json = report("run");
  double plain = strategy(report_json, "in-process")["rss_last_bytes"].get<double>();
  double trimmed = strategy(report_json, "in-process+trim")["rss_last_bytes"].get<double>();
  EXPECT_LT(trimmed, plain);
}

// Faults on run 5 of 40: each strategy records one failed run with its reason and finishes.
TEST_F(Soak, CrashesHangsAndMemoryHogsAreFailedRunsAndTheSoakGoesOn) {
  struct Case {
    const char* leak;
    std::vector<std::string> extra;
    const char* reason;
  };
  for (const Case& c :
       {Case{"crash:5", {}, "signal 11"}, Case{"hang:5", {"--run-timeout", "1s"}, "--run-timeout"},
        Case{"hog:5", {"--child-memory-limit", "512MiB"}, "bad_alloc"}}) {
    std::string out = std::string("run-") + c.leak;
    out.erase(out.find(':'), 1);
    std::vector<std::string> args = {"run",
                                     "--workload",
                                     "synthetic",
                                     "--leak",
                                     c.leak,
                                     "--strategy",
                                     "in-process,fork,zygote,recycle:10",
                                     "--iterations",
                                     "40",
                                     "--out",
                                     out,
                                     "--quiet"};
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    CommandResult r = memsoak(args);
    ASSERT_EQ(r.exit_code, 0) << c.leak << ": " << r.err;
    for (const auto& s : report(out)["strategies"]) {
      EXPECT_EQ(s["runs"], 40) << c.leak << " " << s["strategy"];
      EXPECT_EQ(s["failed_runs"], 1) << c.leak << " " << s["strategy"];
    }
    std::string log = read_text(work_ / out / "run.log");
    EXPECT_NE(log.find(c.reason), std::string::npos) << log;
  }
}

TEST_F(Soak, MaxFailuresStopsAStrategyWithAClearMessage) {
  CommandResult r = memsoak({"run", "--workload", "synthetic", "--leak", "crash:0", "--strategy", "fork",
                             "--iterations", "50", "--max-failures", "1", "--out", "run", "--quiet"});
  // Its one run failed: a strategy that completed no run fails the soak (exit 4).
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("--max-failures"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("fork: no run completed (1 of 1 runs failed)"), std::string::npos) << r.err;
  EXPECT_EQ(strategy(report("run"), "fork")["runs"], 1);
}

// Processes whose working directory is `dir`: every process of a soak started there, forks,
// spawned runs and external workers alike (they inherit it).
std::vector<std::string> processes_in(const std::filesystem::path& dir) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::error_code ec;
    auto cwd = std::filesystem::read_symlink(entry.path() / "cwd", ec);
    if (!ec && cwd == dir && entry.path().filename() != std::to_string(::getpid())) {
      found.push_back(entry.path().filename().string());
    }
  }
  return found;
}

// Stops a soak started with `args` after two seconds with `sig`; returns its exit status.
int stop_soak(const std::filesystem::path& work, const std::vector<std::string>& args, int sig) {
  std::string command = "cd " + shell_quote(work.string()) + " && exec " + shell_quote(MEMSOAK_BINARY);
  for (const auto& a : args) command += " " + shell_quote(a);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_FALSE(processes_in(work).empty()) << "the soak should be running (else this test proves nothing)";
  ::kill(pid, sig);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

// Ctrl-C mid-soak: exit 130, a report of what was measured, and no process of the soak left.
TEST_F(Soak, SigintWritesTheReportAndLeavesNoProcessBehind) {
  int status = stop_soak(work_,
                         {"run", "--workload", "synthetic", "--strategy", "in-process,zygote", "--iterations",
                          "1000000", "--out", "run", "--quiet"},
                         SIGINT);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  nlohmann::json r = report("run");
  EXPECT_EQ(r["interrupted_by_signal"], SIGINT);
  EXPECT_GT(strategy(r, "in-process")["runs"].get<int>(), 0);
  EXPECT_TRUE(processes_in(work_).empty());
}

// kill -9 leaves no report; `memsoak report` rebuilds every output from what reached the disk,
// and the page says the soak did not finish.
TEST_F(Soak, KilledSoakIsRebuiltAndSaysItDidNotFinish) {
  int status = stop_soak(work_,
                         {"run", "--workload", "synthetic", "--leak", "dropped:1KiB", "--strategy",
                          "in-process,fork", "--iterations", "1000000", "--out", "run", "--quiet"},
                         SIGKILL);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(std::filesystem::exists(work_ / "run" / "report.html"));
  CommandResult r = memsoak({"report", "run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Analysed from the runs it did (a tenth of them warm-up), not from the 100,000 planned warm-up
  // runs it never reached: the 1 KiB/run leak is found.
  const nlohmann::json in_process = strategy(report("run"), "in-process");
  const auto runs = in_process["runs"].get<std::uint64_t>();
  ASSERT_GT(runs, 100u) << "too few runs in 2 s for a verdict";
  EXPECT_EQ(in_process["warmup_runs"].get<std::uint64_t>(), runs / 10);
  EXPECT_FALSE(in_process["finished"].get<bool>());
  EXPECT_EQ(in_process["verdict"], "leak") << in_process["verdict_reason"];
  EXPECT_NEAR(in_process["heap_growth_bytes_per_run"].get<double>(), 1040, 104);
  const std::string page = read_text(work_ / "run" / "report.html");
  EXPECT_NE(page.find("The soak did not finish"), std::string::npos);
  EXPECT_NE(page.find("fork did not start"), std::string::npos);
  EXPECT_NE(page.find("in-process has "), std::string::npos);
}

// One crash on run 5 replaces the in-process worker; the replacement's own warm-up used to read as
// "retention of 7.0 KiB/run" and fail a 4 KiB budget. 300 runs: enough to settle; at 50 the verdict
// may be inconclusive (it says how many more runs), but it is never growth.
TEST_F(Soak, ACrashsReplacementWarmingUpIsNotGrowth) {
  CommandResult r =
      memsoak({"run", "--workload", "synthetic", "--leak", "crash:5", "--strategy", "in-process",
               "--iterations", "300", "--budget", "4KiB", "--out", "crash300", "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json s = strategy(report("crash300"), "in-process");
  EXPECT_EQ(s["failed_runs"], 1);
  EXPECT_TRUE(s["verdict"] == "stable" || s["verdict"] == "plateau") << s["verdict_reason"];
  r = memsoak({"run", "--workload", "synthetic", "--leak", "crash:5", "--strategy", "in-process",
               "--iterations", "50", "--out", "crash50", "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  s = strategy(report("crash50"), "in-process");
  EXPECT_NE(s["verdict"], "retention") << s["verdict_reason"];
  EXPECT_NE(s["verdict"], "leak") << s["verdict_reason"];
}

// recycle:20 over 60 runs is three workers, each keeping 1 MiB a run: bounded, with the peak a
// worker reaches (it used to read "stable" with a positive interval).
TEST_F(Soak, RecyclingWithFewWorkersIsBoundedWithItsPeak) {
  CommandResult r = memsoak({"run", "--workload", "synthetic", "--leak", "dropped:1MiB", "--strategy",
                             "recycle:20", "--iterations", "60", "--out", "run", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json s = strategy(report("run"), "recycle:20");
  EXPECT_EQ(s["verdict"], "bounded") << s["verdict_reason"];
  ASSERT_TRUE(s["bound_bytes"].is_number());
  EXPECT_GT(s["bound_bytes"].get<double>(), 15.0 * 1048576);
  EXPECT_NEAR(s["within_worker_growth_bytes_per_run"].get<double>(), 1048576, 104858);
}

// A leak of 64 B/run in an external worker whose heap is not measured (--exec-tracker off): found
// from RSS alone within 2,000 runs, at its rate within 10 % of the memory it really keeps.
TEST_F(Soak, ASmallLeakIsFoundFromRssAlone) {
  CommandResult r =
      memsoak({"run", "--exec", std::string(MEMSOAK_EXAMPLE_WORKER) + " --leak 64", "--exec-tracker", "off",
               "--strategy", "in-process", "--iterations", "2000", "--out", "run", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json s = strategy(report("run"), "in-process");
  EXPECT_TRUE(s["heap_growth_bytes_per_run"].is_null());
  EXPECT_EQ(s["verdict"], "leak") << s["verdict_reason"];
  // What 64 bytes a run really keep: a 64-byte block is an 80-byte malloc chunk, plus the 8-byte
  // pointer the worker keeps it by: 88 B/run.
  EXPECT_NEAR(s["rss_growth_bytes_per_run"].get<double>(), 88, 8.8) << s["verdict_reason"];
}

// SIGTERM while an external worker that ignores both a closed stdin and SIGTERM is running: it
// is killed too, though it lives in a process group of its own.
TEST_F(Soak, SigtermLeavesNoExternalWorkerBehind) {
  std::ofstream(work_ / "stubborn.sh") << "trap '' TERM\necho READY\nwhile read -r cmd i; do echo OK; done\n"
                                          "while true; do sleep 1; done\n";
  int status = stop_soak(work_,
                         {"run", "--exec", "sh stubborn.sh", "--strategy", "in-process", "--iterations",
                          "100000000", "--out", "run", "--quiet"},
                         SIGTERM);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 143);
  EXPECT_EQ(report("run")["interrupted_by_signal"], SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(processes_in(work_).empty());
}

// The example Python worker (a LangFlow-style reranker component): its module-level history list
// leaks with one persistent worker, and a fresh worker per run reclaims it.
TEST_F(Soak, PythonWorkerLeaksInProcessAndIsStableWithFork) {
  const std::string worker = std::string(MEMSOAK_SOURCE_DIR) + "/scenarios/workers/reranker_worker.py";
  CommandResult r = memsoak({"run", "--exec", "exec /usr/bin/python3 " + worker + " --leak", "--strategy",
                             "in-process", "--iterations", "150", "--out", "persistent", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json persistent = strategy(report("persistent"), "in-process");
  EXPECT_EQ(persistent["verdict"], "leak") << persistent["verdict_reason"];
  // The exec tracker (on by default) sees the history list: small objects in pymalloc's arenas.
  ASSERT_FALSE(persistent["heap_growth_bytes_per_run"].is_null());
  EXPECT_GT(persistent["heap_growth_bytes_per_run"].get<double>(), 10'000);

  r = memsoak({"run", "--exec", "exec /usr/bin/python3 " + worker + " --leak", "--strategy", "fork",
               "--iterations", "40", "--out", "fresh", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json fresh = strategy(report("fresh"), "fork");
  // A fresh process every run keeps nothing. 40 runs of a Python worker's RSS cannot exclude
  // 64 B/run yet, so the verdict may be inconclusive; it is never growth.
  EXPECT_TRUE(fresh["verdict"] == "stable" || fresh["verdict"] == "inconclusive") << fresh["verdict_reason"];
  EXPECT_EQ(fresh["failed_runs"], 0);
}

// A worker that crashes, hangs or prints garbage on run 5: a failed run each, replaced, finished.
TEST_F(Soak, ExternalWorkerFaultsAreFailedRunsAndTheWorkerIsReplaced) {
  for (const char* fault : {"--crash-on", "--hang-on", "--garbage-on"}) {
    std::string out = std::string("run") + fault;
    CommandResult r = memsoak(
        {"run", "--exec", "exec " + std::string(MEMSOAK_EXAMPLE_WORKER) + " " + fault + " 5", "--strategy",
         "in-process,recycle:10", "--iterations", "40", "--run-timeout", "1s", "--out", out, "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << fault << ": " << r.err;
    for (const auto& s : report(out)["strategies"]) {
      EXPECT_EQ(s["runs"], 40) << fault << " " << s["strategy"];
      EXPECT_EQ(s["failed_runs"], 1) << fault << " " << s["strategy"] << " "
                                     << read_text(work_ / out / "run.log");
    }
  }
}

}  // namespace
}  // namespace memsoak::testing
