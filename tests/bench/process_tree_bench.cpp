// Cost of finding and sampling a process tree (the benchmark's parent and its descendants), with the
// number of processes on the machine as a counter: what the /proc-scan fallback's cost grows with.
// Run: build/tests/memsoak_process_tree_bench
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "harness/internal/descendants.h"
#include "harness/process_tree.h"

namespace {

double count_processes() {
  double count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) ++count;
  }
  return count;
}

void BM_ListDescendants(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(memsoak::harness::list_descendants(::getppid()));
  state.counters["processes"] = count_processes();
}
BENCHMARK(BM_ListDescendants)->Unit(benchmark::kMicrosecond);

// The fallback for kernels without children files: its cost grows with the whole machine.
void BM_ListDescendantsByProcScan(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(memsoak::harness::internal::descendants_from_proc_scan(::getppid()));
  state.counters["processes"] = count_processes();
}
BENCHMARK(BM_ListDescendantsByProcScan)->Unit(benchmark::kMicrosecond);

void BM_SampleProcessTree(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(memsoak::harness::sample_process_tree(::getppid()));
  state.counters["processes"] = count_processes();
  state.counters["tree"] = static_cast<double>(memsoak::harness::list_descendants(::getppid()).size() + 1);
}
BENCHMARK(BM_SampleProcessTree)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
