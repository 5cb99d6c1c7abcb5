// The soak keeper: a small process that outlives memsoak to leave nothing behind, and keeps
// run.log within a stated size while the soak runs.
//
// Orphans. `memsoak run` first executes itself again (same pid, same arguments) with two variables
// added to its environment: MEMSOAK_SOAK_TOKEN=<a token unique to this soak>, for workers to read,
// and MEMSOAK_SOAK_<token>=1, by which the keeper finds the soak's processes. /proc/PID/environ
// shows the environment a process was executed with, and a fork shares its parent's, so every
// process of the soak shows the variable: the processes memsoak forks, whatever a plugin forks and
// never executes, every process memsoak executes, and whatever those start in turn (a helper a
// worker forks, a daemon that called setsid, a process that ignores SIGTERM). A process-group kill
// or PR_SET_PDEATHSIG reaches none of those once their parent is gone. A memsoak run inside
// another soak's worker adds its own variable and keeps the outer one, so both keepers find it.
//
// The keeper is forked twice at the start (so it is nobody's child in the soak), in a session of
// its own (a terminal's SIGINT or SIGHUP does not reach it). It waits for memsoak's main process to
// end (a pidfd) or to say that the soak is over (a byte on a pipe): a pipe's end-of-file alone
// would never come while a plugin's forked child holds a copy of it. Then it sends SIGKILL to
// every process but memsoak's main process whose environment carries the variable, again until a
// scan finds none, and exits. Where pidfd_open fails (Linux before 5.3, a seccomp filter), it
// looks for memsoak's end every 200 ms instead. Limits: a process that clears its environment
// before exec (env -i) no longer carries the variable; under valgrind or heaptrack, which would
// not follow the re-execution, memsoak does not execute itself again, and its forks carry none.
//
// run.log. Workers write their stderr straight into run.log (O_APPEND), so a worker that writes in
// a loop could fill the disk. Every 200 ms, and once more at the end, the keeper checks its size:
// past kRunLogCapBytes it keeps the first kRunLogHeadBytes and the last kRunLogTailBytes (both cut at
// line ends) with one line between them saying how many bytes were dropped. Lines written in the
// instant of a cut (between its read of the tail and its truncate) are lost and not counted.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace memsoak::harness {

inline constexpr const char* kSoakTokenVariable = "MEMSOAK_SOAK_TOKEN";
inline constexpr std::uint64_t kRunLogCapBytes = std::uint64_t{16} << 20;
inline constexpr std::uint64_t kRunLogHeadBytes = std::uint64_t{8} << 20;
inline constexpr std::uint64_t kRunLogTailBytes = std::uint64_t{4} << 20;

class SoakKeeper {
 public:
  // Called first by `memsoak run`, before it does anything: executes this program again (from
  // /proc/self/exe, with the arguments in /proc/self/cmdline) with the soak's variables added, and
  // returns in the executed program, which finds them. Best effort: when the exec fails, it returns
  // with the variables set for the processes memsoak executes only.
  static void enter_soak() noexcept;

  // Starts the keeper for `run_log` (which need not exist yet), with the token enter_soak() set
  // (or a new one, set now). Best effort: when the pipe or the fork fails, there is no keeper.
  explicit SoakKeeper(const std::filesystem::path& run_log);
  ~SoakKeeper();  // finish()
  SoakKeeper(const SoakKeeper&) = delete;
  SoakKeeper& operator=(const SoakKeeper&) = delete;

  // Closes the pipe and waits (at most 15 s) for the keeper's last cut and sweep: afterwards no
  // process of the soak remains and run.log is within its cap.
  void finish() noexcept;

  // Sends SIGKILL to every process except the caller and `spared` whose environment has the
  // entry `entry` ("NAME=VALUE"), again until a scan finds none (at most `max_rounds` scans 10 ms
  // apart); returns how many.
  static int sweep(const std::string& entry, pid_t spared, int max_rounds) noexcept;
  // Cuts the file open on `fd` to its head and tail when it is larger than `cap` (see above);
  // returns the bytes dropped by this call.
  static std::uint64_t cap_log(int fd, std::uint64_t cap, std::uint64_t head, std::uint64_t tail) noexcept;

 private:
  std::string token_;
  int control_fd_ = -1;
  int done_fd_ = -1;
};

}  // namespace memsoak::harness
