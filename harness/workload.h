// The workload interface: what the harness runs, once per run, under any strategy.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace memsoak::harness {

// One unit of work that the harness repeats thousands of times.
//
// Contract:
// - setup() is called once per process before the first run (load a model, open files).
//   Under the fork strategy it runs in every child; under in-process once for all runs.
// - run(i) does run number i and returns a digest of its output. The digest must depend only on
//   the workload's construction arguments (seed, leak mode) and on i, never on state left by
//   earlier runs: that is how the harness checks that every strategy computes the same thing.
// - Any method may throw; the harness records the run as failed with the exception's message.
// - Not thread-safe: the harness calls one method at a time, from one thread.
class Workload {
 public:
  virtual ~Workload() = default;
  virtual void setup() = 0;
  virtual std::uint64_t run(std::uint64_t run_index) = 0;
  virtual void teardown() {}
};

// Builds a fresh, not yet set up, workload. Called in the process that will run it.
using WorkloadFactory = std::function<std::unique_ptr<Workload>()>;

// Where a soak's workload comes from: the explicit choice the strategies act on.
//   native:   a built-in workload, built by `factory` in the process that runs it;
//   plugin:   a workload plugin (a shared library), also built by `factory`;
//   external: a worker program speaking protocol v1 (docs/worker-protocol.md), run as
//             `/bin/sh -c command`; memsoak holds none of its state.
struct WorkloadSource {
  enum class Kind { kNative, kPlugin, kExternal };
  Kind kind = Kind::kNative;
  WorkloadFactory factory;  // native and plugin
  std::string command;      // external

  static WorkloadSource native(WorkloadFactory f) { return {Kind::kNative, std::move(f), {}}; }
  static WorkloadSource plugin(WorkloadFactory f) { return {Kind::kPlugin, std::move(f), {}}; }
  static WorkloadSource external(std::string cmd) { return {Kind::kExternal, {}, std::move(cmd)}; }
  // True when memsoak holds the workload in its own processes (it can fork, trim, re-execute it).
  bool in_memsoak() const noexcept { return kind != Kind::kExternal; }
};

// "native", "plugin", "external": how run.json names a source kind.
std::string_view source_kind_name(WorkloadSource::Kind kind) noexcept;
// The inverse: false for an unknown name.
bool parse_source_kind(std::string_view name, WorkloadSource::Kind& kind) noexcept;

// 64-bit FNV-1a: the digest workloads use for their output. Stable across builds and processes.
inline std::uint64_t fnv1a64(const void* data, std::size_t size,
                             std::uint64_t hash = 0xcbf29ce484222325ull) noexcept {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= bytes[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

}  // namespace memsoak::harness
