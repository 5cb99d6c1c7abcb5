// InProcessStrategy: every run in the strategy's own process, as a service calls a component.
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <exception>
#include <utility>

#include "harness/internal/clock.h"
#include "harness/internal/strategies.h"
#include "harness/internal/strategy_table.h"
#include "harness/stack_sampling.h"

namespace memsoak::harness::internal {

// Every run in this process (the strategy's own); the workload's state persists from run to run.
class InProcessStrategy final : public Strategy {
 public:
  InProcessStrategy(StrategySpec spec, StrategyContext context)
      : spec_(std::move(spec)), context_(std::move(context)) {}
  void start() override;
  RunOutcome run(std::uint64_t run_index) override;
  void stop() noexcept override;
  std::optional<TrimProbe> trim_probe() const noexcept override { return trim_probe_; }

 private:
  StrategySpec spec_;
  StrategyContext context_;
  std::unique_ptr<Workload> workload_;
  std::optional<ProcessSampler> sampler_;
  std::int64_t setup_ns_ = kNotMeasured;
  std::optional<TrimProbe> trim_probe_;
};

void InProcessStrategy::start() {
  if (context_.memory_limit_bytes > 0) {
    // This process is the worker: the limit applies to it.
    rlimit limit{context_.memory_limit_bytes, context_.memory_limit_bytes};
    ::setrlimit(RLIMIT_AS, &limit);
  }
  sampler_.emplace();
  workload_ = context_.workload.factory();
  std::int64_t t0 = monotonic_ns();
  workload_->setup();
  setup_ns_ = monotonic_ns() - t0;
}

RunOutcome InProcessStrategy::run(std::uint64_t run_index) {
  RunOutcome outcome;
  stack_run_begin(run_index, /*one_run=*/false);
  std::int64_t t0 = monotonic_ns();
  try {
    outcome.digest = workload_->run(run_index);
    outcome.ok = true;
  } catch (const std::exception& e) {
    outcome.failure = e.what();
  } catch (...) {
    outcome.failure = "unknown exception";
  }
  outcome.work_ns = monotonic_ns() - t0;
  // The usual glibc workaround: give free pages at the top of every arena back to the OS.
  if (spec_.trim) malloc_trim(0);
  outcome.latency_ns = monotonic_ns() - t0;
  stack_run_end(run_index);
  // Setup is paid once, by the first run of this process.
  outcome.setup_ns = std::exchange(setup_ns_, 0);
  // A crash replaces this process: the reports tell the replacement's warm-up from growth by this.
  outcome.worker_id = static_cast<std::uint64_t>(::getpid());
  outcome.worker = sampler_->sample();
  if (smaps_run(context_, run_index)) {
    sampler_->add_smaps(outcome.worker);
    outcome.footprint_pss_bytes = outcome.worker.pss_bytes;
  }
  // The strategy has a process of its own, so its high-water mark is the workload's peak so far,
  // spikes inside a run included.
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) == 0) outcome.worker_peak_rss_bytes = usage.ru_maxrss * 1024;
  return outcome;
}

void InProcessStrategy::stop() noexcept {
  // With the workload's state still alive, as a service would have it: how much of the RSS is
  // free memory glibc keeps (fragmentation, arenas) rather than memory the workload holds.
  if (context_.glibc_malloc && sampler_) {
    TrimProbe probe;
    probe.rss_before_bytes = sampler_->rss_bytes();
    malloc_trim(0);
    probe.rss_after_bytes = sampler_->rss_bytes();
    trim_probe_ = probe;
  }
  if (workload_) {
    try {
      workload_->teardown();
    } catch (...) {
      // Teardown failures change nothing that was measured.
    }
  }
  workload_.reset();
  sampler_.reset();
}

namespace {
std::unique_ptr<Strategy> make_in_process(const StrategySpec& spec, const StrategyContext& context) {
  return std::make_unique<InProcessStrategy>(spec, context);
}
}  // namespace

StrategyRow in_process_row() {
  return {"in-process",
          "in-process",
          [](std::string_view text, StrategySpec&) { return text == "in-process"; },
          make_in_process,
          /*applies_to_exec=*/true,
          /*recycles=*/false};
}

StrategyRow in_process_trim_row() {
  return {"in-process",
          "in-process+trim",
          [](std::string_view text, StrategySpec& spec) { return spec.trim = text == "in-process+trim"; },
          make_in_process,
          /*applies_to_exec=*/false,
          /*recycles=*/false};
}

}  // namespace memsoak::harness::internal
