// ExternalWorker: spawning, protocol v1 on pipes, and stopping a worker's whole process group.
#include "harness/external_worker.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

#include "harness/errors.h"
#include "harness/exec_tracker.h"
#include "harness/internal/clock.h"
#include "harness/internal/worker_answer.h"
#include "harness/posix.h"
#include "harness/proc_parsers.h"
#include "harness/process_tree.h"
#include "harness/units.h"
#include "harness/workload.h"

extern char** environ;

namespace memsoak::harness {
namespace {

using internal::LineReader;
using internal::monotonic_ns;

constexpr std::size_t kMaxLineBytes = 1u << 20;
constexpr std::size_t kQuotedChars = 200;            // of a bad line, in a failure reason
constexpr std::size_t kErrTextChars = 1000;          // of an ERR answer's text
constexpr std::int64_t kExitAfterEofWaitMs = 200;    // for a worker whose output ended to be reapable
constexpr std::int64_t kReapGroupTimeoutMs = 5'000;  // for SIGKILLed group members to be reaped

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// Moves `fd` above 0..2 so that the child's dup2 onto stdin/stdout/stderr cannot overwrite a pipe
// end it has yet to move (possible when memsoak itself runs with a standard stream closed).
void raise_above_stdio(UniqueFd& fd) {
  if (fd.get() > 2) return;
  int raised = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (raised < 0) throw_errno("fcntl(F_DUPFD_CLOEXEC)");
  fd.reset(raised);
}

PipePair make_raised_pipe() {
  PipePair pipe = make_pipe();
  raise_above_stdio(pipe.read_end);
  raise_above_stdio(pipe.write_end);
  return pipe;
}

void close_fd(int& fd) noexcept {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// memsoak's environment with MEMSOAK_WORKER=1 (replacing any inherited value) and, with the
// tracker, its region's path and the library first in LD_PRELOAD (before any inherited entries).
std::vector<std::string> worker_environment(const std::string& tracker_library, const std::string& region,
                                            const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  std::string preload = tracker_library;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    if (text.starts_with("MEMSOAK_WORKER=") || text.starts_with("MEMSOAK_TRACKER_SHM=") ||
        text.starts_with("MEMSOAK_STACK_PLAN=") || text.starts_with("MEMSOAK_ARTIFACTS=") ||
        text.starts_with("MEMSOAK_STACK_STATE"))
      continue;
    if (!tracker_library.empty() && text.starts_with("LD_PRELOAD=")) {
      if (text.size() > 11) preload += ":" + std::string(text.substr(11));
      continue;
    }
    env.emplace_back(text);
  }
  env.emplace_back("MEMSOAK_WORKER=1");
  if (!tracker_library.empty()) {
    env.push_back("LD_PRELOAD=" + preload);
    env.push_back(std::string(kTrackerShmVariable) + "=" + region);
    env.insert(env.end(), extra.begin(), extra.end());
  }
  return env;
}

// Everything the child needs, prepared before fork: between fork and exec it may not allocate.
struct ChildPlan {
  int stdin_fd;
  int stdout_fd;
  int stderr_fd;  // -1: keep memsoak's
  pid_t parent_pid;
  rlim_t memory_limit;  // 0: none
  char* const* argv;
  char* const* envp;
};

[[noreturn]] void exec_child(const ChildPlan& plan) noexcept {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != plan.parent_pid) ::_exit(127);  // memsoak died before the prctl took hold
  if (plan.memory_limit > 0) {
    rlimit limit{plan.memory_limit, plan.memory_limit};
    if (::setrlimit(RLIMIT_AS, &limit) != 0) ::_exit(127);
  }
  if (::dup2(plan.stdin_fd, 0) < 0 || ::dup2(plan.stdout_fd, 1) < 0) ::_exit(127);
  if (plan.stderr_fd >= 0 && ::dup2(plan.stderr_fd, 2) < 0) ::_exit(127);
  ::close_range(3, ~0u, 0);  // best effort: descriptors memsoak opened without O_CLOEXEC
  // Dispositions set to "ignore" and blocked signals survive exec: a worker that inherited an
  // ignored SIGTERM would defeat stop(). Start it with the defaults.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &default_action, nullptr);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve("/bin/sh", plan.argv, plan.envp);
  ::_exit(127);
}

// `text` for a one-line message: quoted, control bytes escaped, cut after kQuotedChars.
std::string quote(std::string_view text) {
  std::string out = "'";
  for (std::size_t i = 0; i < text.size() && i < kQuotedChars; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != 0x7f) {
      out += static_cast<char>(c);
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    }
  }
  out += text.size() > kQuotedChars ? "'... (" + std::to_string(text.size()) + " bytes)" : "'";
  return out;
}

