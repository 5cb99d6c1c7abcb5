// The child-report protocol and shared process helpers (see child_protocol.h).
#include "harness/internal/child_protocol.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <optional>

#include "harness/artifacts.h"
#include "harness/internal/clock.h"
#include "harness/internal/strategies.h"
#include "harness/posix.h"
#include "harness/sampler.h"
#include "harness/stack_sampling.h"

namespace memsoak::harness::internal {

std::int64_t pss_of(pid_t pid) noexcept {
  try {
    ProcessSample sample;
    ProcessSampler(pid).add_smaps(sample);
    return sample.pss_bytes == kNotMeasured ? 0 : sample.pss_bytes;
  } catch (...) {
    return 0;
  }
}

ChildReport run_and_report(Workload& workload, std::uint64_t run_index, bool with_smaps, Family family,
                           ProcessLife life, const ProcessSampler* sampler) noexcept {
  ChildReport report;
  const std::uint64_t artifacts_before = artifacts_committed();
  try {
    stack_run_begin(run_index, life == ProcessLife::kOneRun);
    std::int64_t t0 = monotonic_ns();
    report.digest = workload.run(run_index);
    report.work_ns = monotonic_ns() - t0;
    stack_run_end(run_index);
    std::optional<ProcessSampler> own;
    if (sampler == nullptr) sampler = &own.emplace();
    report.sample = sampler->sample();
    if (with_smaps) {
      sampler->add_smaps(report.sample);
      if (report.sample.pss_bytes != kNotMeasured) {
        report.family_pss_bytes = report.sample.pss_bytes;
        for (pid_t pid : family.pids) {
          if (pid > 0) report.family_pss_bytes += pss_of(pid);
        }
      }
    }
    report.ok = 1;
  } catch (const std::exception& e) {
    std::strncpy(report.failure, e.what(), sizeof report.failure - 1);
  } catch (...) {
    std::strncpy(report.failure, "unknown exception", sizeof report.failure - 1);
  }
  report.artifacts = artifacts_committed() - artifacts_before;
  return report;
}

ChildReport setup_run_and_report(const WorkloadFactory& factory, std::uint64_t run_index, bool with_smaps,
                                 Family family) noexcept {
  ChildReport report;
  const std::uint64_t artifacts_before = artifacts_committed();
  try {
    auto workload = factory();
    std::int64_t t0 = monotonic_ns();
    workload->setup();
    std::int64_t setup_ns = monotonic_ns() - t0;
    report = run_and_report(*workload, run_index, with_smaps, family, ProcessLife::kOneRun);
    report.setup_ns = setup_ns;
    // Not destroyed: the process exits and the OS reclaims everything, the point of the strategy.
    static_cast<void>(workload.release());
  } catch (const std::exception& e) {
    std::strncpy(report.failure, e.what(), sizeof report.failure - 1);
  } catch (...) {
    std::strncpy(report.failure, "unknown exception in setup", sizeof report.failure - 1);
  }
  report.artifacts = artifacts_committed() - artifacts_before;  // setup's too
  return report;
}

bool write_report(int fd, const ChildReport& report) noexcept {
  return ::write(fd, &report, sizeof report) == static_cast<ssize_t>(sizeof report);
}

ReadStatus read_exactly(int fd, void* data, std::size_t size, std::int64_t timeout_ms) {
  auto* bytes = static_cast<char*>(data);
  std::size_t got = 0;
  const std::int64_t deadline_ns = monotonic_ns() + timeout_ms * 1'000'000;
  while (got < size) {
    if (timeout_ms > 0) {
      std::int64_t left_ms = (deadline_ns - monotonic_ns()) / 1'000'000;
      if (left_ms <= 0) return ReadStatus::kTimeout;
      pollfd p{fd, POLLIN, 0};
      int ready = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left_ms, 1 << 30)));
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) return ReadStatus::kTimeout;
    }
    ssize_t n = ::read(fd, bytes + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ReadStatus::kEof;
    got += static_cast<std::size_t>(n);
  }
  return ReadStatus::kOk;
}

void prepare_child(const StrategyContext& context) noexcept {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (context.memory_limit_bytes > 0) {
    rlimit limit{context.memory_limit_bytes, context.memory_limit_bytes};
    ::setrlimit(RLIMIT_AS, &limit);
  }
}

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

int reap(pid_t pid, std::int64_t& peak_rss_bytes) noexcept {
  int status = 0;
  rusage usage{};
  pid_t reaped = wait4_retrying(pid, &status, 0, &usage);
  peak_rss_bytes = reaped == pid ? harness::peak_rss_bytes(usage) : kNotMeasured;
  return status;
}

void apply_report(const ChildReport& report, RunOutcome& outcome) {
  outcome.ok = report.ok != 0;
  outcome.digest = report.digest;
  outcome.setup_ns = report.setup_ns;
  outcome.work_ns = report.work_ns;
  outcome.worker = report.sample;
  outcome.footprint_pss_bytes = report.family_pss_bytes;
  outcome.artifacts = report.artifacts;
  if (!outcome.ok) outcome.failure = report.failure;
}

void collect_child(pid_t pid, int result_fd, const StrategyContext& context, std::int64_t t0_ns,
                   RunOutcome& outcome) {
  ChildReport report;
  ReadStatus status = read_exactly(result_fd, &report, sizeof report, context.run_timeout_ms);
  outcome.latency_ns = monotonic_ns() - t0_ns;
  if (status == ReadStatus::kTimeout) ::kill(pid, SIGKILL);
  int exit_status = reap(pid, outcome.worker_peak_rss_bytes);
  if (status == ReadStatus::kTimeout) {
    outcome.failure = "hung past --run-timeout (" + std::to_string(context.run_timeout_ms) + " ms): killed";
  } else if (status == ReadStatus::kEof || report.magic != ChildReport{}.magic) {
    outcome.failure = describe_exit(exit_status);
  } else {
    apply_report(report, outcome);
  }
}

}  // namespace memsoak::harness::internal
