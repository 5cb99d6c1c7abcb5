// SpawnStrategy: a fresh executable per run (posix_spawn), like Python's spawn start method.
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "harness/internal/child_protocol.h"
#include "harness/internal/clock.h"
#include "harness/internal/strategies.h"

extern char** environ;

namespace memsoak::harness::internal {
namespace {

// The spawned executable writes its ChildReport to this descriptor.
constexpr int kResultFd = 3;

}  // namespace

void SpawnStrategy::start() {
  if (context_.spawn_argv.empty()) throw std::logic_error("spawn strategy without a spawn command");
}

RunOutcome SpawnStrategy::run(std::uint64_t run_index) {
  RunOutcome outcome;
  outcome.worker_id = run_index;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    outcome.failure = std::string("pipe: ") + std::strerror(errno);
    return outcome;
  }
  std::vector<std::string> args = context_.spawn_argv;
  args.push_back(std::to_string(run_index));
  args.push_back(std::to_string(kResultFd));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], kResultFd);  // dup2 clears close-on-exec
  std::int64_t t0 = monotonic_ns();
  pid_t pid = -1;
  int error = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (error != 0) {
    ::close(fds[0]);
    outcome.failure = "posix_spawn " + args[0] + ": " + std::strerror(error);
    return outcome;
  }
  collect_child(pid, fds[0], context_, t0, outcome);
  ::close(fds[0]);
  return outcome;
}

}  // namespace memsoak::harness::internal

namespace memsoak::harness {

int run_spawned_once(const StrategyContext& context, std::uint64_t run_index, int result_fd) noexcept {
  internal::prepare_child(context);
  internal::Family family;
  family.pids[0] = ::getppid();
  const bool smaps = internal::smaps_run(context, run_index);
  return internal::write_report(result_fd,
                                internal::setup_run_and_report(context.factory, run_index, smaps, family))
             ? 0
             : 1;
}

}  // namespace memsoak::harness