std::string describe_signal(int sig) {
  return "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
}

std::string describe_exit_code(int code) {
  std::string text = "exited with status " + std::to_string(code);
  // A shell that ran the worker as its child reports the child's death by signal N as 128 + N.
  if (code > 128 && code < 128 + NSIG) {
    text += " (from a shell: its child was " + describe_signal(code - 128) + ")";
  }
  return text;
}

std::string describe_wait_status(int status) {
  if (WIFSIGNALED(status)) return describe_signal(WTERMSIG(status));
  if (WIFEXITED(status)) return describe_exit_code(WEXITSTATUS(status));
  return "ended with wait status " + std::to_string(status);
}

std::string describe_siginfo(const siginfo_t& info) {
  if (info.si_code == CLD_EXITED) return describe_exit_code(info.si_status);
  return describe_signal(info.si_status);
}

void sleep_ms(long ms) {
  timespec pause{0, ms * 1'000'000};
  ::nanosleep(&pause, nullptr);
}

// Waits until `pid` has exited, without reaping it (WNOWAIT); timeout_ms < 0 waits for ever.
// False when it has not exited within the timeout.
bool wait_for_exit(pid_t pid, std::int64_t timeout_ms, siginfo_t& info) noexcept {
  int flags = WEXITED | WNOWAIT | (timeout_ms < 0 ? 0 : WNOHANG);
  std::int64_t deadline_ns = monotonic_ns() + timeout_ms * 1'000'000;
  for (;;) {
    info = siginfo_t{};
    int rc = ::waitid(P_PID, static_cast<id_t>(pid), &info, flags);
    if (rc == 0 && info.si_pid == pid) return true;
    if (rc < 0 && errno != EINTR) return false;  // ECHILD: not ours (cannot happen while pid_ is set)
    if (rc == 0 && monotonic_ns() >= deadline_ns) return false;
    if (rc == 0) sleep_ms(1);
  }
}

// Reaps every child of this process in group `pgid` (descendants reparented here by the
// subreaper setting), until none is left or the timeout passes.
void reap_group(pid_t pgid) noexcept {
  std::int64_t deadline_ns = monotonic_ns() + kReapGroupTimeoutMs * 1'000'000;
  for (;;) {
    pid_t reaped = ::waitpid(-pgid, nullptr, WNOHANG);
    if (reaped > 0 || (reaped < 0 && errno == EINTR)) continue;
    if (reaped < 0 || monotonic_ns() >= deadline_ns) return;  // ECHILD: none left
    sleep_ms(1);
  }
}

// The largest address space (VmSize) among `root` and its descendants now; 0 when unreadable.
std::uint64_t tree_address_space_bytes(pid_t root) {
  std::vector<pid_t> tree = list_descendants(root);
  tree.push_back(root);
  std::uint64_t largest = 0;
  for (pid_t pid : tree) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/statm", static_cast<int>(pid));
    UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    char text[256];
    ssize_t n = fd.get() < 0 ? -1 : ::read(fd.get(), text, sizeof text - 1);
    if (n <= 0) continue;
    if (auto pages = parse_statm(std::string_view(text, static_cast<std::size_t>(n)))) {
      largest =
          std::max<std::uint64_t>(largest, pages->size * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)));
    }
  }
  return largest;
}

