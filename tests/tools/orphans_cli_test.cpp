// No process of a soak outlives it, however memsoak ends (the soak keeper,
// harness/soak_keeper.h, and the supervisor's end of each entry): a worker's helpers and daemons,
// a child a native plugin forks and never executes anything in, a memsoak run inside another
// soak's worker. Each test is a few seconds.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "tests/tools/hardening.h"

namespace memsoak::testing {
namespace {

// --- nothing left behind -----------------------------------------------------------------------

// A worker that forks a helper, starts a daemon in a session of its own, and ignores SIGTERM;
// every process of it carries `marker` in its command line.
std::string hostile_worker(const std::string& marker) {
  return "trap '' TERM; sleep " + marker + " & setsid sleep " + marker +
         " & echo READY; while read line; do echo OK; done; sleep " + marker;
}

// Waits up to 20 s for the two sleeps of hostile_worker(marker) to run (memsoak, its keeper and the
// worker's shell carry the marker too).
bool wait_for_sleeps(const std::string& marker) {
  const std::string sleeping = "sleep " + marker + " ";
  auto sleeps = [&] {
    std::size_t n = 0;
    for (pid_t p : processes_with(marker)) {
      std::string cmdline = read_text("/proc/" + std::to_string(p) + "/cmdline");
      for (char& c : cmdline) c = c == '\0' ? ' ' : c;
      if (cmdline.starts_with(sleeping)) ++n;
    }
    return n;
  };
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (sleeps() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
  return sleeps() >= 2;
}

class NothingLeftBehind : public Hardening, public ::testing::WithParamInterface<int> {};

TEST_P(NothingLeftBehind, WhateverEndsMemsoak) {
  const int sig = GetParam();
  // Two digits for the signal: no test's marker is a prefix of another's (1 and 15).
  const std::string marker = fmt::format("4242.{}{:02d}", ::getpid(), sig);
  pid_t pid = start_memsoak({"run", "--exec", hostile_worker(marker), "--exec-tracker", "off", "--strategy",
                             "in-process,recycle:5", "--iterations", "100000", "--out", "run", "--quiet"});
  ASSERT_TRUE(wait_for_sleeps(marker)) << "the worker's helper and daemon should be running";
  std::this_thread::sleep_for(300ms);
  ::kill(pid, sig);
  const int code = wait_exit_code(pid);
  if (sig == SIGKILL) {
    EXPECT_EQ(code, 128 + SIGKILL);
  } else {
    EXPECT_EQ(code, 128 + sig) << read_text(work_ / ".bg-stderr");
    EXPECT_TRUE(std::filesystem::exists(work_ / "run" / "report.json")) << "the report is written first";
    EXPECT_TRUE(processes_with(marker).empty()) << "an orderly stop leaves nothing, at once";
  }
  EXPECT_TRUE(none_left(marker)) << "processes of the soak outlived memsoak";
}
INSTANTIATE_TEST_SUITE_P(Signals, NothingLeftBehind, ::testing::Values(SIGKILL, SIGTERM, SIGHUP),
                         [](const auto& param_info) { return std::string(sigabbrev_np(param_info.param)); });

// A memsoak run inside another soak's worker, and kill -9 of the outer soak: nothing of either is
// left, the inner worker's daemon included (both keepers find it; the outer one used to kill the
// inner keeper first and miss the daemon, which carried the inner soak's token only).
TEST_F(Hardening, ASoakInsideAnotherSoaksWorkerLeavesNothingWhenTheOuterIsKilled) {
  const std::string marker = fmt::format("4343.{}", ::getpid());
  const std::string inner =
      shell_quote(MEMSOAK_BINARY) + " run --exec " + shell_quote(hostile_worker(marker)) +
      " --exec-tracker off --strategy in-process --iterations 100000 --out inner --quiet";
  pid_t pid = start_memsoak({"run", "--exec", inner + " & echo READY; while read line; do echo OK; done",
                             "--exec-tracker", "off", "--strategy", "in-process", "--iterations", "100000",
                             "--out", "outer", "--quiet"});
  ASSERT_TRUE(wait_for_sleeps(marker)) << "the inner worker's helper and daemon should be running";
  std::this_thread::sleep_for(300ms);
  ::kill(pid, SIGKILL);
  EXPECT_EQ(wait_exit_code(pid), 128 + SIGKILL);
  EXPECT_TRUE(none_left(marker)) << "processes of the inner soak outlived the outer one";
}
// Whether `pid` is a process that has not ended (a zombie has).
bool running(pid_t pid) {
  const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  const std::size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

// Waits up to `timeout` for `path` to hold a pid; 0 if it does not.
pid_t wait_for_pid_file(const std::filesystem::path& path, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::filesystem::exists(path)) return static_cast<pid_t>(std::stoi(read_text(path)));
    std::this_thread::sleep_for(20ms);
  }
  return 0;
}

// A child that a plugin forks in memsoak's own process and that never executes anything holds
// every pipe of the entry process: the soak must still end, and the child must not outlive it.
class LingeringChild : public Hardening {
 protected:
  // Starts an in-process soak of the hostile plugin whose run 3 forks the child; returns memsoak's
  // pid once the child runs, and sets child_ (0: it never started).
  pid_t start(const std::string& iterations) {
    const std::filesystem::path pid_file = work_ / "lingering.pid";
    pid_t pid = start_memsoak({"run", "--plugin", MEMSOAK_HOSTILE_PLUGIN, "--plugin-config",
                               "linger:3:" + pid_file.string(), "--strategy", "in-process", "--iterations",
                               iterations, "--out", "run", "--quiet"});
    child_ = wait_for_pid_file(pid_file);
    return pid;
  }
  void TearDown() override {
    if (child_ != 0) ::kill(child_, SIGKILL);
    Hardening::TearDown();
  }
  pid_t child_ = 0;
};

TEST_F(LingeringChild, NeitherHangsTheSoakNorOutlivesIt) {
  const pid_t pid = start("50");
  const pid_t child = child_;
  ASSERT_NE(child, 0) << "the plugin's child never started";
  int code = -1;
  for (int i = 0; i < 300 && code < 0; ++i) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    std::this_thread::sleep_for(100ms);
  }
  if (code < 0) ::kill(pid, SIGKILL), wait_exit_code(pid);
  ASSERT_GE(code, 0) << "the soak did not end within 30 s of 50 quick runs";
  EXPECT_EQ(code, 0) << read_text(work_ / ".bg-stderr");
  EXPECT_EQ(strategy(report("run"), "in-process")["runs"], 50);
  EXPECT_FALSE(running(child)) << "the plugin's child outlived the soak";
}

// The same child after kill -9 of memsoak: nothing is left to reap it but the keeper's sweep.
TEST_F(LingeringChild, DoesNotOutliveAKilledSoak) {
  const pid_t pid = start("100000000");
  const pid_t child = child_;
  ASSERT_NE(child, 0) << "the plugin's child never started";
  std::this_thread::sleep_for(200ms);
  ::kill(pid, SIGKILL);
  EXPECT_EQ(wait_exit_code(pid), 128 + SIGKILL);
  const auto deadline = std::chrono::steady_clock::now() + 6s;
  while (running(child) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(running(child)) << "the plugin's child outlived the killed soak";
}
// A process that a shell started before it executed memsoak (`helper & exec memsoak run ...`) is
// memsoak's child without being the soak's: the end of each entry leaves it alone.
TEST_F(Hardening, AProcessThatPredatesTheSoakOutlivesItsEntries) {
  const std::filesystem::path pid_file = work_ / "before.pid";
  const std::string command =
      "sleep 600 & echo $! > " + shell_quote(pid_file.string()) + "; exec " + shell_quote(MEMSOAK_BINARY) +
      " run --workload synthetic --strategy in-process,fork --iterations 40 --out run "
      "--quiet";
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(work_.c_str()) != 0) ::_exit(127);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const int code = wait_exit_code(pid);
  const pid_t before = wait_for_pid_file(pid_file, 1s);
  ASSERT_NE(before, 0);
  const bool alive = running(before);
  ::kill(before, SIGKILL);
  EXPECT_EQ(code, 0) << read_text(work_ / "run" / "run.log");
  EXPECT_TRUE(alive) << "memsoak killed a process its caller had started";
}

// memsoak executes itself as /proc/self/exe, which the kernel would name "exe": ps, pgrep and
// killall find it by its own name.
TEST_F(LingeringChild, MemsoakKeepsItsNameAfterExecutingItself) {
  const pid_t pid = start("100000000");
  ASSERT_NE(child_, 0) << "the plugin's child never started";
  std::string comm = read_text("/proc/" + std::to_string(pid) + "/comm");
  ::kill(pid, SIGKILL);
  wait_exit_code(pid);
  while (!comm.empty() && comm.back() == '\n') comm.pop_back();
  EXPECT_EQ(comm, std::filesystem::path(MEMSOAK_BINARY).filename().string().substr(0, 15));
}
}  // namespace
}  // namespace memsoak::testing
