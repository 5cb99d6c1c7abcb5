// Process trees through /proc (see process_tree.h).
#include "harness/process_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>

#include "harness/internal/descendants.h"
#include "harness/proc_parsers.h"
#include "harness/sampler.h"

namespace memsoak::harness {
namespace internal {
namespace {

struct ParentLink {
  pid_t ppid;
  pid_t pid;
  bool operator<(const ParentLink& other) const { return ppid < other.ppid; }
};

bool is_pid_name(const char* name) {
  if (*name == '\0') return false;
  for (; *name != '\0'; ++name) {
    if (*name < '0' || *name > '9') return false;
  }
  return true;
}

// The whole of a small /proc file (a children file may exceed one page); false if it vanished.
bool read_proc_file(int dir_fd, const char* path, std::string& text) {
  int fd = ::openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  text.clear();
  char chunk[4096];
  ssize_t n;
  while ((n = ::read(fd, chunk, sizeof chunk)) > 0) text.append(chunk, static_cast<std::size_t>(n));
  ::close(fd);
  return n == 0;
}

// The parent of process `name` (a /proc entry), or -1 when it vanished or its stat is unreadable.
pid_t read_parent(int proc_fd, const char* name) {
  char path[sizeof(dirent::d_name) + 16];
  std::snprintf(path, sizeof path, "%s/stat", name);
  int fd = ::openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n <= 0) return -1;
  auto fields = parse_stat(std::string_view(buf, static_cast<std::size_t>(n)));
  return fields ? static_cast<pid_t>(fields->ppid) : -1;
}

// (parent, child) for every process on the machine, sorted by parent.
std::vector<ParentLink> read_parent_links() {
  std::vector<ParentLink> links;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) throw std::system_error(errno, std::generic_category(), "/proc");
  while (const dirent* entry = ::readdir(proc)) {
    if (!is_pid_name(entry->d_name)) continue;
    pid_t ppid = read_parent(::dirfd(proc), entry->d_name);
    if (ppid >= 0) links.push_back({ppid, static_cast<pid_t>(std::atoi(entry->d_name))});
  }
  ::closedir(proc);
  std::sort(links.begin(), links.end());
  return links;
}

// The children of `pid`, from the children file of each of its threads (a child belongs to the
// thread that forked it).
void append_children(pid_t pid, std::vector<pid_t>& out) {
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%d/task", static_cast<int>(pid));
  DIR* tasks = ::opendir(path);
  if (tasks == nullptr) return;  // exited
  std::string text;
  std::vector<std::uint64_t> pids;
  while (const dirent* entry = ::readdir(tasks)) {
    if (!is_pid_name(entry->d_name)) continue;
    char children_path[sizeof entry->d_name + 16];
    std::snprintf(children_path, sizeof children_path, "%s/children", entry->d_name);
    if (read_proc_file(::dirfd(tasks), children_path, text)) parse_pid_list(text, pids);
  }
  ::closedir(tasks);
  for (std::uint64_t child : pids) out.push_back(static_cast<pid_t>(child));
}

}  // namespace

bool children_files_available() {
  static const bool available = [] {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/self/task/%ld/children",
                  static_cast<long>(::syscall(SYS_gettid)));
    return ::access(path, R_OK) == 0;
  }();
  return available;
}

std::vector<pid_t> descendants_from_children_files(pid_t root) {
  std::vector<pid_t> descendants;
  append_children(root, descendants);
  // `descendants` is also the queue of processes whose children are still to be listed.
  for (std::size_t next = 0; next < descendants.size(); ++next)
    append_children(descendants[next], descendants);
  return descendants;
}

std::vector<pid_t> descendants_from_proc_scan(pid_t root) {
  std::vector<ParentLink> links = read_parent_links();
  std::vector<pid_t> descendants;
  pid_t parent = root;
  for (std::size_t next = 0;; ++next) {
    auto [first, last] = std::equal_range(links.begin(), links.end(), ParentLink{parent, 0});
    for (auto it = first; it != last; ++it) descendants.push_back(it->pid);
    if (next == descendants.size()) break;
    parent = descendants[next];
  }
  return descendants;
}

}  // namespace internal

namespace {

// Adds a measured value into a total that may not have been measured yet.
void add_measured(std::int64_t& total, std::int64_t value) {
  if (value == kNotMeasured) return;
  total = total == kNotMeasured ? value : total + value;
}

void add_sample(ProcessSample& total, const ProcessSample& one) {
  add_measured(total.rss_bytes, one.rss_bytes);
  add_measured(total.anon_rss_bytes, one.anon_rss_bytes);
  add_measured(total.open_fds, one.open_fds);
  add_measured(total.threads, one.threads);
  add_measured(total.minor_faults, one.minor_faults);
  add_measured(total.major_faults, one.major_faults);
  add_measured(total.cpu_user_ns, one.cpu_user_ns);
  add_measured(total.cpu_system_ns, one.cpu_system_ns);
}

}  // namespace

std::vector<pid_t> list_descendants(pid_t root) {
  if (root <= 0) return {};  // pid 0 would be the parent of init and kthreadd: the whole machine
  return internal::children_files_available() ? internal::descendants_from_children_files(root)
                                              : internal::descendants_from_proc_scan(root);
}

ProcessSample sample_process_tree(pid_t root) {
  ProcessSample total;
  std::vector<pid_t> pids = list_descendants(root);
  pids.insert(pids.begin(), root);
  for (pid_t pid : pids) {
    try {
      ProcessSample one = ProcessSampler(pid).sample();
      if (pid == root && one.rss_bytes == kNotMeasured) return total;
      add_sample(total, one);
    } catch (const std::system_error&) {
      if (pid == root) return total;  // the root exited: nothing of the tree is measured
    }
  }
  return total;
}

}  // namespace memsoak::harness
