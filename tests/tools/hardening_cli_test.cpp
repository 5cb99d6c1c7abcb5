// memsoak against hostile workloads and bad input: limits that hold for external workers,
// workers that never start, contradictory options, run directories that cannot be created or are
// already taken, workloads that misbehave with memsoak's process, kill -9 at random moments (no
// process left behind: orphans_cli_test.cpp). Each test is a few seconds.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <thread>

#include "harness/sample_file.h"
#include "harness/soak_keeper.h"
#include "tests/sanitizers.h"
#include "tests/tools/hardening.h"

namespace memsoak::testing {
namespace {

using namespace std::chrono_literals;

// --- the memory limit --------------------------------------------------------------------------

TEST_F(Hardening, ChildMemoryLimitHoldsInsideAnExternalWorker) {
  // The worker answers ERR with its own address-space limit (ulimit -v, in KiB).
  const std::string worker = "echo READY; while read line; do echo \"ERR limit=$(ulimit -v)\"; done";
  CommandResult r =
      memsoak({"run", "--exec", worker, "--exec-tracker", "off", "--strategy", "in-process,recycle:2",
               "--iterations", "4", "--child-memory-limit", "512MiB", "--out", "run", "--quiet"});
  EXPECT_EQ(r.exit_code, 4) << "every run failed: " << r.err;
  const std::string log = read_text(work_ / "run" / "run.log");
  EXPECT_NE(log.find("limit=524288"), std::string::npos) << log;
  EXPECT_EQ(log.find("limit=unlimited"), std::string::npos) << log;
}

TEST_F(Hardening, AnExternalWorkerPastTheLimitFailsItsRunsAndSaysWhy) {
  // The example worker is built like memsoak, under ASan in the sanitizer job.
  if (kUnderAsan) GTEST_SKIP() << kNoAddressSpaceLimitUnderAsan;
  // 8 MiB kept per run: under a 128 MiB limit the worker cannot get past about 12 runs.
  CommandResult r = memsoak({"run", "--exec", example_worker("--leak 8388608"), "--exec-tracker", "off",
                             "--strategy", "in-process", "--iterations", "20", "--child-memory-limit",
                             "128MiB", "--out", "run", "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json s = strategy(report("run"), "in-process");
  EXPECT_GT(s["failed_runs"].get<int>(), 0);
  EXPECT_LT(s["rss_peak_bytes"].get<double>(), 128.0 * 1024 * 1024);
  const std::string log = read_text(work_ / "run" / "run.log");
  EXPECT_NE(log.find("under --child-memory-limit 128.0 MiB"), std::string::npos) << log;
}

// --- workers that never start ------------------------------------------------------------------

TEST_F(Hardening, AWorkerThatNeverStartsStopsItsStrategyAndTheSoakFails) {
  const auto t0 = std::chrono::steady_clock::now();
  // The exec tracker off: under ASan its preloaded library cannot start /bin/sh.
  CommandResult r =
      memsoak({"run", "--exec", "echo 'model.bin: no such file' >&2; exit 1", "--exec-tracker", "off",
               "--strategy", "in-process,fork", "--iterations", "50", "--out", "run", "--quiet"});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s);
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("in-process: no run completed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'model.bin: no such file'"), std::string::npos) << r.err;
  nlohmann::json s = strategy(report("run"), "fork");
  EXPECT_EQ(s["runs"], 3) << "stopped after 3 start failures in a row";
  EXPECT_NE(s["stopped"].get<std::string>().find("failed to start 3 times in a row"), std::string::npos);
}

TEST_F(Hardening, ExecFalseDoesNotExitZero) {
  CommandResult r = memsoak({"run", "--exec", "false", "--strategy", "in-process", "--iterations", "10",
                             "--out", "run", "--quiet"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
}

TEST_F(Hardening, AWorkerThatNeverSaysReadyCostsThreeTimeoutsNotOnePerRun) {
  const auto t0 = std::chrono::steady_clock::now();
  CommandResult r = memsoak({"run", "--exec", "exec sleep 600", "--strategy", "in-process", "--iterations",
                             "49", "--run-timeout", "1s", "--out", "run", "--quiet"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s);
  EXPECT_TRUE(none_left("sleep 600"));
}

// --- contradictions and bad paths --------------------------------------------------------------

TEST_F(Hardening, ContradictoryOptionsAreRefused) {
  struct Case {
    std::vector<std::string> args;
    std::string named;
  };
  const std::vector<Case> cases = {
      {{"--preset", "small", "--model", "/tmp"}, "--preset 'small'"},
      {{"--workload", "synthetic", "--preset", "small"}, "--preset 'small'"},
      {{"--workload", "synthetic", "--plugin-config", "x=1"}, "--plugin-config 'x=1'"},
      {{"--workload", "synthetic", "--leak", "crash:999", "--iterations", "50"}, "--leak 'crash:999'"},
      {{"--workload", "synthetic", "--leak", "hang:50", "--iterations", "50"}, "--leak 'hang:50'"},
      {{"--workload", "synthetic", "--leak", "hog:150", "--iterations", "auto", "--max-iterations", "100"},
       "(--max-iterations 100)"},
      {{"--exec", "true", "--preset", "tiny"}, "--exec 'true'"},
      {{"--exec", "true", "--plugin-config", "x=1"}, "--plugin-config 'x=1': only with --plugin"},
      {{"--workload", "synthetic", "--leak", "nonsense"}, "crash:K, hang:K, hog:K"},
      {{"--workload", "synthetic", "--leak", "dropped:1XB"}, "TiB"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"run"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    CommandResult r = memsoak(args);
    EXPECT_EQ(r.exit_code, 2) << c.named << ": " << r.err;
    EXPECT_NE(r.err.find(c.named), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(std::filesystem::is_empty(work_)) << c.named << " left files behind";
  }
}

TEST_F(Hardening, AReportOfASoakStillRunningIsRefusedAndWorksOnceItEnds) {
  pid_t pid = start_memsoak({"run", "--workload", "synthetic", "--strategy", "in-process", "--iterations",
                             "100000000", "--out", "run", "--quiet"});
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!std::filesystem::exists(work_ / "run" / "samples.bin") &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  CommandResult r = memsoak({"report", "run"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("still writing to this directory"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(work_ / "run" / "report.json")) << "nothing was written meanwhile";
  ::kill(pid, SIGKILL);
  EXPECT_EQ(wait_exit_code(pid), 128 + SIGKILL);
  CommandResult after = memsoak({"report", "run"});
  EXPECT_EQ(after.exit_code, 0) << after.err;
}

TEST_F(Hardening, APathComponentOver255BytesIsBadInput) {
  CommandResult r = memsoak({"run", "--workload", "synthetic", "--iterations", "10", "--out",
                             "x/" + std::string(300, 'a') + "/run", "--quiet"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("300 bytes"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::is_empty(work_));
}

TEST_F(Hardening, AnOutPathWithNoRoomForItsFilesIsBadInput) {
  std::string out;
  while (out.size() < 3950) out += std::string(200, 'b') + "/";  // 4,020 bytes: each part is fine
  CommandResult r =
      memsoak({"run", "--workload", "synthetic", "--iterations", "10", "--out", out, "--quiet"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("as an absolute path"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::is_empty(work_));
}

TEST_F(Hardening, TwoSoaksGivenTheSameOutAtOnceOneWinsIntact) {
  const std::vector<std::string> args = {"run",        "--workload",   "synthetic", "--strategy",
                                         "in-process", "--iterations", "300",       "--out",
                                         "same",       "--quiet"};
  pid_t first = start_memsoak(args);
  pid_t second = start_memsoak(args);
  const int a = wait_exit_code(first);
  const int b = wait_exit_code(second);
  EXPECT_EQ(std::min(a, b), 0);
  EXPECT_EQ(std::max(a, b), 2);
  // The winner's directory is whole: its report rebuilds from it with every run.
  EXPECT_EQ(strategy(report("same"), "in-process")["runs"], 300);
  CommandResult again = memsoak({"report", "same"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  for (const auto& entry : std::filesystem::directory_iterator(work_ / "same")) {
    EXPECT_FALSE(entry.path().filename().string().ends_with(".tmp")) << entry.path();
  }
}

// --- run.log stays bounded ---------------------------------------------------------------------

TEST_F(Hardening, AWorkerWritingStderrInALoopCannotGrowRunLogPastItsCap) {
  // 40 MB of stderr before READY, then the protocol.
  const std::string worker =
      "head -c 40000000 /dev/zero | tr '\\0' x | fold -w 99 >&2; echo READY; while read l; do echo OK; done";
  CommandResult r = memsoak({"run", "--exec", worker, "--exec-tracker", "off", "--strategy", "in-process",
                             "--iterations", "20", "--out", "run", "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto size = std::filesystem::file_size(work_ / "run" / "run.log");
  EXPECT_LE(size, harness::kRunLogCapBytes);
  const std::string log = read_text(work_ / "run" / "run.log");
  EXPECT_NE(log.find("bytes of run.log dropped here"), std::string::npos);
}

TEST(RunLogCap, KeepsHeadAndTailAndCountsWhatItDropped) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("memsoak-logcap-" + std::to_string(::getpid()));
  std::string text;
  for (int i = 0; i < 200000; ++i) text += "line " + std::to_string(i) + "\n";
  { std::ofstream(path) << text; }
  const int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  constexpr std::uint64_t kCap = 1 << 20, kHead = 256 << 10, kTail = 128 << 10;
  const std::uint64_t dropped = harness::SoakKeeper::cap_log(fd, kCap, kHead, kTail);
  std::string cut = read_text(path);
  EXPECT_LE(cut.size(), kHead + kTail + 200);
  EXPECT_TRUE(cut.starts_with("line 0\nline 1\n"));
  EXPECT_TRUE(cut.ends_with("line 199999\n"));
  const std::string marker = "[memsoak: " + std::to_string(dropped) + " bytes of run.log dropped here";
  ASSERT_NE(cut.find(marker), std::string::npos) << cut.substr(kHead - 100, 300);
  // Every line kept is whole, and the bytes dropped are what is missing.
  EXPECT_EQ(cut.size() - (cut.find('\n', cut.find(marker)) + 1 - cut.find(marker)) + dropped, text.size());
  // A second cut after more output carries the first one's count.
  ::close(fd);
  { std::ofstream(path, std::ios::app) << text; }
  const int again = ::open(path.c_str(), O_RDWR);
  const std::uint64_t more = harness::SoakKeeper::cap_log(again, kCap, kHead, kTail);
  ::close(again);
  cut = read_text(path);
  EXPECT_NE(cut.find("[memsoak: " + std::to_string(dropped + more) + " bytes"), std::string::npos);
  EXPECT_TRUE(cut.starts_with("line 0\nline 1\n"));
  std::filesystem::remove(path);
}

// --- a run directory that cannot be written ----------------------------------------------------

// A soak started with --out DISK/OUT on a 64 KiB tmpfs already holding `filler_blocks` 4 KiB blocks
// of a filler file; also counts the entries left at the top of the disk. Needs root (mount), as this
// project's CI has.
class SmallDisk : public Hardening {
 protected:
  bool soak(int filler_blocks, const std::filesystem::path& out) {
    const std::filesystem::path disk = work_ / "disk";
    std::filesystem::create_directories(disk);
    if (std::system(
            ("mount -t tmpfs -o size=64k tmpfs " + shell_quote(disk.string()) + " 2>/dev/null").c_str()) != 0)
      return false;
    std::system(fmt::format("dd if=/dev/zero of={} bs=4k count={} 2>/dev/null",
                            shell_quote((disk / "filler").string()), filler_blocks)
                    .c_str());
    result_ = memsoak({"run", "--workload", "synthetic", "--strategy", "in-process", "--iterations", "10",
                       "--out", (disk / out).string(), "--quiet"});
    left_ = std::distance(std::filesystem::directory_iterator(disk), {});
    std::system(("umount " + shell_quote(disk.string())).c_str());
    return true;
  }
  CommandResult result_;
  std::ptrdiff_t left_ = -1;
};

TEST_F(SmallDisk, AFullDiskAtTheStartIsBadInputAndLeavesNothing) {
  if (!soak(64, "run")) GTEST_SKIP() << "cannot mount a small tmpfs here (needs root)";
  EXPECT_EQ(result_.exit_code, 2) << result_.err;
  EXPECT_NE(result_.err.find("No space left on device"), std::string::npos) << result_.err;
  EXPECT_EQ(std::count(result_.err.begin(), result_.err.end(), '\n'), 1) << result_.err;
  EXPECT_EQ(left_, 1) << "only the filler is left on the disk";
}

// Half full: the probe's 64 KiB write is short (no errno), not refused.
TEST_F(SmallDisk, ANearlyFullDiskIsBadInputNamingTheRealCauseAndLeavesNoDirectory) {
  if (!soak(8, std::filesystem::path("a") / "b" / "run"))
    GTEST_SKIP() << "cannot mount a small tmpfs here (needs root)";
  EXPECT_EQ(result_.exit_code, 2) << result_.err;
  EXPECT_NE(result_.err.find("No space left on device"), std::string::npos) << result_.err;
  EXPECT_EQ(left_, 1) << "only the filler is left on the disk, not the parents --out created";
}

TEST_F(Hardening, AReportFileThatIsADirectoryIsBadInputAndLeavesNoTemporaryFile) {
  CommandResult r = memsoak({"run", "--workload", "synthetic", "--strategy", "in-process", "--iterations",
                             "20", "--out", "run", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::filesystem::remove(work_ / "run" / "report.json");
  std::filesystem::create_directory(work_ / "run" / "report.json");
  r = memsoak({"report", "run"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("report.json: is a directory"), std::string::npos) << r.err;
  for (const auto& entry : std::filesystem::directory_iterator(work_ / "run")) {
    EXPECT_FALSE(entry.path().filename().string().ends_with(".tmp")) << entry.path();
  }
}

// --- a workload that misbehaves with memsoak's own process -------------------------------------

// Each run index of entry 0 in samples.bin, with how many records it has.
std::map<std::uint64_t, int> records_per_run(const std::filesystem::path& samples) {
  std::map<std::uint64_t, int> count;
  for (const auto& record : harness::read_sample_file(samples)) ++count[record.run_index];
  return count;
}

TEST_F(Hardening, AnInProcessWorkloadThatChangesDirectoryAndReplacesDescriptorsCorruptsNothing) {
  std::filesystem::create_directories(work_ / "elsewhere");
  CommandResult r = memsoak({"run", "--plugin", MEMSOAK_HOSTILE_PLUGIN, "--plugin-config",
                             "chdir:" + (work_ / "elsewhere").string() + " signals dup-data", "--strategy",
                             "in-process", "--iterations", "200", "--out", "run", "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto runs = records_per_run(work_ / "run" / "samples.bin");
  EXPECT_EQ(runs.size(), 200u);
  for (const auto& [run, n] : runs) EXPECT_EQ(n, 1) << "run " << run;
  EXPECT_TRUE(std::filesystem::is_empty(work_ / "elsewhere"))
      << "nothing of the run directory went elsewhere";
  EXPECT_EQ(strategy(report("run"), "in-process")["failed_runs"], 0);
}

TEST_F(Hardening, AnInProcessWorkloadThatClosesMemsoaksPipesLosesThatRunOnly) {
  CommandResult r = memsoak({"run", "--plugin", MEMSOAK_HOSTILE_PLUGIN, "--plugin-config", "close-all:30",
                             "--strategy", "in-process", "--iterations", "100", "--out", "run", "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto runs = records_per_run(work_ / "run" / "samples.bin");
  EXPECT_EQ(runs.size(), 100u);
  for (const auto& [run, n] : runs) EXPECT_EQ(n, 1) << "run " << run << " has " << n << " records";
  nlohmann::json s = strategy(report("run"), "in-process");
  EXPECT_EQ(s["failed_runs"], 1) << "run 30, whose process was cut off from memsoak";
  EXPECT_NE(read_text(work_ / "run" / "run.log").find("closed or replaced memsoak's descriptor"),
            std::string::npos);
}

// --- nothing lost when memsoak is killed -------------------------------------------------------

// kill -9 at a random moment: every run the worker answered more than a second before the kill
// has its record, and `memsoak report` rebuilds the report from them. The worker appends each RUN
// line it answers to answered.txt, which outlives memsoak.
TEST_F(Hardening, KillNineAtRandomMomentsLosesAtMostTheLastSecond) {
  std::random_device seed_source;
  const unsigned seed = seed_source();
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> delay_ms(300, 2500);
  for (int moment = 0; moment < 3; ++moment) {
    const std::string out = "run" + std::to_string(moment);
    const std::string answered = (work_ / (out + "-answered.txt")).string();
    const std::string worker =
        "echo READY; while read line; do echo \"$line\" >> " + shell_quote(answered) + "; echo OK; done";
    pid_t pid = start_memsoak({"run", "--exec", worker, "--exec-tracker", "off", "--strategy", "in-process",
                               "--iterations", "10000000", "--out", out, "--quiet"});
    ASSERT_TRUE(wait_for_lines(out + "-answered.txt", 1)) << "the soak did not start";
    const int delay = delay_ms(random);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    ::kill(pid, SIGKILL);
    EXPECT_EQ(wait_exit_code(pid), 128 + SIGKILL);
    const auto records = harness::read_sample_file(work_ / out / "samples.bin");
    const std::string text = read_text(answered);
    const auto answered_runs = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    ASSERT_GT(records.size(), 0u);
    // Runs per second, from the records' own latencies: what a second of samples is.
    double busy_ns = 0;
    for (const auto& record : records) busy_ns += static_cast<double>(record.latency_ns);
    const double runs_per_second = static_cast<double>(records.size()) / (busy_ns / 1e9);
    const double lost = static_cast<double>(answered_runs) - static_cast<double>(records.size());
    RecordProperty(
        "moment" + std::to_string(moment),
        fmt::format("killed after {} ms: {} runs answered, {} recorded, {:.0f} runs/s: lost {:.4f} s", delay,
                    answered_runs, records.size(), runs_per_second, lost / runs_per_second));
    std::cout << "seed " << seed << ", killed after " << delay << " ms: " << answered_runs
              << " runs answered, " << records.size() << " recorded (" << runs_per_second << " runs/s)"
              << std::endl;
    EXPECT_LE(lost / runs_per_second, 1.0) << "more than the last second of samples was lost";
    CommandResult r = memsoak({"report", out});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json s = strategy(report(out), "in-process");
    EXPECT_EQ(s["runs"].get<std::size_t>(), records.size());
    EXPECT_FALSE(s["finished"].get<bool>()) << "the report says the soak was cut short";
  }
}

}  // namespace
}  // namespace memsoak::testing
