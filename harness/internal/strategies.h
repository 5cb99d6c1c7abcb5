// Parts shared by the strategies (each strategy's class lives in its own file); private to the harness.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>

#include "harness/posix.h"
#include "harness/sampler.h"
#include "harness/splitmix64.h"
#include "harness/strategy.h"

namespace memsoak::harness::internal {

// A long-lived process of the strategy's, forked once, that serves requests over two pipes: the
// template of zygote and the worker of recycle.
class ServerProcess {
 public:
  // Forks; the child runs `body(command_fd, reply_fd)` and exits. Throws std::system_error, or
  // std::logic_error when the server is already running.
  void start(const StrategyContext& context, const std::function<void(int, int)>& body);
  bool running() const noexcept { return pid_ > 0; }
  pid_t pid() const noexcept { return pid_; }
  int reply_fd() const noexcept { return reply_.get(); }
  bool send(std::uint64_t value) noexcept;
  // Closes the command pipe (the server's cue to exit), optionally kills, then reaps.
  // Returns the exit status; `peak_rss_bytes` gets its wait4 peak.
  int finish(bool kill_first, std::int64_t& peak_rss_bytes) noexcept;
  ~ServerProcess();

 private:
  pid_t pid_ = -1;
  UniqueFd command_;
  UniqueFd reply_;
};

// When a long-lived worker is replaced: after spec.runs_per_worker runs (recycle:N~J draws
// N + 0..J per worker from a seeded generator; fork of an external worker: 1; in-process: never)
// or once its RSS passes recycle-rss:SIZE. Shared by native and external recycling.
class WorkerLifetime {
 public:
  WorkerLifetime(const StrategySpec& spec, std::uint64_t seed);
  // A new worker starts: returns its id (1, 2, ...) and draws its run limit.
  std::uint64_t begin_worker();
  // Counts a run of the current worker; true when the worker should now be replaced.
  bool end_run(const RunOutcome& outcome);
  std::uint64_t worker_id() const noexcept { return generation_; }

 private:
  StrategySpec spec_;
  SplitMix64 jitter_;
  std::uint64_t generation_ = 0;
  std::uint64_t runs_ = 0;
  std::uint64_t limit_ = 0;  // 0: no run limit
};

// True when run `run_index` samples smaps (PSS/USS).
inline bool smaps_run(const StrategyContext& context, std::uint64_t run_index) {
  return context.smaps_every_runs > 0 && run_index % context.smaps_every_runs == 0;
}

// PSS of a process, or 0 when it can't be read (the process is gone).
std::int64_t pss_of(pid_t pid) noexcept;

}  // namespace memsoak::harness::internal
