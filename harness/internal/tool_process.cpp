// Running an outside tool as a process group of its own (see tool_process.h).
#include "harness/internal/tool_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "harness/internal/clock.h"
#include "harness/posix.h"
#include "harness/stop_signals.h"

extern char** environ;

namespace memsoak::harness::internal {
namespace {

constexpr const char* kNoGuiPlatform = "QT_QPA_PLATFORM=memsoak-no-gui";
constexpr std::int64_t kStopGraceNs = 5'000'000'000;

// Runs between fork and exec: no allocation, no exceptions.
[[noreturn]] void exec_child(const char* path, char* const* argv, char* const* envp, const char* cwd,
                             int stdin_fd, int log_fd) noexcept {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  for (int sig : {SIGINT, SIGTERM, SIGPIPE}) ::signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (::dup2(stdin_fd, 0) < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0 || ::chdir(cwd) != 0)
    ::_exit(127);
  ::execve(path, argv, envp);
  ::_exit(127);
}

}  // namespace

ToolResult run_tool(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                    const std::filesystem::path& log, std::int64_t limit_ms) {
  ToolResult result;
  result.limit_ms = limit_ms;
  // Everything the child needs is prepared before the fork.
  std::vector<char*> args;
  for (const std::string& word : argv) args.push_back(const_cast<char*>(word.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "QT_QPA_PLATFORM=", 16) != 0) env.push_back(*e);
  }
  env.push_back(const_cast<char*>(kNoGuiPlatform));
  env.push_back(nullptr);
  UniqueFd log_fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!log_fd.valid()) throw std::system_error(errno, std::generic_category(), log.string());
  UniqueFd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null_fd.valid()) throw std::system_error(errno, std::generic_category(), "/dev/null");

  const std::int64_t start = monotonic_ns();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) exec_child(args[0], args.data(), env.data(), cwd.c_str(), null_fd.get(), log_fd.get());
  result.pid = pid;
  ::setpgid(pid, pid);  // also here, so that the group exists before either side goes on

  const std::int64_t deadline = limit_ms > 0 ? start + limit_ms * 1'000'000 : 0;
  std::int64_t kill_at = 0;  // after a stop signal: when SIGTERM gave way to SIGKILL
  siginfo_t info{};
  while (true) {
    info.si_pid = 0;
    // WNOWAIT: the leader stays a zombie, so its group id cannot be reused while we kill the group.
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid)
      break;
    pollfd fd{StopSignals::fd(), POLLIN, 0};
    ::poll(&fd, fd.fd >= 0 ? 1 : 0, 50);
    const std::int64_t now = monotonic_ns();
    if (fd.fd >= 0 && (fd.revents & POLLIN) && result.stop_signal == 0) {
      if (int sig = StopSignals::take(); sig != 0) {
        result.stop_signal = sig;
        ::kill(-pid, SIGTERM);
        kill_at = now + kStopGraceNs;
      }
    }
    if (deadline != 0 && now > deadline && !result.timed_out) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);
    }
    if (kill_at != 0 && now > kill_at) ::kill(-pid, SIGKILL);
  }
  result.elapsed_ns = monotonic_ns() - start;
  ::kill(-pid, SIGKILL);  // whatever of its group is left (none when it ended normally)
  int status = 0;
  wait4_retrying(pid, &status, 0, nullptr);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  // Members of the group that the main process adopted as a child subreaper.
  while (::waitpid(-pid, &status, 0) > 0 || errno == EINTR) {
  }
  return result;
}

}  // namespace memsoak::harness::internal
