// The fixture of the hardening tests (hardening_cli_test.cpp, orphans_cli_test.cpp): memsoak run
// in the foreground or the background, and the processes of a soak found by their command line.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/tools/run_memsoak.h"

namespace memsoak::testing {

using namespace std::chrono_literals;

// Process ids whose command line contains `marker`.
inline std::vector<pid_t> processes_with(const std::string& marker) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = read_text(entry.path() / "cmdline");
    for (char& c : cmdline) c = c == '\0' ? ' ' : c;
    if (cmdline.find(marker) != std::string::npos) found.push_back(std::stoi(name));
  }
  return found;
}

// Waits up to `timeout` for no process to carry `marker`; kills any left so that one failure does
// not leak into the next test.
inline bool none_left(const std::string& marker, std::chrono::milliseconds timeout = 6s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (processes_with(marker).empty()) return true;
    std::this_thread::sleep_for(50ms);
  }
  for (pid_t pid : processes_with(marker)) ::kill(pid, SIGKILL);
  return false;
}

class Hardening : public MemsoakTest {
 protected:
  std::string example_worker(const std::string& flags) const {
    return "exec " + shell_quote(MEMSOAK_EXAMPLE_WORKER) + " " + flags;
  }

  // Starts `memsoak ARGS` in the background (output to files in the scratch directory).
  pid_t start_memsoak(const std::vector<std::string>& args) const {
    pid_t pid = ::fork();
    if (pid == 0) {
      if (::chdir(work_.c_str()) != 0) ::_exit(127);
      std::freopen(".bg-stdout", "w", stdout);
      std::freopen(".bg-stderr", "w", stderr);
      std::vector<char*> argv{const_cast<char*>(MEMSOAK_BINARY)};
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(MEMSOAK_BINARY, argv.data());
      ::_exit(127);
    }
    return pid;
  }

  static int wait_exit_code(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
  }

  // Waits until `file` in the scratch directory has at least `lines` lines.
  bool wait_for_lines(const std::string& file, std::size_t lines,
                      std::chrono::milliseconds timeout = 20s) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string text = read_text(work_ / file);
      if (static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) >= lines) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
};

}  // namespace memsoak::testing
