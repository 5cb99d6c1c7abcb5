// The concrete strategies behind make_strategy(); private to the harness.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>

#include "harness/external_worker.h"
#include "harness/sampler.h"
#include "harness/splitmix64.h"
#include "harness/strategy.h"

namespace memsoak::harness::internal {

// Every run in this process (the strategy's own); the workload's state persists from run to run.
class InProcessStrategy final : public Strategy {
 public:
  InProcessStrategy(StrategySpec spec, StrategyContext context)
      : spec_(std::move(spec)), context_(std::move(context)) {}
  void start() override;
  RunOutcome run(std::uint64_t run_index) override;
  void stop() noexcept override;

 private:
  StrategySpec spec_;
  StrategyContext context_;
  std::unique_ptr<Workload> workload_;
  std::optional<ProcessSampler> sampler_;
  std::int64_t setup_ns_ = kNotMeasured;
};

// A child forked from the strategy's process per run: it sets the workload up, runs once, sends
// its result and final sample through a pipe and exits; the parent reaps it with wait4.
class ForkPerRunStrategy final : public Strategy {
 public:
  explicit ForkPerRunStrategy(StrategyContext context) : context_(std::move(context)) {}
  void start() override {}
  RunOutcome run(std::uint64_t run_index) override;
  void stop() noexcept override {}

 private:
  StrategyContext context_;
};

// A long-lived process of the strategy's, forked once, that serves requests over two pipes: the
// template of zygote and the worker of recycle.
class ServerProcess {
 public:
  // Forks; the child runs `body(command_fd, reply_fd)` and exits. Throws std::system_error.
  void start(const StrategyContext& context, const std::function<void(int, int)>& body);
  bool running() const noexcept { return pid_ > 0; }
  pid_t pid() const noexcept { return pid_; }
  int reply_fd() const noexcept { return reply_fd_; }
  bool send(std::uint64_t value) noexcept;
  // Closes the command pipe (the server's cue to exit), optionally kills, then reaps.
  // Returns the exit status; `peak_rss_bytes` gets its wait4 peak.
  int finish(bool kill_first, std::int64_t& peak_rss_bytes) noexcept;
  ~ServerProcess();

 private:
  pid_t pid_ = -1;
  int command_fd_ = -1;
  int reply_fd_ = -1;
};

// A template process sets the workload up once (no runs, so no threads a run would start); each
// run is a child forked from it that runs once and exits.
class ZygoteStrategy final : public Strategy {
 public:
  explicit ZygoteStrategy(StrategyContext context) : context_(std::move(context)) {}
  void start() override;
  RunOutcome run(std::uint64_t run_index) override;
  void stop() noexcept override;

 private:
  StrategyContext context_;
  ServerProcess zygote_;
  std::int64_t setup_ns_ = kNotMeasured;
};

// When a long-lived worker is replaced: after a number of runs (recycle:N~J draws N + 0..J per
// worker from a seeded generator; fork of an external worker: 1; in-process: never) or once its
// RSS passes recycle-rss:SIZE. Shared by native and external recycling.
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

// A long-lived worker that serves runs and is replaced after N runs (+ seeded jitter 0..J) or
// once its RSS after a run passes a limit.
class RecycleStrategy final : public Strategy {
 public:
  RecycleStrategy(StrategySpec spec, StrategyContext context)
      : context_(std::move(context)), lifetime_(spec, context_.seed) {}
  void start() override {}
  RunOutcome run(std::uint64_t run_index) override;
  void stop() noexcept override;

 private:
  RunOutcome run_unchecked(std::uint64_t run_index);
  bool start_worker(RunOutcome& outcome);
  StrategyContext context_;
  WorkerLifetime lifetime_;
  ServerProcess worker_;
};

// A fresh executable per run (posix_spawn of context.spawn_argv): nothing is inherited at all.
class SpawnStrategy final : public Strategy {
 public:
  explicit SpawnStrategy(StrategyContext context) : context_(std::move(context)) {}
  void start() override;
  RunOutcome run(std::uint64_t run_index) override;
  void stop() noexcept override {}

 private:
  StrategyContext context_;
};

// --exec workers: `in-process` keeps one worker for all runs, `fork` starts a fresh one per run,
// `recycle:N[~J]` and `recycle-rss:SIZE` replace it as for native workloads. A worker that breaks
// the protocol, crashes or hangs is replaced before the next run.
class ExternalWorkerStrategy final : public Strategy {
 public:
  ExternalWorkerStrategy(StrategySpec spec, StrategyContext context);
  ~ExternalWorkerStrategy() override;
  void start() override {}
  RunOutcome run(std::uint64_t run_index) override;
  void stop() noexcept override;

 private:
  RunOutcome run_unchecked(std::uint64_t run_index);
  StrategyContext context_;
  WorkerLifetime lifetime_;
  std::unique_ptr<ExternalWorker> worker_;
};

// True when run `run_index` samples smaps (PSS/USS).
inline bool smaps_run(const StrategyContext& context, std::uint64_t run_index) {
  return context.smaps_every_runs > 0 && run_index % context.smaps_every_runs == 0;
}

// PSS of a process, or 0 when it can't be read (the process is gone).
std::int64_t pss_of(pid_t pid) noexcept;

}  // namespace memsoak::harness::internal
