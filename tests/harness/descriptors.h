// Test support: counting this process's open descriptors, and leaving it only a few free ones.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>

namespace memsoak::testing {

inline int open_descriptors() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;  // no /proc: every comparison then fails loudly
  while (::readdir(dir) != nullptr) ++count;
  ::closedir(dir);
  return count - 3;  // ".", ".." and the directory's own descriptor
}

// Lowers RLIMIT_NOFILE so that only `free_fds` more descriptors can be opened, until destroyed.
class DescriptorLimit {
 public:
  explicit DescriptorLimit(int free_fds) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    // New descriptors take the lowest free numbers below the limit: put the limit just past the
    // `free_fds`-th free number (descriptors already open above it stay valid).
    int limit = 0;
    for (int free_seen = 0; free_seen < free_fds; ++limit) {
      if (::fcntl(limit, F_GETFD) == -1) ++free_seen;
    }
    rlimit lowered = saved_;
    lowered.rlim_cur = static_cast<rlim_t>(limit);
    ::setrlimit(RLIMIT_NOFILE, &lowered);
  }
  ~DescriptorLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }

 private:
  rlimit saved_{};
};

}  // namespace memsoak::testing
