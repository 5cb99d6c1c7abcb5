// ServerProcess: a long-lived child of the strategy serving requests over two pipes.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <system_error>

#include "harness/artifacts.h"
#include "harness/internal/child_protocol.h"
#include "harness/internal/clock.h"
#include "harness/internal/server_messages.h"
#include "harness/internal/strategies.h"
#include "harness/posix.h"

namespace memsoak::harness::internal {

void ServerProcess::start(const StrategyContext& context, const std::function<void(int, int)>& body) {
  if (running()) throw std::logic_error("ServerProcess::start: already running");
  PipePair command = make_pipe();
  PipePair reply = make_pipe();
  pid_t pid = ::fork();
  if (pid == 0) {
    command.write_end.reset();
    reply.read_end.reset();
    prepare_child(context);
    // Nothing may escape into the strategy's code, which this forked copy would go on running.
    try {
      body(command.read_end.get(), reply.write_end.get());
    } catch (...) {
      ::_exit(1);
    }
    ::_exit(0);
  }
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  pid_ = pid;
  command_ = std::move(command.write_end);
  reply_ = std::move(reply.read_end);
}

bool ServerProcess::send(std::uint64_t value) noexcept {
  // MSG_NOSIGNAL does not exist for pipes: SIGPIPE is ignored by the strategy process instead.
  return ::write(command_.get(), &value, sizeof value) == static_cast<ssize_t>(sizeof value);
}

int ServerProcess::finish(bool kill_first, std::int64_t& peak_rss_bytes) noexcept {
  peak_rss_bytes = kNotMeasured;
  if (pid_ <= 0) return 0;
  if (kill_first) ::kill(pid_, SIGKILL);
  command_.reset();
  int status = reap(pid_, peak_rss_bytes);
  reply_.reset();
  pid_ = -1;
  return status;
}

ServerProcess::~ServerProcess() {
  std::int64_t ignored;
  finish(true, ignored);
}

std::unique_ptr<Workload> set_up_server_workload(const WorkloadFactory& factory, int reply_fd) noexcept {
  ServerReady ready;
  std::unique_ptr<Workload> workload;
  const std::uint64_t artifacts_before = artifacts_committed();
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
  ready.artifacts = artifacts_committed() - artifacts_before;
  if (::write(reply_fd, &ready, sizeof ready) != sizeof ready) return nullptr;
  return workload;
}

bool await_ready(int reply_fd, std::int64_t timeout_ms, ServerReady& ready, std::string& failure) {
  ReadStatus status = read_exactly(reply_fd, &ready, sizeof ready, timeout_ms);
  if (status == ReadStatus::kTimeout) {
    ready = ServerReady{};
    failure = "setup did not finish within --run-timeout";
    return false;
  }
  if (status != ReadStatus::kOk || ready.magic != ServerReady{}.magic) {
    ready = ServerReady{};
    failure = "died during setup";
    return false;
  }
  if (!ready.ok) {
    failure = ready.failure;
    return false;
  }
  return true;
}

}  // namespace memsoak::harness::internal
