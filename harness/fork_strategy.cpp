// ForkPerRunStrategy: a fresh child per run, the field fix of running each call in a process.
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <string>

#include "harness/internal/clock.h"
#include "harness/internal/strategies.h"

namespace memsoak::harness::internal {
namespace {

// What a child sends back: fixed size and under PIPE_BUF, so one write() delivers it whole.
struct ChildReport {
  std::uint32_t magic = 0x4b4f534d;  // "MSOK"
  std::uint32_t ok = 0;
  std::uint64_t digest = 0;
  std::int64_t setup_ns = 0;
  std::int64_t work_ns = 0;
  ProcessSample sample;
  char failure[256] = {};
};
static_assert(sizeof(ChildReport) <= PIPE_BUF);

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    return "child killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  if (WIFEXITED(status)) {
    return "child exited with status " + std::to_string(WEXITSTATUS(status)) + " without a result";
  }
  return "child ended without a result";
}

// Reads exactly one report; false on a short read (the child died before writing it).
bool read_report(int fd, ChildReport& report) {
  auto* bytes = reinterpret_cast<char*>(&report);
  std::size_t got = 0;
  while (got < sizeof report) {
    ssize_t n = ::read(fd, bytes + got, sizeof report - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return report.magic == ChildReport{}.magic;
}

}  // namespace

void ForkPerRunStrategy::run_child(int result_fd, std::uint64_t run_index) noexcept {
  ChildReport report;
  try {
    ProcessSampler sampler;
    auto workload = factory_();
    std::int64_t t0 = monotonic_ns();
    workload->setup();
    std::int64_t t1 = monotonic_ns();
    report.digest = workload->run(run_index);
    report.work_ns = monotonic_ns() - t1;
    report.setup_ns = t1 - t0;
    report.sample = sampler.sample();
    report.ok = 1;
    // The workload is not destroyed: the process exits and the OS reclaims everything, which is
    // the point of this strategy.
    static_cast<void>(workload.release());
  } catch (const std::exception& e) {
    std::strncpy(report.failure, e.what(), sizeof report.failure - 1);
  } catch (...) {
    std::strncpy(report.failure, "unknown exception", sizeof report.failure - 1);
  }
  ssize_t written = ::write(result_fd, &report, sizeof report);
  // _exit: no atexit handlers and no flush of stdio buffers inherited from the parent.
  ::_exit(written == static_cast<ssize_t>(sizeof report) ? 0 : 1);
}

RunOutcome ForkPerRunStrategy::run(std::uint64_t run_index) {
  RunOutcome outcome;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    outcome.failure = std::string("pipe: ") + std::strerror(errno);
    return outcome;
  }
  std::int64_t t0 = monotonic_ns();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    run_child(fds[1], run_index);
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    outcome.failure = std::string("fork: ") + std::strerror(errno);
    return outcome;
  }
  ChildReport report;
  bool got_report = read_report(fds[0], report);
  outcome.latency_ns = monotonic_ns() - t0;
  ::close(fds[0]);

  int status = 0;
  rusage usage{};
  pid_t reaped;
  while ((reaped = ::wait4(pid, &status, 0, &usage)) < 0 && errno == EINTR) {
  }
  if (reaped == pid) outcome.worker_peak_rss_bytes = static_cast<std::int64_t>(usage.ru_maxrss) * 1024;
  if (!got_report) {
    outcome.failure = describe_exit(status);
    return outcome;
  }
  outcome.ok = report.ok != 0;
  outcome.digest = report.digest;
  outcome.setup_ns = report.setup_ns;
  outcome.work_ns = report.work_ns;
  outcome.worker = report.sample;
  if (!outcome.ok) outcome.failure = report.failure;
  return outcome;
}

}  // namespace memsoak::harness::internal
