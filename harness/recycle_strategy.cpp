// RecycleStrategy: a long-lived worker replaced after N runs or past an RSS limit (gunicorn
// max_requests, Celery max_tasks_per_child / max_memory_per_child, uWSGI reload-on-rss).
#include <fmt/format.h>
#include <unistd.h>

#include <cstring>
#include <exception>

#include "harness/errors.h"
#include "harness/internal/child_protocol.h"
#include "harness/internal/clock.h"
#include "harness/internal/server_messages.h"
#include "harness/internal/strategies.h"
#include "harness/internal/strategy_table.h"
#include "harness/units.h"

namespace memsoak::harness::internal {

// A long-lived worker that serves runs and is replaced after N runs (+ seeded jitter 0..J) or
// once its RSS after a run passes a limit.
class RecycleStrategy final : public Strategy {
 public:
  RecycleStrategy(StrategySpec spec, StrategyContext context)
      : context_(std::move(context)), lifetime_(spec, context_.seed) {}
  void start() override {}
  RunOutcome run(std::uint64_t run_index) override;
  void stop() noexcept override;

 private:
  RunOutcome run_unchecked(std::uint64_t run_index);
  bool start_worker(RunOutcome& outcome);
  StrategyContext context_;
  WorkerLifetime lifetime_;
  ServerProcess worker_;
};

bool RecycleStrategy::start_worker(RunOutcome& outcome) {
  const StrategyContext& context = context_;
  worker_.start(context_, [&context](int command_fd, int reply_fd) {
    auto workload = set_up_server_workload(context.workload.factory, reply_fd);
    if (!workload) return;
    std::uint64_t run_index = 0;
    Family family;
    family.pids[0] = ::getppid();
    const ProcessSampler sampler;  // the worker's own, opened once for all its runs
    while (read_exactly(command_fd, &run_index, sizeof run_index, 0) == ReadStatus::kOk) {
      ChildReport report = run_and_report(*workload, run_index, smaps_run(context, run_index), family,
                                          ProcessLife::kManyRuns, &sampler);
      if (!write_report(reply_fd, report)) return;
    }
  });
  lifetime_.begin_worker();
  std::string failure;
  ServerReady ready;
  const bool ok = await_ready(worker_.reply_fd(), context_.run_timeout_ms, ready, failure);
  outcome.artifacts += ready.artifacts;
  if (!ok) {
    std::int64_t ignored;
    worker_.finish(true, ignored);
    outcome.failure = "worker " + failure;
    return false;
  }
  outcome.setup_ns = ready.setup_ns;
  return true;
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
  const std::int64_t setup_ns = outcome.setup_ns;
  const std::uint64_t setup_artifacts = outcome.artifacts;
  apply_report(report, outcome);
  outcome.setup_ns = setup_ns;
  outcome.artifacts += setup_artifacts;
  if (lifetime_.end_run(outcome)) worker_.finish(false, outcome.worker_peak_rss_bytes);
  return outcome;
}

void RecycleStrategy::stop() noexcept {
  std::int64_t ignored;
  worker_.finish(false, ignored);
}

namespace {

std::unique_ptr<Strategy> make_recycle(const StrategySpec& spec, const StrategyContext& context) {
  return std::make_unique<RecycleStrategy>(spec, context);
}

// recycle:N or recycle:N~J
bool parse_recycle_runs(std::string_view text, StrategySpec& spec) {
  if (!text.starts_with("recycle:")) return false;
  std::string_view arg = text.substr(8);
  std::size_t tilde = arg.find('~');
  spec.runs_per_worker = parse_count(arg.substr(0, tilde), fmt::format("--strategy '{}': runs", text));
  if (tilde != std::string_view::npos) {
    spec.recycle_jitter = parse_count(arg.substr(tilde + 1), fmt::format("--strategy '{}': jitter", text));
  }
  if (spec.runs_per_worker == 0) {
    throw InputError(fmt::format("--strategy '{}': a worker must serve at least 1 run", text));
  }
  return true;
}

// recycle-rss:SIZE
bool parse_recycle_rss(std::string_view text, StrategySpec& spec) {
  if (!text.starts_with("recycle-rss:")) return false;
  spec.recycle_rss_bytes = parse_size(text.substr(12), fmt::format("--strategy '{}': size", text));
  if (spec.recycle_rss_bytes == 0) {
    throw InputError(fmt::format("--strategy '{}': the RSS limit must be above 0", text));
  }
  return true;
}

}  // namespace

StrategyRow recycle_runs_row() {
  return {"recycle",        "recycle:N, recycle:N~J", parse_recycle_runs,
          make_recycle,     /*applies_to_exec=*/true,
          /*recycles=*/true};
}

StrategyRow recycle_rss_row() {
  return {"recycle",        "recycle-rss:SIZE", parse_recycle_rss, make_recycle, /*applies_to_exec=*/true,
          /*recycles=*/true};
}

}  // namespace memsoak::harness::internal
