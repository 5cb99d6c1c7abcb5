// ForkPerRunStrategy: a fresh child per run, the field fix of running each call in a process.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "harness/internal/child_protocol.h"
#include "harness/internal/clock.h"
#include "harness/internal/strategies.h"
#include "harness/internal/strategy_table.h"
#include "harness/posix.h"

namespace memsoak::harness::internal {

// A child forked from the strategy's process per run: it sets the workload up, runs once, sends
// its result and final sample through a pipe and exits; the parent reaps it with wait4.
class ForkPerRunStrategy final : public Strategy {
 public:
  explicit ForkPerRunStrategy(StrategyContext context) : context_(std::move(context)) {}
  void start() override {}
  RunOutcome run(std::uint64_t run_index) override;
  void stop() noexcept override {}

 private:
  StrategyContext context_;
};

RunOutcome ForkPerRunStrategy::run(std::uint64_t run_index) {
  RunOutcome outcome;
  outcome.worker_id = run_index;
  PipePair result;
  if (int error = try_make_pipe(result); error != 0) {
    outcome.failure = std::string("pipe: ") + std::strerror(error);
    return outcome;
  }
  const bool smaps = smaps_run(context_, run_index);
  std::int64_t t0 = monotonic_ns();
  pid_t pid = ::fork();
  if (pid == 0) {
    result.read_end.reset();
    prepare_child(context_);
    Family family;
    family.pids[0] = ::getppid();
    bool written = write_report(result.write_end.get(),
                                setup_run_and_report(context_.workload.factory, run_index, smaps, family));
    // _exit: no atexit handlers and no flush of stdio buffers inherited from the parent.
    ::_exit(written ? 0 : 1);
  }
  result.write_end.reset();
  if (pid < 0) {
    outcome.failure = std::string("fork: ") + std::strerror(errno);
    return outcome;
  }
  collect_child(pid, result.read_end.get(), context_, t0, outcome);
  return outcome;
}

StrategyRow fork_row() {
  return {"fork",
          "fork",
          [](std::string_view text, StrategySpec& spec) {
            if (text != "fork") return false;
            spec.runs_per_worker = 1;
            return true;
          },
          [](const StrategySpec&, const StrategyContext& context) -> std::unique_ptr<Strategy> {
            return std::make_unique<ForkPerRunStrategy>(context);
          },
          /*applies_to_exec=*/true,
          /*recycles=*/false};
}

}  // namespace memsoak::harness::internal
