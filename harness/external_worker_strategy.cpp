// ExternalWorkerStrategy: the process strategies applied to an --exec worker (protocol v1).
#include <fmt/format.h>

#include <filesystem>

#include "harness/external_worker.h"
#include "harness/internal/clock.h"
#include "harness/internal/strategies.h"
#include "harness/internal/strategy_table.h"
#include "harness/run_directory.h"

namespace memsoak::harness::internal {
namespace {

// --exec workers: `in-process` keeps one worker for all runs, `fork` starts a fresh one per run,
// `recycle:N[~J]` and `recycle-rss:SIZE` replace it as for native workloads. A worker that breaks
// the protocol, crashes or hangs is replaced before the next run.
class ExternalWorkerStrategy final : public Strategy {
 public:
  ExternalWorkerStrategy(StrategySpec spec, StrategyContext context);
  ~ExternalWorkerStrategy() override;
  void start() override {}
  RunOutcome run(std::uint64_t run_index) override;
  void stop() noexcept override;

 private:
  RunOutcome run_unchecked(std::uint64_t run_index);
  void note_silent_tracker();
  StrategyContext context_;
  WorkerLifetime lifetime_;
  std::unique_ptr<ExternalWorker> worker_;
  bool noted_silent_tracker_ = false;
  bool one_run_ = false;
};

ExternalWorkerStrategy::ExternalWorkerStrategy(StrategySpec spec, StrategyContext context)
    : context_(std::move(context)), lifetime_(spec, context_.seed), one_run_(spec.kind == "fork") {}

ExternalWorkerStrategy::~ExternalWorkerStrategy() { stop(); }

RunOutcome ExternalWorkerStrategy::run(std::uint64_t run_index) {
  try {
    return run_unchecked(run_index);
  } catch (const std::exception& e) {
    // pipe, fork or the log failed (EAGAIN, EMFILE): this run fails, the soak goes on.
    worker_.reset();
    RunOutcome outcome;
    outcome.failure = std::string("could not start the worker: ") + e.what();
    outcome.start_failed = true;
    return outcome;
  }
}

RunOutcome ExternalWorkerStrategy::run_unchecked(std::uint64_t run_index) {
  std::int64_t t0 = monotonic_ns();
  std::int64_t setup_ns = 0;
  if (!worker_) {
    // A new worker's start (spawn to READY) is paid by the run that needs it.
    ExternalWorkerOptions options;
    options.command = context_.workload.command;
    options.stderr_log_path = context_.worker_log_path;
    options.tracker_library = context_.tracker_library;
    options.memory_limit_bytes = context_.memory_limit_bytes;
    // A worker that lives for one run (fork) has no epochs to write; it samples no stacks.
    if (!one_run_) options.tracker_environment = context_.worker_stack_environment;
    if (context_.run_timeout_ms > 0)
      options.run_timeout_ms = options.ready_timeout_ms = context_.run_timeout_ms;
    worker_ = std::make_unique<ExternalWorker>(options);
    WorkerStart start = worker_->start();
    lifetime_.begin_worker();
    if (!start.ok) {
      RunOutcome failed;
      failed.failure = "worker did not start: " + start.failure;
      if (!start.last_stderr_line.empty())
        failed.failure += "; its last line on stderr: " + start.last_stderr_line;
      failed.start_failed = true;
      failed.worker_id = lifetime_.worker_id();
      failed.latency_ns = monotonic_ns() - t0;
      worker_.reset();
      return failed;
    }
    setup_ns = start.setup_ns;
  }
  RunOutcome outcome = worker_->run(run_index);
  note_silent_tracker();
  outcome.latency_ns = monotonic_ns() - t0;
  outcome.setup_ns = setup_ns;
  outcome.worker_id = lifetime_.worker_id();
  bool retire = lifetime_.end_run(outcome);
  if (worker_->broken() || retire) {
    outcome.worker_peak_rss_bytes = worker_->stop().peak_rss_bytes;
    worker_.reset();
  }
  return outcome;
}

// Once per strategy: a worker whose processes did not all report (a static binary, a program
// that clears LD_PRELOAD) has no heap series, and its verdict uses RSS.
void ExternalWorkerStrategy::note_silent_tracker() {
  const std::optional<TrackerReading>& reading = worker_->tracker_reading();
  if (noted_silent_tracker_ || !reading || reading->complete() || context_.worker_log_path.empty()) return;
  noted_silent_tracker_ = true;
  append_run_log(std::filesystem::path(context_.worker_log_path).parent_path(),
                 fmt::format("exec tracker: {} of the worker's {} live processes did not report a heap "
                             "(statically linked, or LD_PRELOAD not honoured): the live heap is not "
                             "measured, verdicts use RSS",
                             reading->silent, reading->silent + reading->reporting));
}

void ExternalWorkerStrategy::stop() noexcept {
  if (worker_) worker_->stop();
  worker_.reset();
}

}  // namespace

std::unique_ptr<Strategy> make_external_worker_strategy(const StrategySpec& spec,
                                                        const StrategyContext& context) {
  return std::make_unique<ExternalWorkerStrategy>(spec, context);
}

}  // namespace memsoak::harness::internal
