// POSIX helpers shared by the harness: descriptor ownership, pipe pairs, waiting through EINTR.
//
// Guarantees: UniqueFd and the wait helpers never allocate and never throw, so they may be used
// between fork and exec. make_pipe() throws (cold path); try_make_pipe() is its noexcept twin.
#pragma once

#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <utility>

namespace memsoak::harness {

// Owns one descriptor and closes it when destroyed or reset. Movable, not copyable.
class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

// The two ends of a pipe, both close-on-exec.
struct PipePair {
  UniqueFd read_end;
  UniqueFd write_end;
};

// Opens a pipe (O_CLOEXEC plus `extra_flags`). Throws std::system_error naming "pipe2".
PipePair make_pipe(int extra_flags = 0);

// The same without exceptions: 0, or the errno of pipe2 (nothing is left open on failure).
int try_make_pipe(PipePair& pipe, int extra_flags = 0) noexcept;

// Blocks SIGPIPE in this thread while alive; discard() takes a SIGPIPE raised meanwhile by our own
// write off the pending set, so it is never delivered. Leaves the process's dispositions alone:
// for writes to a pipe whose reader may be gone (EPIPE instead of a signal).
class SigpipeBlocked {
 public:
  SigpipeBlocked() noexcept;
  ~SigpipeBlocked();
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;
  void discard() noexcept;

 private:
  sigset_t pipe_set_;
  sigset_t old_mask_;
  bool was_pending_ = false;
};

// wait4() retried while a signal interrupts it. Returns what wait4 returned last.
pid_t wait4_retrying(pid_t pid, int* status, int options, rusage* usage) noexcept;

// ru_maxrss (KiB on Linux) in bytes.
inline std::int64_t peak_rss_bytes(const rusage& usage) noexcept {
  return static_cast<std::int64_t>(usage.ru_maxrss) * 1024;
}

// User and system CPU of an rusage, in nanoseconds.
std::int64_t user_cpu_ns(const rusage& usage) noexcept;
std::int64_t system_cpu_ns(const rusage& usage) noexcept;

}  // namespace memsoak::harness
