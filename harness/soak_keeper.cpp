// The soak keeper (see soak_keeper.h).
#include "harness/soak_keeper.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "harness/internal/clock.h"
#include "harness/posix.h"

namespace memsoak::harness {
namespace {

constexpr int kSweepRounds = 500;  // scans 10 ms apart: 5 s for a tree still forking to die
constexpr int kLogCheckMs = 200;

// Whether `pid`'s environment has the entry `needle` ("NAME=VALUE" with its terminating NUL).
// Reads in chunks that overlap by the needle's length, so an entry across a boundary is found.
// Allocates nothing: it runs in the forked sweeper.
bool environment_has(pid_t pid, std::string_view needle) noexcept {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/environ", static_cast<int>(pid));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  static char buffer[1 << 16];
  std::size_t kept = 0;
  bool found = false;
  for (;;) {
    ssize_t n = ::read(fd, buffer + kept, sizeof buffer - kept);
    if (n <= 0) break;
    std::size_t size = kept + static_cast<std::size_t>(n);
    // An entry is preceded by the start of the block or by the NUL that ends the one before.
    std::string_view text(buffer, size);
    for (std::size_t at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + 1)) {
      if (at == 0 || text[at - 1] == '\0') {
        found = true;
        break;
      }
    }
    if (found || size <= needle.size()) break;
    kept = needle.size() + 1;
    std::memmove(buffer, buffer + size - kept, kept);
  }
  ::close(fd);
  return found;
}

// One scan of /proc; SIGKILLs every match. Uses getdents64 directly: opendir allocates.
int sweep_once(std::string_view needle, pid_t self, pid_t spared) noexcept {
  int proc = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc < 0) return 0;
  int signalled = 0;
  alignas(8) static char entries[1 << 15];
  for (;;) {
    long n = ::syscall(SYS_getdents64, proc, entries, sizeof entries);
    if (n <= 0) break;
    for (long offset = 0; offset < n;) {
      const auto* entry = reinterpret_cast<const dirent64*>(entries + offset);
      offset += entry->d_reclen;
      const char* name = entry->d_name;
      if (name[0] < '1' || name[0] > '9') continue;
      const pid_t pid = static_cast<pid_t>(std::strtol(name, nullptr, 10));
      if (pid == self || pid == spared || !environment_has(pid, needle)) continue;
      if (::kill(pid, SIGKILL) == 0) ++signalled;
    }
  }
  ::close(proc);
  return signalled;
}

// "<pid>_<seconds>_<nanoseconds>": unique on the machine, and usable in a variable's name.
std::string make_token() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return std::to_string(::getpid()) + "_" + std::to_string(now.tv_sec) + "_" + std::to_string(now.tv_nsec);
}

// The token this process set for its own soak (it starts with this pid); empty when none. One
// inherited from another soak (a memsoak run inside a worker) starts with another pid.
std::string own_token() {
  const char* value = std::getenv(kSoakTokenVariable);
  if (value == nullptr) return {};
  const std::string prefix = std::to_string(::getpid()) + "_";
  return std::string_view(value).starts_with(prefix) ? std::string(value) : std::string();
}

std::string sweep_variable(const std::string& token) { return "MEMSOAK_SOAK_" + token; }

// Sets both variables of `token` in this process's environment.
void set_token(const std::string& token) {
  ::setenv(kSoakTokenVariable, token.c_str(), 1);
  ::setenv(sweep_variable(token).c_str(), "1", 1);
}

constexpr std::string_view kMarkerStart = "[memsoak: ";

