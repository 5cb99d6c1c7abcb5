// The concrete strategies behind make_strategy(); private to the harness.
#pragma once

#include <memory>
#include <optional>

#include "harness/sampler.h"
#include "harness/strategy.h"

namespace memsoak::harness::internal {

// Every run in this process; the workload's state persists from run to run.
class InProcessStrategy final : public Strategy {
 public:
  explicit InProcessStrategy(WorkloadFactory factory) : factory_(std::move(factory)) {}
  void start() override;
  RunOutcome run(std::uint64_t run_index) override;
  void stop() noexcept override;

 private:
  WorkloadFactory factory_;
  std::unique_ptr<Workload> workload_;
  std::optional<ProcessSampler> sampler_;
  std::int64_t setup_ns_ = kNotMeasured;
};

// A child forked from memsoak per run: it sets the workload up, runs once, sends its result and
// final sample through a pipe and exits; the parent reaps it with wait4 for its peak RSS.
class ForkPerRunStrategy final : public Strategy {
 public:
  explicit ForkPerRunStrategy(WorkloadFactory factory) : factory_(std::move(factory)) {}
  void start() override {}
  RunOutcome run(std::uint64_t run_index) override;
  void stop() noexcept override {}

 private:
  [[noreturn]] void run_child(int result_fd, std::uint64_t run_index) noexcept;
  WorkloadFactory factory_;
};

}  // namespace memsoak::harness::internal
