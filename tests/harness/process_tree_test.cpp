// Process trees: descendants found through /proc, samples summed over a tree, and a wrapper
// shell that does not exec sampled as the whole tree behind it.
#include "harness/process_tree.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <string>

#include "harness/external_worker.h"
#include "harness/internal/descendants.h"
#include "harness/sampler.h"

namespace memsoak::harness {
namespace {

bool contains(const std::vector<pid_t>& pids, pid_t pid) {
  return std::find(pids.begin(), pids.end(), pid) != pids.end();
}

std::string process_name(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

// A forked child that forks a grandchild holding `grandchild_bytes` of touched memory. Both wait
// until the tree is destroyed; the child then ends and reaps the grandchild, so no zombie is left.
class ForkedTree {
 public:
  explicit ForkedTree(std::size_t grandchild_bytes) {
    int ready[2];
    if (::pipe(ready) != 0 || ::pipe(quit_) != 0) throw std::runtime_error("pipe");
    child_ = ::fork();
    if (child_ == 0) run_child(ready[1], grandchild_bytes);
    ::close(ready[1]);
    ::close(quit_[0]);
    if (::read(ready[0], &grandchild_, sizeof grandchild_) != sizeof grandchild_) grandchild_ = -1;
    ::close(ready[0]);
  }
  ~ForkedTree() {
    ::close(quit_[1]);
    ::waitpid(child_, nullptr, 0);
  }
  pid_t child() const { return child_; }
  pid_t grandchild() const { return grandchild_; }

 private:
  // The grandchild sends its pid once its memory is touched; the child waits for the quit pipe's
  // end of file, then ends the grandchild and reaps it.
  [[noreturn]] void run_child(int ready_fd, std::size_t bytes) {
    ::close(quit_[1]);
    pid_t grandchild = ::fork();
    if (grandchild == 0) {
      void* block = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      std::memset(block, 1, bytes);
      pid_t me = ::getpid();
      (void)::write(ready_fd, &me, sizeof me);
      ::pause();
      ::_exit(0);
    }
    char byte;
    (void)::read(quit_[0], &byte, 1);
    ::kill(grandchild, SIGKILL);
    ::waitpid(grandchild, nullptr, 0);
    ::_exit(0);
  }

  pid_t child_ = -1;
  pid_t grandchild_ = -1;
  int quit_[2] = {-1, -1};
};

TEST(ListDescendants, FindsChildrenAndGrandchildren) {
  ForkedTree tree(1 << 20);
  ASSERT_GT(tree.grandchild(), 0);
  std::vector<pid_t> mine = list_descendants(::getpid());
  EXPECT_TRUE(contains(mine, tree.child()));
  EXPECT_TRUE(contains(mine, tree.grandchild()));
  EXPECT_EQ(list_descendants(tree.child()), std::vector<pid_t>{tree.grandchild()});
  EXPECT_TRUE(list_descendants(tree.grandchild()).empty());
}

TEST(ListDescendants, ChildrenFilesAndTheProcScanAgree) {
  if (!internal::children_files_available()) {
    GTEST_SKIP() << "this kernel has no /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN)";
  }
  ForkedTree tree(1 << 20);
  std::vector<pid_t> from_files = internal::descendants_from_children_files(tree.child());
  EXPECT_EQ(from_files, internal::descendants_from_proc_scan(tree.child()));
  EXPECT_EQ(from_files, std::vector<pid_t>{tree.grandchild()});
}

TEST(ListDescendants, AnExitedOrInvalidRootHasNone) {
  pid_t gone = ::fork();
  if (gone == 0) ::_exit(0);
  ::waitpid(gone, nullptr, 0);
  EXPECT_TRUE(list_descendants(gone).empty());
  EXPECT_TRUE(list_descendants(0).empty()) << "not the whole machine";
}

TEST(SampleProcessTree, SumsTheRootAndItsDescendants) {
  ForkedTree tree(64u << 20);
  ProcessSample root = ProcessSampler(tree.child()).sample();
  ProcessSample whole = sample_process_tree(tree.child());
  EXPECT_GE(whole.rss_bytes, root.rss_bytes + (60 << 20));
  EXPECT_GE(whole.anon_rss_bytes, root.anon_rss_bytes + (60 << 20));
  EXPECT_EQ(whole.threads, 2);
  EXPECT_GT(whole.open_fds, root.open_fds);
  EXPECT_GT(whole.minor_faults, root.minor_faults) << "the grandchild faulted its block in";
  EXPECT_EQ(whole.heap_live_bytes, kNotMeasured);
  EXPECT_EQ(whole.heap_live_blocks, kNotMeasured);
}

TEST(SampleProcessTree, AnExitedRootIsNotMeasured) {
  pid_t gone = ::fork();
  if (gone == 0) ::_exit(0);
  ::waitpid(gone, nullptr, 0);
  ProcessSample s = sample_process_tree(gone);
  EXPECT_EQ(s.rss_bytes, kNotMeasured);
  EXPECT_EQ(s.threads, kNotMeasured);
}

TEST(SampleProcessTree, AWrapperShellThatDoesNotExecIsSampledWithItsWorker) {
  ExternalWorkerOptions options;
  // `; exit $?` keeps the shell alive as the worker's parent (dash would exec a lone command).
  options.command = std::string("'") + MEMSOAK_PYTHON3 + "' '" + MEMSOAK_RERANKER_WORKER_PY + "'; exit $?";
  options.ready_timeout_ms = 20'000;
  ExternalWorker worker(options);
  WorkerStart start = worker.start();
  ASSERT_TRUE(start.ok) << start.failure;
  RunOutcome outcome = worker.run(0);
  ASSERT_TRUE(outcome.ok) << outcome.failure;

  std::vector<pid_t> descendants = list_descendants(worker.pid());
  ASSERT_EQ(descendants.size(), 1u);
  EXPECT_EQ(process_name(worker.pid()), "sh");
  EXPECT_EQ(process_name(descendants[0]), "python3");
  std::int64_t shell_rss = ProcessSampler(worker.pid()).rss_bytes();
  std::int64_t python_rss = ProcessSampler(descendants[0]).rss_bytes();
  EXPECT_GT(outcome.worker.rss_bytes, shell_rss);
  EXPECT_GE(outcome.worker.rss_bytes, python_rss) << "the sample covers the whole tree";
  EXPECT_EQ(outcome.worker.threads, 2);

  WorkerExit exit = worker.stop();
  EXPECT_EQ(exit.stopped_by, WorkerExit::StoppedBy::kStdinClosed);
  EXPECT_TRUE(WIFEXITED(exit.wait_status) && WEXITSTATUS(exit.wait_status) == 0) << exit.description();
  // wait4 folds in the peaks of the children the shell reaped (the shell alone is ~1 MiB). The
  // kernel updates a process's high-water mark lazily, so it may come out a little under the
  // RSS sampled earlier (seen: 168 KiB under).
  EXPECT_GT(exit.peak_rss_bytes, shell_rss);
  EXPECT_GE(exit.peak_rss_bytes, python_rss * 9 / 10);
}

}  // namespace
}  // namespace memsoak::harness