// The last non-empty line of what was appended to `path` after `offset` (at most its last 4 KiB),
// quoted for a one-line message; empty when there is none.
std::string last_log_line(const std::string& path, std::uintmax_t offset) {
  if (path.empty()) return {};
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat info {};
  if (fd.get() < 0 || ::fstat(fd.get(), &info) != 0) return {};
  const auto size = static_cast<std::uintmax_t>(info.st_size);
  if (size <= offset) return {};
  const std::uintmax_t start = std::max(offset, size > 4096 ? size - 4096 : 0);
  std::string text(static_cast<std::size_t>(size - start), '\0');
  ssize_t n = ::pread(fd.get(), text.data(), text.size(), static_cast<off_t>(start));
  text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (text.empty()) return {};
  std::size_t newline = text.rfind('\n');
  return quote(newline == std::string::npos ? text : text.substr(newline + 1));
}

}  // namespace

namespace internal {

bool read_worker_answer(std::string_view line, RunOutcome& outcome) {
  if (line == "OK" || line.starts_with("OK ")) {
    std::string_view text = line.size() > 3 ? line.substr(3) : std::string_view();
    outcome.ok = true;
    outcome.digest = fnv1a64(text.data(), text.size());
    return true;
  }
  if (line == "ERR" || line.starts_with("ERR ")) {
    std::string_view text = line.size() > 4 ? line.substr(4, kErrTextChars) : std::string_view();
    outcome.failure = text.empty() ? "worker answered ERR without a reason" : one_line(std::string(text));
    return true;
  }
  return false;
}

}  // namespace internal

std::string WorkerExit::description() const {
  switch (stopped_by) {
    case StoppedBy::kNotStarted:
      return "not started";
    case StoppedBy::kStdinClosed:
      return describe_wait_status(wait_status);
    case StoppedBy::kSigterm:
      return describe_wait_status(wait_status) + " after SIGTERM";
    case StoppedBy::kSigkill:
      return describe_wait_status(wait_status) + " after SIGKILL";
  }
  return "unknown";
}

ExternalWorker::ExternalWorker(ExternalWorkerOptions options)
    : options_(std::move(options)), reader_(kMaxLineBytes) {
  if (options_.command.empty()) throw std::invalid_argument("ExternalWorker: empty command");
  if (options_.ready_timeout_ms < 1 || options_.run_timeout_ms < 1 || options_.stop_grace_ms < 0) {
    throw std::invalid_argument(
        "ExternalWorker: timeouts must be at least 1 ms, the grace period at least 0");
  }
}

ExternalWorker::~ExternalWorker() { stop(); }

