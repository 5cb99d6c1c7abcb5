// RecycleStrategy: a long-lived worker replaced after N runs or past an RSS limit (gunicorn
// max_requests, Celery max_tasks_per_child / max_memory_per_child, uWSGI reload-on-rss).
#include <unistd.h>

#include <cstring>
#include <exception>

#include "harness/internal/child_protocol.h"
#include "harness/internal/clock.h"
#include "harness/internal/server_messages.h"
#include "harness/internal/strategies.h"

namespace memsoak::harness::internal {

std::unique_ptr<Workload> set_up_server_workload(const WorkloadFactory& factory, int reply_fd) noexcept {
  ServerReady ready;
  std::unique_ptr<Workload> workload;
  try {
    workload = factory();
    std::int64_t t0 = monotonic_ns();
    workload->setup();
    ready.setup_ns = monotonic_ns() - t0;
    ready.ok = 1;
  } catch (const std::exception& e) {
    std::strncpy(ready.failure, e.what(), sizeof ready.failure - 1);
    workload.reset();
  } catch (...) {
    std::strncpy(ready.failure, "unknown exception in setup", sizeof ready.failure - 1);
    workload.reset();
  }
  if (::write(reply_fd, &ready, sizeof ready) != sizeof ready) return nullptr;
  return workload;
}

bool await_ready(int reply_fd, std::int64_t timeout_ms, std::int64_t& setup_ns, std::string& failure) {
  ServerReady ready;
  ReadStatus status = read_exactly(reply_fd, &ready, sizeof ready, timeout_ms);
  if (status == ReadStatus::kTimeout) {
    failure = "setup did not finish within --run-timeout";
    return false;
  }
  if (status != ReadStatus::kOk || ready.magic != ServerReady{}.magic) {
    failure = "died during setup";
    return false;
  }
  if (!ready.ok) {
    failure = ready.failure;
    return false;
  }
  setup_ns = ready.setup_ns;
  return true;
}

void RecycleStrategy::start() { self_.emplace(); }

bool RecycleStrategy::start_worker(RunOutcome& outcome) {
  const StrategyContext& context = context_;
  worker_.start(context_, [&context](int command_fd, int reply_fd) {
    auto workload = set_up_server_workload(context.factory, reply_fd);
    if (!workload) return;
    std::uint64_t run_index = 0;
    Family family;
    family.pids[0] = ::getppid();
    while (read_exactly(command_fd, &run_index, sizeof run_index, 0) == ReadStatus::kOk) {
      if (!write_report(reply_fd,
                        run_and_report(*workload, run_index, smaps_run(context, run_index), family)))
        return;
    }
  });
  lifetime_.begin_worker();
  std::string failure;
  if (!await_ready(worker_.reply_fd(), context_.run_timeout_ms, outcome.setup_ns, failure)) {
    std::int64_t ignored;
    worker_.finish(true, ignored);
    outcome.failure = "worker " + failure;
    return false;
  }
  return true;
}

WorkerLifetime::WorkerLifetime(const StrategySpec& spec, std::uint64_t seed)
    : spec_(spec), jitter_(seed ^ 0x72656379636c65ull) {}

std::uint64_t WorkerLifetime::begin_worker() {
  runs_ = 0;
  if (spec_.kind == StrategyKind::kFork) {
    limit_ = 1;
  } else if (spec_.kind == StrategyKind::kRecycle && spec_.recycle_runs > 0) {
    limit_ = spec_.recycle_runs + (spec_.recycle_jitter > 0 ? jitter_.below(spec_.recycle_jitter + 1) : 0);
  } else {
    limit_ = 0;
  }
  return ++generation_;
}

bool WorkerLifetime::end_run(const RunOutcome& outcome) {
  ++runs_;
  if (limit_ > 0 && runs_ >= limit_) return true;
  return spec_.recycle_rss_bytes > 0 && outcome.worker.rss_bytes != kNotMeasured &&
         static_cast<std::uint64_t>(outcome.worker.rss_bytes) > spec_.recycle_rss_bytes;
}

RunOutcome RecycleStrategy::run(std::uint64_t run_index) {
  try {
    return run_unchecked(run_index);
  } catch (const std::exception& e) {
    // fork or pipe failed (EAGAIN, EMFILE): this run fails, the soak goes on.
    RunOutcome outcome;
    outcome.failure = std::string("could not start a worker: ") + e.what();
    return outcome;
  }
}

RunOutcome RecycleStrategy::run_unchecked(std::uint64_t run_index) {
  RunOutcome outcome;
  std::int64_t t0 = monotonic_ns();
  outcome.setup_ns = 0;
  // A new worker's start (fork + setup) is paid by the run that needs it.
  if (!worker_.running() && !start_worker(outcome)) {
    outcome.latency_ns = monotonic_ns() - t0;
    return outcome;
  }
  outcome.worker_id = lifetime_.worker_id();
  ChildReport report;
  ReadStatus status = worker_.send(run_index)
                          ? read_exactly(worker_.reply_fd(), &report, sizeof report, context_.run_timeout_ms)
                          : ReadStatus::kEof;
  outcome.latency_ns = monotonic_ns() - t0;
  if (status != ReadStatus::kOk) {
    int exit_status = worker_.finish(true, outcome.worker_peak_rss_bytes);
    outcome.failure =
        status == ReadStatus::kTimeout
            ? "hung past --run-timeout (" + std::to_string(context_.run_timeout_ms) + " ms): killed"
            : "worker " + describe_exit(exit_status);
    return outcome;
  }
  std::int64_t setup_ns = outcome.setup_ns;
  apply_report(report, outcome);
  outcome.setup_ns = setup_ns;
  if (lifetime_.end_run(outcome)) worker_.finish(false, outcome.worker_peak_rss_bytes);
  return outcome;
}

void RecycleStrategy::stop() noexcept {
  std::int64_t ignored;
  worker_.finish(false, ignored);
}

}  // namespace memsoak::harness::internal
