// Allocation stacks in an external worker (the preload library only): the worker's tracker gets
// its plan and artifact folder from the environment memsoak gives it (MEMSOAK_STACK_PLAN,
// MEMSOAK_ARTIFACTS; harness/stack_sampling.h), and a thread of its own turns memsoak's note of
// each answered run (the shared region's runs_answered, harness/tracker_shm.h) into the run
// boundaries the sampler writes its epochs at (tracker/stack_epochs.cpp). The worker's code is not
// involved; an epoch follows memsoak's answer by a few milliseconds, so it may include some of the
// next run's memory in flight (noise, not growth).
//
// Every process of the worker's tree that loads the library starts the thread, but a process
// starts sampling only once it has lived through an answer: the worker's own setup before its
// first answer is neither sampled nor counted as warm-up growth, and a short-lived helper the
// worker runs (a shell, `system()`) never maps the sampler's tables or loads libunwind. The
// analysis adds up the epochs of the tree's processes. A forked child of a process stops
// sampling (it has no thread; and a lock another thread held at the fork must not be taken).
// Nothing is written at exit (by then the worker's teardown has freed what it held); memsoak
// instead waits for the acknowledgement of the last answer (runs_seen) before it stops a worker.
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "harness/artifacts.h"
#include "harness/stack_sampling.h"
#include "harness/tracker/internal/stacks.h"
#include "harness/tracker_shm.h"

extern "C" int memsoak_stacks_configure(const MemsoakStackPlan* plan) noexcept;
extern "C" void memsoak_stacks_run_begin(std::uint64_t run_index, int one_run) noexcept;
extern "C" void memsoak_stacks_run_end(std::uint64_t run_index) noexcept;

namespace memsoak::harness::internal {
namespace {

TrackerRegion* g_stack_region = nullptr;
MemsoakStackPlan g_plan{};
std::uint32_t g_entry = 0;
char g_run_dir[4096];
bool g_sampling = false;
std::uint64_t g_seen = 0;  // runs_answered already turned into boundaries

bool start_sampling() noexcept {
  try {
    set_artifact_directory(g_run_dir, g_entry);
  } catch (const std::exception&) {
    return false;
  }
  return memsoak_stacks_configure(&g_plan) == 0;
}

// The runs answered since the last call: ends each (the last one's index is known; earlier ones
// in the same batch are numbered back from it) and begins the next. The first answer this process
// sees only starts sampling and begins the next run.
void catch_up() noexcept {
  const std::uint64_t answered = g_stack_region->runs_answered.load(std::memory_order_acquire);
  if (answered == g_seen) return;
  const std::uint64_t last = g_stack_region->last_run_plus_one.load(std::memory_order_relaxed) - 1;
  if (!g_sampling) {
    g_seen = answered;
    if (!start_sampling()) return;
    g_sampling = true;
    g_stack_region->stack_writers.fetch_add(1, std::memory_order_release);
    memsoak_stacks_run_begin(last + 1, 0);
  } else {
    for (std::uint64_t k = g_seen; k < answered; ++k) {
      const std::uint64_t back = answered - 1 - k;
      const std::uint64_t index = last >= back ? last - back : 0;
      memsoak_stacks_run_end(index);
      memsoak_stacks_run_begin(index + 1, 0);
    }
    g_seen = answered;
  }
  std::uint64_t seen = g_stack_region->runs_seen.load(std::memory_order_relaxed);
  while (seen < answered &&
         !g_stack_region->runs_seen.compare_exchange_weak(seen, answered, std::memory_order_release)) {
  }
}

void* watch_runs(void*) noexcept {
  for (;;) {
    timespec pause{0, 2'000'000};
    nanosleep(&pause, nullptr);
    catch_up();
  }
  return nullptr;
}

void stop_sampling_in_child() noexcept { stacks::set_sampling(false, stacks::sampling_mean(), g_plan.depth); }

bool parse_plan(const char* text, MemsoakStackPlan& plan) noexcept {
  unsigned long long v[6];
  int used = 0;
  if (std::sscanf(text, "%llu,%llu,%llu,%llu,%llu,%llu%n", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &used) !=
          6 ||
      text[used] != '\0' || v[2] < 1 || v[2] > 64 || v[5] == 0)
    return false;
  plan = {v[0], static_cast<std::uint32_t>(v[1] != 0), static_cast<std::uint32_t>(v[2]), v[3], v[4], v[5]};
  return true;
}

}  // namespace

void start_worker_stacks(TrackerRegion* region) noexcept {
  const char* plan_text = std::getenv("MEMSOAK_STACK_PLAN");
  const char* artifacts = std::getenv("MEMSOAK_ARTIFACTS");
  if (region == nullptr || plan_text == nullptr || artifacts == nullptr || !parse_plan(plan_text, g_plan))
    return;
  char* rest = nullptr;
  const unsigned long entry = std::strtoul(artifacts, &rest, 10);
  if (rest == artifacts || *rest != ':' || rest[1] != '/' || entry > 0xffffffffUL ||
      std::strlen(rest + 1) >= sizeof g_run_dir)
    return;
  std::strcpy(g_run_dir, rest + 1);
  g_entry = static_cast<std::uint32_t>(entry);
  g_stack_region = region;
  g_seen = region->runs_answered.load(std::memory_order_acquire);
  pthread_atfork(nullptr, nullptr, stop_sampling_in_child);
  // The thread takes no signals: the worker's handlers and masks stay the worker's business.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  pthread_t thread;
  if (pthread_create(&thread, nullptr, watch_runs, nullptr) == 0) pthread_detach(thread);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

}  // namespace memsoak::harness::internal
