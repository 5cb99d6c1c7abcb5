// The harness's side of stack sampling (see stack_sampling.h): weak references to the tracker.
#include "harness/stack_sampling.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

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

namespace {

// This process's shared state for its workers (created once, kept open for the process's life),
// as the path a worker opens; empty when it cannot be created (workers then choose alone).
std::string shared_state_path() {
  static const std::string path = [] {
    int fd = memfd_create("memsoak-stack-state", MFD_CLOEXEC);
    if (fd < 0) return std::string();
    if (ftruncate(fd, sizeof(MemsoakStackState)) != 0) {
      ::close(fd);
      return std::string();
    }
    return fmt::format("/proc/{}/fd/{}", ::getpid(), fd);
  }();
  return path;
}

}  // namespace

std::vector<std::string> worker_stack_environment(const SoakConfig& config,
                                                  const std::filesystem::path& run_dir,
                                                  std::uint32_t entry_index) {
  MemsoakStackPlan plan{};
  if (!stack_plan_for(config, plan)) return {};
  std::vector<std::string> env = {
      fmt::format("MEMSOAK_STACK_PLAN={},{},{},{},{},{}", plan.mean_bytes, plan.automatic, plan.depth,
                  plan.epoch_runs, plan.warmup, plan.iterations),
      fmt::format("MEMSOAK_ARTIFACTS={}:{}", entry_index, run_dir.string())};
  if (std::string state = shared_state_path(); !state.empty()) env.push_back("MEMSOAK_STACK_STATE=" + state);
  return env;
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
