// ProcessSampler (see sampler.h).
#include "harness/sampler.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string_view>
#include <system_error>

#include "harness/heap_counters.h"
#include "harness/proc_parsers.h"

namespace memsoak::harness {
namespace {

int open_proc(pid_t pid, const char* name, int flags) {
  char path[64];
  if (pid == 0) {
    std::snprintf(path, sizeof path, "/proc/self/%s", name);
  } else {
    std::snprintf(path, sizeof path, "/proc/%d/%s", static_cast<int>(pid), name);
  }
  int fd = ::open(path, flags | O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), path);
  return fd;
}

// Reads a whole small /proc file into `buf`; returns its text, or an empty view on error.
std::string_view pread_text(int fd, char* buf, std::size_t size) noexcept {
  ssize_t n = ::pread(fd, buf, size - 1, 0);
  if (n <= 0) return {};
  return {buf, static_cast<std::size_t>(n)};
}

std::int64_t timeval_ns(const timeval& tv) {
  return static_cast<std::int64_t>(tv.tv_sec) * 1'000'000'000 + static_cast<std::int64_t>(tv.tv_usec) * 1000;
}

}  // namespace

ProcessSampler::ProcessSampler(pid_t pid)
    : self_(pid == 0 || pid == ::getpid()),
      pid_(pid),
      page_bytes_(::sysconf(_SC_PAGESIZE)),
      ns_per_tick_(1'000'000'000 / ::sysconf(_SC_CLK_TCK)) {
  // /proc/self resolves when the file is opened: a sampler built before fork keeps reading the
  // parent, so each process builds its own.
  statm_fd_ = open_proc(pid, "statm", 0);
  try {
    stat_fd_ = open_proc(pid, "stat", 0);
    fd_dir_fd_ = open_proc(pid, "fd", O_DIRECTORY);
  } catch (...) {
    close_all();
    throw;
  }
}

ProcessSampler::~ProcessSampler() { close_all(); }

void ProcessSampler::close_all() noexcept {
  for (int fd : {statm_fd_, stat_fd_, fd_dir_fd_}) {
    if (fd >= 0) ::close(fd);
  }
  statm_fd_ = stat_fd_ = fd_dir_fd_ = -1;
}

std::int64_t ProcessSampler::rss_bytes() const noexcept {
  char buf[256];
  auto pages = parse_statm(pread_text(statm_fd_, buf, sizeof buf));
  if (!pages) return kNotMeasured;
  return static_cast<std::int64_t>(pages->resident) * page_bytes_;
}

void ProcessSampler::read_statm(ProcessSample& out) const noexcept {
  char buf[256];
  auto pages = parse_statm(pread_text(statm_fd_, buf, sizeof buf));
  if (!pages) return;
  out.rss_bytes = static_cast<std::int64_t>(pages->resident) * page_bytes_;
  out.anon_rss_bytes = static_cast<std::int64_t>(pages->resident - pages->shared) * page_bytes_;
}

void ProcessSampler::read_stat(ProcessSample& out) const noexcept {
  char buf[1024];
  auto fields = parse_stat(pread_text(stat_fd_, buf, sizeof buf));
  if (!fields) return;
  out.minor_faults = static_cast<std::int64_t>(fields->minor_faults);
  out.major_faults = static_cast<std::int64_t>(fields->major_faults);
  out.threads = static_cast<std::int64_t>(fields->num_threads);
  out.cpu_user_ns = static_cast<std::int64_t>(fields->utime_ticks) * ns_per_tick_;
  out.cpu_system_ns = static_cast<std::int64_t>(fields->stime_ticks) * ns_per_tick_;
}

std::int64_t ProcessSampler::count_open_fds() const noexcept {
  if (::lseek(fd_dir_fd_, 0, SEEK_SET) != 0) return kNotMeasured;
  alignas(8) char buf[4096];
  std::int64_t count = 0;
  for (;;) {
    long n = ::syscall(SYS_getdents64, fd_dir_fd_, buf, sizeof buf);
    if (n < 0) return kNotMeasured;
    if (n == 0) break;
    for (long pos = 0; pos < n;) {
      auto* entry = reinterpret_cast<dirent64*>(buf + pos);
      if (entry->d_name[0] != '.') ++count;
      pos += entry->d_reclen;
    }
  }
  // The sampler's own three descriptors are not the workload's.
  return self_ ? count - 3 : count;
}

void ProcessSampler::add_smaps(ProcessSample& out) const noexcept {
  char path[64];
  if (pid_ == 0) {
    std::snprintf(path, sizeof path, "/proc/self/smaps_rollup");
  } else {
    std::snprintf(path, sizeof path, "/proc/%d/smaps_rollup", static_cast<int>(pid_));
  }
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char buf[2048];
  auto rollup = parse_smaps_rollup(pread_text(fd, buf, sizeof buf));
  ::close(fd);
  if (!rollup) return;
  out.pss_bytes = static_cast<std::int64_t>(rollup->pss_bytes);
  out.uss_bytes = static_cast<std::int64_t>(rollup->private_clean_bytes + rollup->private_dirty_bytes);
}

ProcessSample ProcessSampler::sample() const noexcept {
  ProcessSample out;
  read_statm(out);
  read_stat(out);
  out.open_fds = count_open_fds();
  if (self_) {
    // getrusage has microsecond resolution where /proc/PID/stat has clock ticks (10 ms).
    rusage usage{};
    if (::getrusage(RUSAGE_SELF, &usage) == 0) {
      out.cpu_user_ns = timeval_ns(usage.ru_utime);
      out.cpu_system_ns = timeval_ns(usage.ru_stime);
    }
    if (heap_counters_available()) {
      HeapCounters heap = read_heap_counters();
      out.heap_live_bytes = heap.live_bytes;
      out.heap_live_blocks = heap.live_blocks;
    }
  }
  return out;
}

}  // namespace memsoak::harness
