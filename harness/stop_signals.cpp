// The stop-signal self-pipe (see stop_signals.h).
#include "harness/stop_signals.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace memsoak::harness {
namespace {

int g_signal_pipe[2] = {-1, -1};

void on_stop_signal(int sig) {
  const int saved = errno;
  auto byte = static_cast<unsigned char>(sig);
  static_cast<void>(::write(g_signal_pipe[1], &byte, 1));
  errno = saved;
}

}  // namespace

void StopSignals::install() {
  if (g_signal_pipe[0] < 0 && ::pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  // SIGHUP too: a closed terminal or ssh session stops the soak as SIGTERM does, report written.
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &action, nullptr);
}

int StopSignals::fd() noexcept { return g_signal_pipe[0]; }

int StopSignals::take() noexcept {
  unsigned char byte = 0;
  if (g_signal_pipe[0] < 0 || ::read(g_signal_pipe[0], &byte, 1) != 1) return 0;
  return byte;
}

void StopSignals::become_entry_process() noexcept {
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGHUP, SIG_DFL);
  ::signal(SIGPIPE, SIG_IGN);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
}

}  // namespace memsoak::harness