void ExternalWorker::spawn() {
  PipePair stdin_pipe = make_raised_pipe();
  PipePair stdout_pipe = make_raised_pipe();
  UniqueFd log;
  if (!options_.stderr_log_path.empty()) {
    log.reset(::open(options_.stderr_log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (log.get() < 0) throw_errno(options_.stderr_log_path.c_str());
    raise_above_stdio(log);
    struct stat info {};
    log_size_at_spawn_ = ::fstat(log.get(), &info) == 0 ? static_cast<std::uintmax_t>(info.st_size) : 0;
  }
  if (!options_.tracker_library.empty()) tracker_ = std::make_unique<TrackerRegionOwner>();
  std::vector<std::string> env = worker_environment(
      options_.tracker_library, tracker_ ? tracker_->path() : "", options_.tracker_environment);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (std::string& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::string shell = "/bin/sh", dash_c = "-c";
  char* argv[] = {shell.data(), dash_c.data(), options_.command.data(), nullptr};
  if (options_.adopt_orphans) ::prctl(PR_SET_CHILD_SUBREAPER, 1);

  ChildPlan plan{stdin_pipe.read_end.get(),
                 stdout_pipe.write_end.get(),
                 log.get(),
                 ::getpid(),
                 options_.memory_limit_bytes,
                 argv,
                 envp.data()};
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) exec_child(plan);
  // Also here, not only in the child: whichever runs first, the group exists before any killpg.
  ::setpgid(pid, pid);
  pid_ = pid;
  stdin_fd_ = stdin_pipe.write_end.release();
  stdout_fd_ = stdout_pipe.read_end.release();
  // A worker that stops reading its stdin must not block memsoak's write.
  ::fcntl(stdin_fd_, F_SETFL, O_NONBLOCK);
}

WorkerStart ExternalWorker::start() {
  if (started_) throw std::logic_error("ExternalWorker::start called twice");
  started_ = true;
  std::int64_t t0_ns = monotonic_ns();
  spawn();
  WorkerStart result;
  LineReader::Status status =
      reader_.read_line(stdout_fd_, t0_ns + options_.ready_timeout_ms * 1'000'000, line_);
  if (status == LineReader::Status::kLine && line_ == "READY") {
    result.ok = true;
    result.setup_ns = monotonic_ns() - t0_ns;
    return result;
  }
  result.failure = with_memory_limit(describe_failed_read(status, "READY", options_.ready_timeout_ms));
  broken_ = true;
  stop();
  result.last_stderr_line = last_log_line(options_.stderr_log_path, log_size_at_spawn_);
  return result;
}

std::string ExternalWorker::describe_end_of_output() {
  siginfo_t info;
  if (wait_for_exit(pid_, kExitAfterEofWaitMs, info)) return "worker " + describe_siginfo(info);
  return "worker is still running";
}

// Why a read did not give the line that was `due` ("READY", "the answer to RUN 3").
std::string ExternalWorker::describe_failed_read(LineReader::Status status, std::string_view due,
                                                 std::int64_t timeout_ms) {
  std::string partial;
  if (!reader_.pending().empty()) partial = ", after " + quote(reader_.pending()) + " without a newline";
  switch (status) {
    case LineReader::Status::kLine:
      return "worker wrote " + quote(line_) + " instead of " + std::string(due);
    case LineReader::Status::kEndOfFile:
      return "output ended before " + std::string(due) + partial + ": " + describe_end_of_output();
    case LineReader::Status::kTimeout:
      return "waited " + std::to_string(timeout_ms) + " ms for " + std::string(due) + " in vain" + partial;
    case LineReader::Status::kTooLong:
      return "worker wrote over 1 MiB without a newline instead of " + std::string(due);
    case LineReader::Status::kReadError:
      return std::string("reading the worker's stdout failed: ") + std::strerror(reader_.error_number());
  }
  return "unknown read status";
}

// Empty when nothing arrived since the last answer; else why the worker broke the protocol.
std::string ExternalWorker::check_quiet_before(std::uint64_t run_index) {
  LineReader::Status status = reader_.read_line(stdout_fd_, monotonic_ns(), line_);
  std::string run = "RUN " + std::to_string(run_index);
  if (status == LineReader::Status::kTimeout && reader_.pending().empty()) return {};
  if (status == LineReader::Status::kTimeout)
    return "worker wrote " + quote(reader_.pending()) + " before " + run;
  if (status == LineReader::Status::kLine) return "worker wrote " + quote(line_) + " before " + run;
  return describe_failed_read(status, run, 0);
}

bool ExternalWorker::write_run_line(std::uint64_t run_index, std::string& reason) {
  std::string text = "RUN " + std::to_string(run_index) + "\n";
  SigpipeBlocked sigpipe_blocked;
  // Shorter than PIPE_BUF: written whole or not at all.
  ssize_t written = ::write(stdin_fd_, text.data(), text.size());
  int error = errno;
  if (written == static_cast<ssize_t>(text.size())) return true;
  if (written < 0 && error == EPIPE) {
    sigpipe_blocked.discard();
    reason =
        "worker closed its stdin before RUN " + std::to_string(run_index) + ": " + describe_end_of_output();
  } else if (written < 0 && error == EAGAIN) {
    reason = "worker's stdin is full: it does not read its RUN lines";
  } else {
    reason = std::string("writing RUN to the worker failed: ") + std::strerror(error);
  }
  return false;
}

RunOutcome ExternalWorker::fail(RunOutcome outcome, std::string reason) {
  broken_ = true;
  outcome.ok = false;
  outcome.worker = sample_tree();
  outcome.failure = with_memory_limit(std::move(reason));
  return outcome;
}

std::string ExternalWorker::with_memory_limit(std::string reason) const {
  return explain_memory_limit(std::move(reason), options_.memory_limit_bytes, address_space_peak_bytes_);
}

ProcessSample ExternalWorker::sample_tree() {
  ProcessSample sample = sample_process_tree(pid_);
  if (options_.memory_limit_bytes > 0)
    address_space_peak_bytes_ = std::max(address_space_peak_bytes_, tree_address_space_bytes(pid_));
  if (!tracker_) return sample;
  tracker_reading_ = tracker_->read(pid_);
  if (tracker_reading_->complete()) {
    sample.heap_live_bytes = tracker_reading_->heap_bytes + tracker_reading_->mmap_bytes;
    sample.heap_live_blocks = tracker_reading_->heap_blocks + tracker_reading_->mmap_count;
  }
  return sample;
}

RunOutcome ExternalWorker::run(std::uint64_t run_index) {
  if (!started_ || broken_ || pid_ == 0)
    throw std::logic_error("ExternalWorker::run on a worker that is not ready");
  RunOutcome outcome;
  if (std::string reason = check_quiet_before(run_index); !reason.empty()) return fail(outcome, reason);
  std::int64_t t0_ns = monotonic_ns();
  if (std::string reason; !write_run_line(run_index, reason)) return fail(outcome, reason);
  LineReader::Status status =
      reader_.read_line(stdout_fd_, t0_ns + options_.run_timeout_ms * 1'000'000, line_);
  outcome.latency_ns = monotonic_ns() - t0_ns;
  if (status != LineReader::Status::kLine || !internal::read_worker_answer(line_, outcome)) {
    std::string due = "the answer to RUN " + std::to_string(run_index);
    return fail(outcome, describe_failed_read(status, due, options_.run_timeout_ms));
  }
  if (tracker_) tracker_->note_run_answered(run_index);
  outcome.worker = sample_tree();
  if (!outcome.ok) outcome.failure = with_memory_limit(std::move(outcome.failure));
  return outcome;
}

WorkerExit ExternalWorker::stop() noexcept {
  if (pid_ == 0) return last_exit_;
  // A worker sampling stacks writes its epochs a moment after each answer: let it finish the last.
  if (tracker_ && !broken_ && tracker_->has_stack_writers()) tracker_->await_runs_seen(500);
  WorkerExit exit;
  exit.stopped_by = WorkerExit::StoppedBy::kStdinClosed;
  close_fd(stdin_fd_);
  siginfo_t info;
  if (!wait_for_exit(pid_, options_.stop_grace_ms, info)) {
    ::kill(-pid_, SIGTERM);
    exit.stopped_by = WorkerExit::StoppedBy::kSigterm;
    if (!wait_for_exit(pid_, options_.stop_grace_ms, info)) {
      ::kill(-pid_, SIGKILL);
      exit.stopped_by = WorkerExit::StoppedBy::kSigkill;
      wait_for_exit(pid_, -1, info);
    }
  }
  // The shell has exited but is not reaped yet, so its pid still names the group and this cannot
  // reach an unrelated process: end whatever of the tree outlived it (they would be orphans).
  ::kill(-pid_, SIGKILL);
  rusage usage{};
  int status = 0;
  if (wait4_retrying(pid_, &status, 0, &usage) == pid_) {
    exit.wait_status = status;
    exit.peak_rss_bytes = peak_rss_bytes(usage);
  }
  reap_group(pid_);
  close_fd(stdout_fd_);
  reader_.clear();
  tracker_.reset();
  pid_ = 0;
  last_exit_ = exit;
  return last_exit_;
}

}  // namespace memsoak::harness
