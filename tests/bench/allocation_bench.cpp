// Allocation-heavy work, built twice (with and without memsoak's counting allocator) so that
// tools/bench_tracker.sh can print the counters' cost as a ratio. Budget: counters only ≤ 1.03×.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "harness/stack_sampling.h"
#include "scenarios/synthetic.h"

namespace {

// The synthetic workload's realistic mix (hundreds of small strings, a few buffers, one large block).
void BM_SyntheticRun(benchmark::State& state) {
  auto workload = memsoak::scenarios::make_synthetic_workload({}, 1)();
  workload->setup();
  std::uint64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(workload->run(i++));
}
BENCHMARK(BM_SyntheticRun);

// The worst case: nothing but small allocations and frees.
void BM_SmallMallocFree(benchmark::State& state) {
  std::vector<void*> blocks(64);
  for (auto _ : state) {
    for (std::size_t i = 0; i < blocks.size(); ++i) blocks[i] = std::malloc(16 + (i % 8) * 24);
    benchmark::DoNotOptimize(blocks.data());
    for (void* b : blocks) std::free(b);
  }
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_SmallMallocFree);

// C++ objects: what a component's own code does.
void BM_StringsAndVectors(benchmark::State& state) {
  for (auto _ : state) {
    std::vector<std::string> words;
    for (int i = 0; i < 64; ++i) words.emplace_back(40 + i % 17, 'x');
    benchmark::DoNotOptimize(words.data());
  }
}
BENCHMARK(BM_StringsAndVectors);

}  // namespace

// MEMSOAK_BENCH_STACK_SAMPLE=SIZE (bytes; 0: every allocation) turns stack sampling on in the
// counted build, as a soak does (harness/stack_sampling.h).
extern "C" int memsoak_stacks_configure(const MemsoakStackPlan* plan) noexcept __attribute__((weak));

int main(int argc, char** argv) {
  if (const char* mean = std::getenv("MEMSOAK_BENCH_STACK_SAMPLE");
      mean != nullptr && &memsoak_stacks_configure) {
    MemsoakStackPlan plan{std::strtoull(mean, nullptr, 10), 0, memsoak::harness::kDefaultStackDepth, 1, 0, 1};
    if (memsoak_stacks_configure(&plan) != 0) return 1;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
