// ExternalWorker against real workers: the C++ and Python examples and shell snippets that break
// protocol v1 in every way the protocol names; each failure is a run with a reason, and stop()
// leaves no process behind.
#include "harness/external_worker.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "harness/internal/clock.h"
#include "harness/internal/worker_answer.h"
#include "harness/process_tree.h"
#include "harness/workload.h"
#include "reports/growth.h"

namespace memsoak::harness {
namespace {

using internal::monotonic_ns;

std::string cpp_worker(const std::string& flags = "") {
  return std::string("'") + MEMSOAK_EXAMPLE_WORKER + "' " + flags;
}

std::string python_worker(const std::string& flags = "") {
  return std::string("'") + MEMSOAK_PYTHON3 + "' '" + MEMSOAK_RERANKER_WORKER_PY + "' " + flags;
}

// The answer line alone (tests/fuzz/worker_protocol_fuzz.cpp fuzzes it): OK with or without a
// text, ERR with or without a reason (control bytes made spaces), and anything else refused.
TEST(WorkerAnswer, ReadsOkAndErrAndRefusesTheRest) {
  RunOutcome ok;
  EXPECT_TRUE(internal::read_worker_answer("OK 1a2b", ok));
  EXPECT_TRUE(ok.ok);
  RunOutcome bare;
  EXPECT_TRUE(internal::read_worker_answer("OK", bare));
  EXPECT_NE(ok.digest, bare.digest);
  RunOutcome err;
  EXPECT_TRUE(internal::read_worker_answer(std::string("ERR out\tof\0memory", 17), err));
  EXPECT_FALSE(err.ok);
  EXPECT_EQ(err.failure, "out of memory");
  RunOutcome silent;
  EXPECT_TRUE(internal::read_worker_answer("ERR", silent));
  EXPECT_EQ(silent.failure, "worker answered ERR without a reason");
  for (const char* line : {"", "OKAY", "ok", " OK", "ERRno", "READY"}) {
    RunOutcome outcome;
    EXPECT_FALSE(internal::read_worker_answer(line, outcome)) << line;
  }
}

ExternalWorkerOptions options_for(const std::string& command) {
  ExternalWorkerOptions options;
  options.command = command;
  options.ready_timeout_ms = 20'000;
  options.run_timeout_ms = 20'000;
  options.stop_grace_ms = 300;
  return options;
}

std::unique_ptr<ExternalWorker> started(const ExternalWorkerOptions& options) {
  auto worker = std::make_unique<ExternalWorker>(options);
  WorkerStart start = worker->start();
  EXPECT_TRUE(start.ok) << start.failure;
  EXPECT_GT(start.setup_ns, 0);
  return worker;
}

std::unique_ptr<ExternalWorker> started(const std::string& command) { return started(options_for(command)); }

std::uint64_t digest_of(std::string_view text) { return fnv1a64(text.data(), text.size()); }

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Processes whose process group is `pgid`, zombies included (field 5 of /proc/PID/stat).
std::vector<pid_t> group_members(pid_t pgid) {
  std::vector<pid_t> members;
  for (pid_t pid : list_descendants(1)) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    std::size_t close = text.rfind(')');
    if (close == std::string::npos) continue;
    char state;
    int ppid = 0, pgrp = 0;
    if (std::sscanf(text.c_str() + close + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 && pgrp == pgid) {
      members.push_back(pid);
    }
  }
  return members;
}

TEST(ExternalWorker, CppWorkerRoundTripWithDigestsEqualAcrossInstances) {
  std::vector<std::uint64_t> digests[2];
  for (auto& instance_digests : digests) {
    auto worker = started(cpp_worker());
    for (std::uint64_t i = 0; i < 5; ++i) {
      RunOutcome outcome = worker->run(i);
      ASSERT_TRUE(outcome.ok) << outcome.failure;
      EXPECT_TRUE(outcome.failure.empty());
      EXPECT_GT(outcome.latency_ns, 0);
      EXPECT_GT(outcome.worker.rss_bytes, 0);
      EXPECT_GE(outcome.worker.threads, 1);
      EXPECT_GE(outcome.worker.open_fds, 3);
      EXPECT_EQ(outcome.worker.heap_live_bytes, kNotMeasured);
      instance_digests.push_back(outcome.digest);
    }
    EXPECT_FALSE(worker->broken());
    WorkerExit exit = worker->stop();
    EXPECT_EQ(exit.stopped_by, WorkerExit::StoppedBy::kStdinClosed);
    EXPECT_EQ(exit.description(), "exited with status 0");
    EXPECT_GT(exit.peak_rss_bytes, 0);
    EXPECT_EQ(worker->pid(), 0);
  }
  EXPECT_EQ(digests[0], digests[1]);
  EXPECT_NE(digests[0][0], digests[0][1]);
}

TEST(ExternalWorker, PythonRerankerRoundTripWithDigestsEqualAcrossInstancesAndLeakModes) {
  std::vector<std::uint64_t> digests[2];
  const std::string commands[2] = {python_worker(), python_worker("--leak")};
  for (int k = 0; k < 2; ++k) {
    auto worker = started(commands[k]);
    for (std::uint64_t i : {0u, 1u, 64u}) {
      RunOutcome outcome = worker->run(i);
      ASSERT_TRUE(outcome.ok) << outcome.failure;
      digests[k].push_back(outcome.digest);
      EXPECT_GT(outcome.worker.rss_bytes, 3 << 20) << "the model alone is 3 MiB";
    }
    EXPECT_EQ(worker->stop().description(), "exited with status 0");
  }
  EXPECT_EQ(digests[0], digests[1]);
  EXPECT_NE(digests[0][0], digests[0][1]);
  EXPECT_EQ(digests[0][0], digests[0][2]) << "run 64 reranks query 0 again";
}

// The first ```python block of docs/worker-protocol.md, as a file to run.
std::string documented_example_worker() {
  std::ifstream doc(MEMSOAK_WORKER_PROTOCOL_MD);
  std::string line, code;
  bool inside = false;
  while (std::getline(doc, line)) {
    if (inside && line == "```") break;
    if (inside) code += line + "\n";
    if (line == "```python") inside = true;
  }
  std::string path = ::testing::TempDir() + "documented_worker.py";
  std::ofstream(path) << code;
  return path;
}

TEST(ExternalWorker, TheDocumentedExampleWorkerFollowsTheProtocol) {
  auto worker = started(std::string("exec '") + MEMSOAK_PYTHON3 + "' '" + documented_example_worker() + "'");
  for (std::uint64_t i : {0u, 1u}) {
    RunOutcome outcome = worker->run(i);
    ASSERT_TRUE(outcome.ok) << outcome.failure;
    EXPECT_EQ(outcome.worker.threads, 1) << "exec: the shell is gone";
  }
  EXPECT_EQ(worker->stop().description(), "exited with status 0");
}

TEST(ExternalWorker, OkWithoutTextIsTheDigestOfNothing) {
  auto worker = started("echo READY; read l; echo OK; read l; echo 'OK '; read l");
  EXPECT_EQ(worker->run(0).digest, digest_of(""));
  EXPECT_EQ(worker->run(1).digest, digest_of(""));
}

TEST(ExternalWorker, TheWorkerSeesMemsoakWorkerInItsEnvironment) {
  ::setenv("MEMSOAK_WORKER", "inherited", 1);
  auto worker = started("echo READY; read l; echo \"OK $MEMSOAK_WORKER\"");
  ::unsetenv("MEMSOAK_WORKER");
  RunOutcome outcome = worker->run(0);
  ASSERT_TRUE(outcome.ok) << outcome.failure;
  EXPECT_EQ(outcome.digest, digest_of("1"));
}

TEST(ExternalWorker, TheCppWorkersLeakShowsInItsSamplesAndItsPeak) {
  auto worker = started("exec " + cpp_worker("--leak 1048576"));
  std::int64_t first_rss_bytes = worker->run(0).worker.rss_bytes;
  RunOutcome last;
  for (std::uint64_t i = 1; i <= 20; ++i) last = worker->run(i);
  ASSERT_TRUE(last.ok) << last.failure;
  EXPECT_GE(last.worker.rss_bytes - first_rss_bytes, 19 << 20);
  EXPECT_GE(worker->stop().peak_rss_bytes, last.worker.rss_bytes * 9 / 10);
}

TEST(ExternalWorker, ErrIsAFailedRunAndTheWorkerStaysUsable) {
  auto worker = started(cpp_worker("--err-on 1"));
  EXPECT_TRUE(worker->run(0).ok);
  RunOutcome failed = worker->run(1);
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ(failed.failure, "injected error on run 1");
  EXPECT_GT(failed.worker.rss_bytes, 0);
  EXPECT_FALSE(worker->broken());
  EXPECT_TRUE(worker->run(2).ok);
}

TEST(ExternalWorker, ErrWithoutTextStillGivesAReason) {
  auto worker = started("echo READY; read l; echo ERR");
  RunOutcome failed = worker->run(0);
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ(failed.failure, "worker answered ERR without a reason");
  EXPECT_FALSE(worker->broken());
}

TEST(ExternalWorker, AGarbageLineBreaksTheWorker) {
  auto worker = started(cpp_worker("--garbage-on 1"));
  EXPECT_TRUE(worker->run(0).ok);
  RunOutcome failed = worker->run(1);
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ(failed.failure,
            "worker wrote 'this is not a protocol line \\x01' instead of the answer to RUN 1");
  EXPECT_TRUE(worker->broken());
  EXPECT_THROW(worker->run(2), std::logic_error);
  EXPECT_EQ(worker->stop().description(), "exited with status 0");
}

TEST(ExternalWorker, ACrashBreaksTheWorkerAndTheReasonNamesTheSignal) {
  auto worker = started("exec " + cpp_worker("--crash-on 1"));
  EXPECT_TRUE(worker->run(0).ok);
  RunOutcome failed = worker->run(1);
  EXPECT_FALSE(failed.ok);
  EXPECT_TRUE(worker->broken());
  EXPECT_EQ(failed.failure,
            "output ended before the answer to RUN 1: worker killed by signal 11 (Segmentation fault)");
  EXPECT_EQ(worker->stop().description(), "killed by signal 11 (Segmentation fault)");
}

// Debian's dash does not exec the last command of `sh -c`: without `exec` every worker is the
// shell's child, and a crash reaches memsoak as the shell's exit status 128 + signal.
TEST(ExternalWorker, ACrashBehindTheShellIsNamedToo) {
  auto worker = started(cpp_worker("--crash-on 0"));
  RunOutcome failed = worker->run(0);
  EXPECT_TRUE(worker->broken());
  EXPECT_TRUE(has(failed.failure, "exited with status 139 (from a shell: its child was killed by signal 11"))
      << failed.failure;
}

TEST(ExternalWorker, AHangTimesOutAndBreaksTheWorker) {
  ExternalWorkerOptions options = options_for(cpp_worker("--hang-on 1"));
  options.run_timeout_ms = 500;
  auto worker = started(options);
  EXPECT_TRUE(worker->run(0).ok);
  RunOutcome failed = worker->run(1);
  EXPECT_FALSE(failed.ok);
  EXPECT_TRUE(worker->broken());
  EXPECT_EQ(failed.failure, "waited 500 ms for the answer to RUN 1 in vain");
  EXPECT_GE(failed.latency_ns, 500'000'000);
  EXPECT_LT(failed.latency_ns, 1'500'000'000);
  EXPECT_GT(failed.worker.rss_bytes, 0) << "a hung worker is still sampled";
  WorkerExit exit = worker->stop();
  EXPECT_EQ(exit.stopped_by, WorkerExit::StoppedBy::kSigterm);
  EXPECT_EQ(exit.description(), "killed by signal 15 (Terminated) after SIGTERM");
}

TEST(ExternalWorker, AnAnswerCutOffByTheEndOfOutputQuotesWhatCame) {
  auto worker = started("echo READY; read l; printf 'OK 12'");
  RunOutcome failed = worker->run(0);
  EXPECT_TRUE(worker->broken());
  EXPECT_EQ(failed.failure,
            "output ended before the answer to RUN 0, after 'OK 12' without a newline: worker exited with "
            "status 0");
}

TEST(ExternalWorker, OutputBeforeRunBreaksTheWorker) {
  auto worker = started("echo READY; echo 'debug print'; read l; echo OK");
  ::usleep(100'000);  // let the stray line arrive before RUN is written
  RunOutcome failed = worker->run(0);
  EXPECT_TRUE(worker->broken());
  EXPECT_EQ(failed.failure, "worker wrote 'debug print' before RUN 0");
}

TEST(ExternalWorker, LongLinesAreReadWholeUpToOneMebibyte) {
  auto worker = started(
      "echo READY; read l; printf 'OK '; head -c 900000 /dev/zero | tr '\\0' b; echo; read l;"
      "head -c 1100000 /dev/zero | tr '\\0' c; echo");
  RunOutcome ok = worker->run(0);
  ASSERT_TRUE(ok.ok) << ok.failure;
  EXPECT_EQ(ok.digest, digest_of(std::string(900'000, 'b')));
  RunOutcome failed = worker->run(1);
  EXPECT_TRUE(worker->broken());
  EXPECT_EQ(failed.failure, "worker wrote over 1 MiB without a newline instead of the answer to RUN 1");
}

TEST(ExternalWorker, WritingToAWorkerThatClosedItsStdinIsAFailureNotSigpipe) {
  auto worker = started("exec </dev/null; echo READY; sleep 5");
  RunOutcome failed = worker->run(0);
  EXPECT_TRUE(worker->broken());
  EXPECT_EQ(failed.failure, "worker closed its stdin before RUN 0: worker is still running");
  sigset_t pending;
  ::sigpending(&pending);
  EXPECT_FALSE(::sigismember(&pending, SIGPIPE));
}

TEST(ExternalWorker, NoReadyWithinTheTimeoutFailsTheStart) {
  ExternalWorkerOptions options = options_for("sleep 100");
  options.ready_timeout_ms = 300;
  options.stop_grace_ms = 100;
  ExternalWorker worker(options);
  std::int64_t t0 = monotonic_ns();
  WorkerStart start = worker.start();
  EXPECT_LT(monotonic_ns() - t0, 2'000'000'000);
  EXPECT_FALSE(start.ok);
  EXPECT_EQ(start.failure, "waited 300 ms for READY in vain");
  EXPECT_TRUE(worker.broken());
  EXPECT_EQ(worker.pid(), 0) << "a worker that failed to start is already stopped";
  EXPECT_EQ(worker.last_exit().description(), "killed by signal 15 (Terminated) after SIGTERM");
}

TEST(ExternalWorker, AnotherFirstLineOrAnEarlyExitFailsTheStartAndStderrGoesToTheLog) {
  {
    ExternalWorker worker(options_for("echo hello"));
    EXPECT_EQ(worker.start().failure, "worker wrote 'hello' instead of READY");
  }
  std::string log_path = ::testing::TempDir() + "external_worker_test.log";
  std::remove(log_path.c_str());
  ExternalWorkerOptions options = options_for("echo 'model file missing' >&2; exit 3");
  options.stderr_log_path = log_path;
  ExternalWorker worker(options);
  EXPECT_EQ(worker.start().failure, "output ended before READY: worker exited with status 3");
  std::ifstream log(log_path);
  std::string line;
  std::getline(log, line);
  EXPECT_EQ(line, "model file missing");
}

TEST(ExternalWorker, StopEscalatesToSigkillAndLeavesNothingOfTheGroup) {
  ExternalWorkerOptions options = options_for("trap '' TERM; echo READY; sleep 100; true");
  options.stop_grace_ms = 200;
  auto worker = started(options);
  pid_t pgid = worker->pid();
  // READY comes before the shell starts its sleep.
  for (int i = 0; i < 200 && list_descendants(pgid).empty(); ++i) ::usleep(10'000);
  ASSERT_EQ(list_descendants(pgid).size(), 1u) << "the shell waits for its sleep";
  EXPECT_EQ(group_members(pgid).size(), 2u);
  std::int64_t t0 = monotonic_ns();
  WorkerExit exit = worker->stop();
  EXPECT_LT(monotonic_ns() - t0, 2'000'000'000);
  EXPECT_EQ(exit.stopped_by, WorkerExit::StoppedBy::kSigkill);
  EXPECT_EQ(exit.description(), "killed by signal 9 (Killed) after SIGKILL");
  EXPECT_TRUE(group_members(pgid).empty()) << "no process, not even a zombie, is left of the group";
  EXPECT_EQ(worker->stop().stopped_by, WorkerExit::StoppedBy::kSigkill) << "stop() again changes nothing";
}

TEST(ExternalWorker, TheDestructorStopsTheWorker) {
  pid_t pid;
  {
    auto worker = started(cpp_worker());
    pid = worker->pid();
    EXPECT_EQ(::kill(pid, 0), 0);
  }
  EXPECT_TRUE(group_members(pid).empty());
  EXPECT_NE(::kill(pid, 0), 0);
}

TEST(ExternalWorker, MisuseThrows) {
  EXPECT_THROW(ExternalWorker(options_for("")), std::invalid_argument);
  ExternalWorkerOptions options = options_for("true");
  options.run_timeout_ms = 0;
  EXPECT_THROW(ExternalWorker{options}, std::invalid_argument);
  ExternalWorker worker(options_for(cpp_worker()));
  EXPECT_THROW(worker.run(0), std::logic_error);
  EXPECT_TRUE(worker.start().ok);
  EXPECT_THROW(worker.start(), std::logic_error);
}

// RSS of a worker over `runs` runs, after `warmup_runs` left out.
std::vector<double> rss_series(const std::string& command, int runs, int warmup_runs) {
  auto worker = started(command);
  std::vector<double> rss;
  for (int i = 0; i < runs; ++i) {
    RunOutcome outcome = worker->run(static_cast<std::uint64_t>(i));
    EXPECT_TRUE(outcome.ok) << outcome.failure;
    if (i >= warmup_runs) rss.push_back(static_cast<double>(outcome.worker.rss_bytes));
  }
  return rss;
}

TEST(ExternalWorkerSoak, PythonRerankerLeakGrowsItsRssAndTheCleanOneDoesNot) {
  constexpr int kRuns = 300, kWarmupRuns = 30;
  std::vector<double> leaking = rss_series(python_worker("--leak"), kRuns, kWarmupRuns);
  std::vector<double> clean = rss_series(python_worker(), kRuns, kWarmupRuns);
  auto verdict = [](const std::vector<double>& rss) {
    return reports::classify(
        std::nullopt, reports::analyse_series(rss, reports::rss_series(reports::kSignificance)), rss.size());
  };
  reports::Classification leak = verdict(leaking), stable = verdict(clean);
  EXPECT_EQ(leak.verdict, reports::Verdict::kLeak) << leak.reason;
  EXPECT_EQ(stable.verdict, reports::Verdict::kStable) << stable.reason;
  EXPECT_GT(leaking.back() - leaking.front(), 5.0 * (1 << 20));
  EXPECT_LT(clean.back() - clean.front(), 1.0 * (1 << 20));
  std::printf("leak: %+.0f KiB over %d runs; clean: %+.0f KiB\n", (leaking.back() - leaking.front()) / 1024,
              kRuns - kWarmupRuns, (clean.back() - clean.front()) / 1024);
}

}  // namespace
}  // namespace memsoak::harness
