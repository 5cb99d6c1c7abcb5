// The soak keeper: a small process that outlives memsoak to leave nothing behind, and keeps
// run.log within a stated size while the soak runs.
//
// Orphans. Every process memsoak starts with exec (external workers, spawned runs, heaptrack)
// inherits MEMSOAK_SOAK_TOKEN=<a token unique to this soak> in its environment, and so does
// whatever those start in turn: a helper a worker forks, a daemon that called setsid, a process
// that ignores SIGTERM. A process-group kill or PR_SET_PDEATHSIG reaches none of those once their
// parent is gone. The keeper is forked twice at the start (so it is nobody's child in the soak), in
// a session of its own (a terminal's SIGINT or SIGHUP does not reach it), and waits on a pipe that
// only memsoak's processes hold. When the pipe closes (memsoak finished, failed, or was killed with
// SIGKILL), it sends SIGKILL to every process whose environment carries the token, again until a
// scan finds none, then exits. Limits: a process that clears its environment before exec (env -i)
// no longer carries the token; native forked children never exec and die with their parent
// (PR_SET_PDEATHSIG) instead.
//
// run.log. Workers write their stderr straight into run.log (O_APPEND), so a worker that writes in
// a loop could fill the disk. Every 200 ms, and once more at the end, the keeper checks its size:
// past kRunLogCapBytes it keeps the first kRunLogHeadBytes and the last kRunLogTailBytes (both cut at
// line ends) with one line between them saying how many bytes were dropped. Lines written in the
// instant of a cut (between its read of the tail and its truncate) are lost and not counted.
#pragma once

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
  // Sets MEMSOAK_SOAK_TOKEN in this process's environment and starts the keeper for `run_log`
  // (which need not exist yet). Best effort: when the pipe or the fork fails, there is no keeper.
  explicit SoakKeeper(const std::filesystem::path& run_log);
  ~SoakKeeper();  // finish()
  SoakKeeper(const SoakKeeper&) = delete;
  SoakKeeper& operator=(const SoakKeeper&) = delete;

  // Closes the pipe and waits (at most 15 s) for the keeper's last cut and sweep: afterwards no
  // process of the soak remains and run.log is within its cap.
  void finish() noexcept;

  // Sends SIGKILL to every process except the caller whose environment has `variable`=`token`,
  // again until a scan finds none (at most `max_rounds` scans 10 ms apart); returns how many.
  static int sweep(const std::string& variable, const std::string& token, int max_rounds) noexcept;
  // Cuts the file open on `fd` to its head and tail when it is larger than `cap` (see above);
  // returns the bytes dropped by this call.
  static std::uint64_t cap_log(int fd, std::uint64_t cap, std::uint64_t head, std::uint64_t tail) noexcept;

 private:
  std::string token_;
  int control_fd_ = -1;
  int done_fd_ = -1;
};

}  // namespace memsoak::harness
