// The harness's side of stack sampling (see stack_sampling.h): weak references to the tracker.
#include "harness/stack_sampling.h"

extern "C" int memsoak_stacks_configure(const MemsoakStackPlan* plan) noexcept __attribute__((weak));
extern "C" void memsoak_stacks_run_begin(std::uint64_t run_index, int one_run) noexcept __attribute__((weak));
extern "C" void memsoak_stacks_run_end(std::uint64_t run_index) noexcept __attribute__((weak));

namespace memsoak::harness {

bool stack_plan_for(const SoakConfig& config, MemsoakStackPlan& plan) {
  if (!config.stacks.enabled) return false;
  plan.automatic = config.stacks.sample_bytes ? 0 : 1;
  plan.mean_bytes = config.stacks.sample_bytes.value_or(kMaxStackSampleBytes);
  plan.depth = config.stacks.depth;
  plan.epoch_runs = config.iterations / kEpochsPerSoak > 0 ? config.iterations / kEpochsPerSoak : 1;
  plan.warmup = config.warmup;
  plan.iterations = config.iterations;
  return true;
}

bool stack_sampling_available() noexcept { return &memsoak_stacks_configure != nullptr; }

void start_stack_sampling(const SoakConfig& config) {
  MemsoakStackPlan plan{};
  if (!stack_sampling_available() || !stack_plan_for(config, plan)) return;
  memsoak_stacks_configure(&plan);
}

void stack_run_begin(std::uint64_t run_index, bool one_run) noexcept {
  if (&memsoak_stacks_run_begin != nullptr) memsoak_stacks_run_begin(run_index, one_run ? 1 : 0);
}

void stack_run_end(std::uint64_t run_index) noexcept {
  if (&memsoak_stacks_run_end != nullptr) memsoak_stacks_run_end(run_index);
}

}  // namespace memsoak::harness
