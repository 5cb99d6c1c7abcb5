// The soak keeper (see soak_keeper.h).
#include "harness/soak_keeper.h"

#include <dirent.h>
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
int sweep_once(std::string_view needle, pid_t self) noexcept {
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
      if (pid == self || !environment_has(pid, needle)) continue;
      if (::kill(pid, SIGKILL) == 0) ++signalled;
    }
  }
  ::close(proc);
  return signalled;
}

std::string make_token() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return std::to_string(::getpid()) + "-" + std::to_string(now.tv_sec) + "-" + std::to_string(now.tv_nsec);
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

int SoakKeeper::sweep(const std::string& variable, const std::string& token, int max_rounds) noexcept {
  // Built before any fork by the caller's std::string; here only viewed.
  char needle[256];
  int length = std::snprintf(needle, sizeof needle, "%s=%s", variable.c_str(), token.c_str());
  if (length <= 0 || static_cast<std::size_t>(length) + 1 >= sizeof needle) return 0;
  // The terminating NUL is part of the entry: TOKEN=12 must not match TOKEN=123.
  const std::string_view with_nul(needle, static_cast<std::size_t>(length) + 1);
  const pid_t self = ::getpid();
  int total = 0;
  for (int round = 0; round < max_rounds; ++round) {
    int signalled = sweep_once(with_nul, self);
    total += signalled;
    if (signalled == 0) break;
    timespec pause{0, 10'000'000};
    ::nanosleep(&pause, nullptr);
  }
  return total;
}

SoakKeeper::SoakKeeper(const std::filesystem::path& run_log) : token_(make_token()) {
  ::setenv(kSoakTokenVariable, token_.c_str(), 1);
  // `control`: closed by this process when the soak is over (or by the kernel when it dies).
  // `done`: closed by the sweeper when it has swept.
  int control[2];
  int done[2];
  if (::pipe2(control, O_CLOEXEC) != 0) return;
  if (::pipe2(done, O_CLOEXEC) != 0) {
    ::close(control[0]);
    ::close(control[1]);
    return;
  }
  const std::string variable = kSoakTokenVariable;
  const std::string log_path = run_log.string();
  // Forked twice so that the sweeper is no child of this process: the soak's reaping of orphans
  // (waitpid(-1)) must neither wait for it nor reap it.
  pid_t first = ::fork();
  if (first == 0) {
    ::setsid();  // a session of its own: a terminal's SIGINT or SIGHUP does not reach it
    ::prctl(PR_SET_NAME, "memsoak-keeper");  // in ps and top; its command line is memsoak's
    if (::fork() != 0) ::_exit(0);
    // Holds nothing of memsoak's open: whoever reads memsoak's output sees its end when memsoak
    // ends. Keeps the control pipe (as 3) and the done pipe (as 4), and /dev/null on 0 to 2.
    const int control_high = ::fcntl(control[0], F_DUPFD, 10);
    const int done_high = ::fcntl(done[1], F_DUPFD, 10);
    if (control_high < 0 || done_high < 0 || ::dup2(control_high, 3) < 0 || ::dup2(done_high, 4) < 0)
      ::_exit(1);
    ::close_range(5, ~0u, 0);
    int null = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd <= 2 && null >= 0; ++fd) ::dup2(null, fd);
    if (null > 4) ::close(null);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) ::signal(sig, SIG_IGN);
    int log_fd = -1;
    for (;;) {
      pollfd p{3, POLLIN, 0};
      int ready = ::poll(&p, 1, kLogCheckMs);
      if (log_fd < 0) log_fd = ::open(log_path.c_str(), O_RDWR | O_CLOEXEC);
      if (log_fd >= 0) cap_log(log_fd, kRunLogCapBytes, kRunLogHeadBytes, kRunLogTailBytes);
      if (ready < 0 && errno == EINTR) continue;
      char byte;
      if (ready != 0 && ::read(3, &byte, 1) <= 0) break;  // closed: the soak is over
    }
    sweep(variable, token_, kSweepRounds);
    if (log_fd >= 0) cap_log(log_fd, kRunLogCapBytes, kRunLogHeadBytes, kRunLogTailBytes);
    ::_exit(0);
  }
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
