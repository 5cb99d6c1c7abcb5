// SpawnStrategy: a fresh executable per run (posix_spawn), like Python's spawn start method.
#include <spawn.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "harness/internal/child_protocol.h"
#include "harness/internal/clock.h"
#include "harness/internal/strategies.h"
#include "harness/internal/strategy_table.h"
#include "harness/posix.h"

extern char** environ;

namespace memsoak::harness::internal {
namespace {

// A fresh executable per run (posix_spawn of context.spawn): nothing is inherited at all.
class SpawnStrategy final : public Strategy {
 public:
  explicit SpawnStrategy(StrategyContext context) : context_(std::move(context)) {}
  void start() override {
    if (!context_.spawn) throw std::logic_error("spawn strategy without a spawn invocation");
  }
  RunOutcome run(std::uint64_t run_index) override;
  void stop() noexcept override {}

 private:
  StrategyContext context_;
};

RunOutcome SpawnStrategy::run(std::uint64_t run_index) {
  RunOutcome outcome;
  outcome.worker_id = run_index;
  PipePair result;
  if (int error = try_make_pipe(result); error != 0) {
    outcome.failure = std::string("pipe: ") + std::strerror(error);
    return outcome;
  }
  SpawnInvocation invocation = *context_.spawn;
  invocation.run_index = run_index;
  std::vector<std::string> args = invocation.to_argv();
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 clears close-on-exec on the copy only.
  posix_spawn_file_actions_adddup2(&actions, result.write_end.get(), SpawnInvocation::kResultFd);
  std::int64_t t0 = monotonic_ns();
  pid_t pid = -1;
  int error = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  result.write_end.reset();
  if (error != 0) {
    outcome.failure = "posix_spawn " + args[0] + ": " + std::strerror(error);
    return outcome;
  }
  collect_child(pid, result.read_end.get(), context_, t0, outcome);
  return outcome;
}

}  // namespace

StrategyRow spawn_row() {
  return {"spawn",
          "spawn",
          [](std::string_view text, StrategySpec&) { return text == "spawn"; },
          [](const StrategySpec&, const StrategyContext& context) -> std::unique_ptr<Strategy> {
            return std::make_unique<SpawnStrategy>(context);
          },
          /*applies_to_exec=*/false,
          /*recycles=*/false};
}

}  // namespace memsoak::harness::internal

namespace memsoak::harness {

int run_spawned_once(const StrategyContext& context, std::uint64_t run_index, int result_fd) noexcept {
  internal::prepare_child(context);
  internal::Family family;
  family.pids[0] = ::getppid();
  const bool smaps = internal::smaps_run(context, run_index);
  return internal::write_report(
             result_fd, internal::setup_run_and_report(context.workload.factory, run_index, smaps, family))
             ? 0
             : 1;
}

}  // namespace memsoak::harness
