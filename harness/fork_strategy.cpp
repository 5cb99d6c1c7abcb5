// ForkPerRunStrategy: a fresh child per run, the field fix of running each call in a process.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "harness/internal/child_protocol.h"
#include "harness/internal/clock.h"
#include "harness/internal/strategies.h"

namespace memsoak::harness::internal {

RunOutcome ForkPerRunStrategy::run(std::uint64_t run_index) {
  RunOutcome outcome;
  outcome.worker_id = run_index;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    outcome.failure = std::string("pipe: ") + std::strerror(errno);
    return outcome;
  }
  const bool smaps = smaps_run(context_, run_index);
  std::int64_t t0 = monotonic_ns();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    prepare_child(context_);
    Family family;
    family.pids[0] = ::getppid();
    bool written = write_report(fds[1], setup_run_and_report(context_.factory, run_index, smaps, family));
    // _exit: no atexit handlers and no flush of stdio buffers inherited from the parent.
    ::_exit(written ? 0 : 1);
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    outcome.failure = std::string("fork: ") + std::strerror(errno);
    return outcome;
  }
  collect_child(pid, fds[0], context_, t0, outcome);
  ::close(fds[0]);
  return outcome;
}

}  // namespace memsoak::harness::internal
