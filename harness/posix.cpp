// POSIX helpers (see posix.h).
#include "harness/posix.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace memsoak::harness {

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

int try_make_pipe(PipePair& pipe, int extra_flags) noexcept {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | extra_flags) != 0) return errno;
  pipe.read_end.reset(fds[0]);
  pipe.write_end.reset(fds[1]);
  return 0;
}

PipePair make_pipe(int extra_flags) {
  PipePair pipe;
  if (int error = try_make_pipe(pipe, extra_flags); error != 0) {
    throw std::system_error(error, std::generic_category(), "pipe2");
  }
  return pipe;
}

SigpipeBlocked::SigpipeBlocked() noexcept {
  ::sigemptyset(&pipe_set_);
  ::sigaddset(&pipe_set_, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_set_, &old_mask_);
  sigset_t pending;
  ::sigpending(&pending);
  was_pending_ = ::sigismember(&pending, SIGPIPE) == 1;
}

SigpipeBlocked::~SigpipeBlocked() { ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr); }

void SigpipeBlocked::discard() noexcept {
  if (was_pending_) return;  // someone else's SIGPIPE: not ours to swallow
  timespec no_wait{};
  while (::sigtimedwait(&pipe_set_, nullptr, &no_wait) < 0 && errno == EINTR) {
  }
}

pid_t wait4_retrying(pid_t pid, int* status, int options, rusage* usage) noexcept {
  pid_t reaped;
  while ((reaped = ::wait4(pid, status, options, usage)) < 0 && errno == EINTR) {
  }
  return reaped;
}

namespace {
std::int64_t timeval_ns(const timeval& tv) noexcept {
  return static_cast<std::int64_t>(tv.tv_sec) * 1'000'000'000 + static_cast<std::int64_t>(tv.tv_usec) * 1000;
}
}  // namespace

std::int64_t user_cpu_ns(const rusage& usage) noexcept { return timeval_ns(usage.ru_utime); }
std::int64_t system_cpu_ns(const rusage& usage) noexcept { return timeval_ns(usage.ru_stime); }

}  // namespace memsoak::harness
