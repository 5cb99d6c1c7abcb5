// Cost of one per-run sample (statm path and the full sample) and of mallinfo2 on a fragmented
// heap, which is why memsoak keeps its own live-heap counters. Run: build/tests/memsoak_sampler_bench
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdlib>
#include <vector>

#include "harness/heap_counters.h"
#include "harness/sampler.h"

namespace {

using memsoak::harness::ProcessSampler;

void BM_RssOnlyStatm(benchmark::State& state) {
  ProcessSampler sampler;
  for (auto _ : state) benchmark::DoNotOptimize(sampler.rss_bytes());
}
BENCHMARK(BM_RssOnlyStatm);

void BM_FullSample(benchmark::State& state) {
  ProcessSampler sampler;
  for (auto _ : state) benchmark::DoNotOptimize(sampler.sample());
}
BENCHMARK(BM_FullSample);

// PSS/USS from smaps_rollup: why it is read every 10th run only.
void BM_SmapsRollup(benchmark::State& state) {
  ProcessSampler sampler;
  memsoak::harness::ProcessSample sample;
  for (auto _ : state) {
    sampler.add_smaps(sample);
    benchmark::DoNotOptimize(sample);
  }
}
BENCHMARK(BM_SmapsRollup);

void BM_HeapCounters(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(memsoak::harness::read_heap_counters());
}
BENCHMARK(BM_HeapCounters);

// Allocates state.range(0) small blocks and frees every other one: that many free chunks for
// mallinfo2 to walk.
void BM_Mallinfo2FragmentedHeap(benchmark::State& state) {
  std::vector<void*> blocks(static_cast<std::size_t>(state.range(0)));
  for (std::size_t i = 0; i < blocks.size(); ++i) blocks[i] = std::malloc(64 + (i % 7) * 48);
  for (std::size_t i = 0; i < blocks.size(); i += 2) {
    std::free(blocks[i]);
    blocks[i] = nullptr;
  }
  for (auto _ : state) benchmark::DoNotOptimize(mallinfo2());
  for (void* b : blocks) std::free(b);
  state.counters["free_chunks"] = static_cast<double>(blocks.size() / 2);
}
BENCHMARK(BM_Mallinfo2FragmentedHeap)->Arg(1000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