bool pread_all(int fd, char* out, std::size_t size, std::uint64_t offset) noexcept {
  for (std::size_t got = 0; got < size;) {
    ssize_t n = ::pread(fd, out + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

bool pwrite_all(int fd, const char* in, std::size_t size, std::uint64_t offset) noexcept {
  for (std::size_t put = 0; put < size;) {
    ssize_t n = ::pwrite(fd, in + put, size - put, static_cast<off_t>(offset + put));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    put += static_cast<std::size_t>(n);
  }
  return true;
}

// Whether this process runs under a tool that an exec of /proc/self/exe would leave: valgrind
// (its preloaded libraries; /proc/self/exe is then valgrind's tool, not memsoak) or heaptrack (its
// preloaded library, which takes LD_PRELOAD out of the environment once loaded).
bool under_tool_not_following_exec() noexcept {
  const char* preload = std::getenv("LD_PRELOAD");
  return (preload != nullptr && std::strstr(preload, "/vgpreload_") != nullptr) ||
         ::dlsym(RTLD_DEFAULT, "heaptrack_stop") != nullptr;
}

// The kernel names a program executed as /proc/self/exe "exe": ps, top, pgrep and killall show
// the executed memsoak by its file's name again.
void name_after_executable() noexcept {
  char target[4096];
  const ssize_t n = ::readlink("/proc/self/exe", target, sizeof target - 1);
  if (n <= 0) return;
  target[n] = '\0';
  if (char* deleted = std::strstr(target, " (deleted)"); deleted != nullptr && deleted[10] == '\0')
    *deleted = '\0';
  const char* slash = std::strrchr(target, '/');
  ::prctl(PR_SET_NAME, slash != nullptr ? slash + 1 : target);  // cut to 15 bytes
}

// Whether `pid` is a process that has not ended: neither gone nor a zombie. Allocates nothing.
bool process_alive(pid_t pid) noexcept {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char text[512];
  const ssize_t n = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (n <= 0) return false;
  text[n] = '\0';
  const char* paren = std::strrchr(text, ')');
  return paren == nullptr || paren[1] == '\0' || paren[2] != 'Z';
}

}  // namespace

std::uint64_t SoakKeeper::cap_log(int fd, std::uint64_t cap, std::uint64_t head,
                                  std::uint64_t tail) noexcept {
  static char buffer[kRunLogTailBytes + 4096];
  struct stat info {};
  if (::fstat(fd, &info) != 0 || static_cast<std::uint64_t>(info.st_size) <= cap) return 0;
  const auto size = static_cast<std::uint64_t>(info.st_size);
  tail = std::min<std::uint64_t>(tail, kRunLogTailBytes);
  if (head + tail + 4096 > cap) return 0;  // nothing worth cutting
  // The head ends after its last whole line (the head never changes once cut, so every cut finds
  // the same end).
  const std::uint64_t probe = std::min<std::uint64_t>(head, 4096);
  if (!pread_all(fd, buffer, probe, head - probe)) return 0;
  std::uint64_t head_end = head;
  for (std::uint64_t i = probe; i > 0; --i) {
    if (buffer[i - 1] == '\n') {
      head_end = head - probe + i;
      break;
    }
  }
  // An earlier cut's line: its count is carried into this one's.
  std::uint64_t dropped_before = 0;
  std::uint64_t middle_start = head_end;
  char line[256] = {};
  if (pread_all(fd, line, sizeof line - 1, head_end) && std::string_view(line).starts_with(kMarkerStart)) {
    std::uintmax_t count = 0;
    if (std::sscanf(line + kMarkerStart.size(), "%" SCNuMAX, &count) == 1) dropped_before = count;
    if (const char* newline = std::strchr(line, '\n'))
      middle_start = head_end + static_cast<std::uint64_t>(newline - line) + 1;
  }
  // The tail starts at its first whole line.
  const std::uint64_t tail_offset = size - tail;
  if (!pread_all(fd, buffer, tail, tail_offset)) return 0;
  const char* first_newline = static_cast<const char*>(std::memchr(buffer, '\n', tail));
  if (first_newline == nullptr) return 0;
  const std::uint64_t skip = static_cast<std::uint64_t>(first_newline - buffer) + 1;
  const std::uint64_t dropped_now = tail_offset + skip - middle_start;
  char marker[256];
  const int marker_size =
      std::snprintf(marker, sizeof marker,
                    "[memsoak: %" PRIu64 " bytes of run.log dropped here; it keeps its first %" PRIu64
                    " MiB and its last %" PRIu64 " MiB]\n",
                    dropped_before + dropped_now, head >> 20, tail >> 20);
  const std::uint64_t kept_tail = tail - skip;
  if (marker_size <= 0 || !pwrite_all(fd, marker, static_cast<std::size_t>(marker_size), head_end) ||
      !pwrite_all(fd, buffer + skip, kept_tail, head_end + static_cast<std::uint64_t>(marker_size))) {
    return 0;
  }
  if (::ftruncate(fd, static_cast<off_t>(head_end + static_cast<std::uint64_t>(marker_size) + kept_tail)) !=
      0)
    return 0;
  return dropped_now;
}

int SoakKeeper::sweep(const std::string& entry, pid_t spared, int max_rounds) noexcept {
  // The terminating NUL is part of the entry: TOKEN=12 must not match TOKEN=123.
  const std::string_view with_nul(entry.c_str(), entry.size() + 1);
  const pid_t self = ::getpid();
  int total = 0;
  for (int round = 0; round < max_rounds; ++round) {
    int signalled = sweep_once(with_nul, self, spared);
    total += signalled;
    if (signalled == 0) break;
    timespec pause{0, 10'000'000};
    ::nanosleep(&pause, nullptr);
  }
  return total;
}

void SoakKeeper::enter_soak() noexcept {
  if (!own_token().empty()) {  // this is the executed program
    name_after_executable();
    return;
  }
  try {
    set_token(make_token());
    // Under such a tool the soak stays in this image: what it executes carries the variables,
    // what it only forks does not (the supervisor still ends those after each entry).
    if (under_tool_not_following_exec()) return;
    std::string arguments;
    char buffer[4096];
    const int fd = ::open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;)
      arguments.append(buffer, static_cast<std::size_t>(n));
    ::close(fd);
    std::vector<char*> argv;
    for (std::size_t at = 0; at < arguments.size(); at = arguments.find('\0', at) + 1) {
      argv.push_back(arguments.data() + at);
      if (arguments.find('\0', at) == std::string::npos) break;
    }
    if (argv.empty()) return;
    argv.push_back(nullptr);
    std::fflush(nullptr);
    ::execv("/proc/self/exe", argv.data());
  } catch (...) {
    // Out of memory this early: carry on without the re-execution.
  }
}

SoakKeeper::SoakKeeper(const std::filesystem::path& run_log) : token_(own_token()) {
  if (token_.empty()) {
    token_ = make_token();
    set_token(token_);
  }
  // `control`: a byte from this process when the soak is over. `done`: closed by the keeper when
  // it has swept. `soak`: a pidfd of this process, readable when it has ended, however it ended.
  int control[2];
  int done[2];
  const pid_t soak_pid = ::getpid();
  // Invalid before Linux 5.3, or under a seccomp filter that refuses pidfd_open (Docker's before
  // 20.10): the keeper then sweeps at the byte or at the pipe's end-of-file only.
  UniqueFd soak(static_cast<int>(::syscall(SYS_pidfd_open, soak_pid, 0)));
  if (::pipe2(control, O_CLOEXEC) != 0) return;
  if (::pipe2(done, O_CLOEXEC) != 0) {
    ::close(control[0]);
    ::close(control[1]);
    return;
  }
  // Built before the fork: the keeper allocates nothing.
  const std::string entry = sweep_variable(token_) + "=1";
  const std::string log_path = run_log.string();
  // Forked twice so that the sweeper is no child of this process: the soak's reaping of orphans
  // (waitpid(-1)) must neither wait for it nor reap it.
  pid_t first = ::fork();
  if (first == 0) {
    ::setsid();  // a session of its own: a terminal's SIGINT or SIGHUP does not reach it
    ::prctl(PR_SET_NAME, "memsoak-keeper");  // in ps and top; its command line is memsoak's
    if (::fork() != 0) ::_exit(0);
    // Holds nothing of memsoak's open: whoever reads memsoak's output sees its end when memsoak
    // ends. Keeps the control pipe (as 3), the done pipe (as 4) and the pidfd (as 5), and
    // /dev/null on 0 to 2.
    const int control_high = ::fcntl(control[0], F_DUPFD, 10);
    const int done_high = ::fcntl(done[1], F_DUPFD, 10);
    const int soak_high = soak.valid() ? ::fcntl(soak.get(), F_DUPFD, 10) : -1;
    if (control_high < 0 || done_high < 0 || (soak.valid() && soak_high < 0) || ::dup2(control_high, 3) < 0 ||
        ::dup2(done_high, 4) < 0 || (soak.valid() && ::dup2(soak_high, 5) < 0))
      ::_exit(1);
    ::close_range(soak.valid() ? 6 : 5, ~0u, 0);
    int null = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd <= 2 && null >= 0; ++fd) ::dup2(null, fd);
    if (null > 4) ::close(null);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) ::signal(sig, SIG_IGN);
    int log_fd = -1;
    for (;;) {
      pollfd p[2] = {{3, POLLIN, 0}, {soak.valid() ? 5 : -1, POLLIN, 0}};
      int ready = ::poll(p, 2, kLogCheckMs);
      if (log_fd < 0) log_fd = ::open(log_path.c_str(), O_RDWR | O_CLOEXEC);
      if (log_fd >= 0) cap_log(log_fd, kRunLogCapBytes, kRunLogHeadBytes, kRunLogTailBytes);
      if (ready < 0 && errno == EINTR) continue;
      // A byte or end-of-file on the pipe, the process gone, or a poll that failed: sweep now.
      if (ready != 0) break;
      // Without a pidfd, a child a plugin forked may hold the pipe open after memsoak was killed:
      // memsoak's end is also looked for every 200 ms (a zombie has ended too).
      if (!soak.valid() && !process_alive(soak_pid)) break;
    }
    sweep(entry, soak_pid, kSweepRounds);
    if (log_fd >= 0) cap_log(log_fd, kRunLogCapBytes, kRunLogHeadBytes, kRunLogTailBytes);
    ::_exit(0);
  }
  soak.reset();
  ::close(control[0]);
  ::close(done[1]);
  if (first < 0) {
    ::close(control[1]);
    ::close(done[0]);
    return;
  }
  int status = 0;
  while (::waitpid(first, &status, 0) < 0 && errno == EINTR) {
  }
  control_fd_ = control[1];
  done_fd_ = done[0];
}

SoakKeeper::~SoakKeeper() { finish(); }

void SoakKeeper::finish() noexcept {
  if (control_fd_ < 0) return;
  // The byte, not the pipe's end-of-file: a plugin's forked child may hold a copy of this end.
  // (A keeper that is gone already leaves the write failing with EPIPE, not killing memsoak.)
  const char over = 1;
  {
    SigpipeBlocked blocked;
    ssize_t written;
    while ((written = ::write(control_fd_, &over, 1)) < 0 && errno == EINTR) {
    }
    if (written != 1) blocked.discard();
  }
  ::close(control_fd_);
  control_fd_ = -1;
  // The sweep ends within kSweepRounds scans; the wait is bounded anyway.
  const std::int64_t deadline_ns = internal::monotonic_ns() + 15'000'000'000;
  for (;;) {
    const std::int64_t left_ms = (deadline_ns - internal::monotonic_ns()) / 1'000'000;
    if (left_ms <= 0) break;
    pollfd p{done_fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left_ms));
    if (ready < 0 && errno == EINTR) continue;
    char byte;
    if (ready <= 0 || ::read(done_fd_, &byte, 1) <= 0) break;
  }
  ::close(done_fd_);
  done_fd_ = -1;
}

}  // namespace memsoak::harness
