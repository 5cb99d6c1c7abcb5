// run.json, the run manifest: the one owner of its writing and reading. What a soak was asked to
// do, on which machine and build, which entries (strategy x allocator) it has and how far each
// got. Written when a soak starts and again as each entry ends; read by entry processes,
// spawned runs, `memsoak report` and the analysis. The layout is documented field by field in
// docs/run-directory.md.
//
// Versions: "memsoak.run/2" is written. "memsoak.run/1" (memsoak 0.1 before the strategy table)
// is still read: each entry's kind and recycling are derived from its strategy's name through
// the strategy table. A newer version is refused by name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "harness/allocators.h"
#include "harness/soak_config.h"
#include "harness/strategy.h"
#include "harness/workload.h"

namespace memsoak::harness {

inline constexpr const char* kRunManifestSchema = "memsoak.run/2";
inline constexpr int kRunManifestVersion = 2;

// How far an entry got; filled in as it ends.
struct EntryStats {
  std::uint64_t completed_runs = 0;
  std::uint64_t failed_runs = 0;
  std::uint64_t artifacts = 0;  // artifact files its processes committed (artifacts.h)
  std::optional<std::int64_t> elapsed_ns;
  std::optional<std::int64_t> cpu_user_ns;  // of all its processes
  std::optional<std::int64_t> cpu_system_ns;
  std::optional<std::string> stopped;  // why it stopped early (--max-failures)
  // Under --iterations auto: "settled", "max-iterations" or "duration"; none otherwise, and when
  // the entry was stopped (--max-failures, a signal) before any of those.
  std::optional<std::string> ended_by;
  // In-process strategies under glibc malloc: RSS of the entry's last process as its strategy
  // stopped, before and after malloc_trim(0): what glibc held that the OS could have back.
  std::optional<std::int64_t> trim_rss_before_bytes;
  std::optional<std::int64_t> trim_rss_after_bytes;
};

// One (strategy, allocator) pair, in the order the soak runs them: allocators outer.
struct ManifestEntry {
  StrategySpec strategy;
  Allocator allocator = Allocator::kGlibc;
  EntryStats stats;
  // "recycle:100", or "recycle:100 [jemalloc]" for an allocator other than glibc.
  std::string label() const;
};

// A shard's place in the whole soak (--shard I/N), so that `memsoak merge` can check that shards
// fit together. `soak_entries` are the labels of every entry of the whole soak, in order;
// `entries` the indices (into that list) of the entries this run directory holds.
struct ShardInfo {
  std::uint32_t index = 1;
  std::uint32_t count = 1;
  std::vector<std::uint32_t> entries;
  std::vector<std::string> soak_entries;
};

struct RunManifest {
  int schema_version = kRunManifestVersion;  // of the file it was read from
  std::string memsoak_version;
  std::string git_commit;
  // GNU build id of the memsoak executable that ran the soak (hex); empty when it has none or the
  // file predates the field. Two builds of one commit differ here.
  std::string build_id;
  std::int64_t started_at = 0;  // Unix seconds
  SoakConfig config;
  WorkloadSource::Kind source_kind = WorkloadSource::Kind::kNative;
  std::string exec_command;                  // the external worker's command
  std::optional<std::string> heap_counters;  // who counted the live heap, if anyone
  // --exec with --exec-tracker on: the preload library the workers run with (absolute path).
  std::optional<std::string> exec_tracker_library;
  std::vector<ManifestEntry> entries;
  std::optional<ShardInfo> shard;  // this directory holds one shard of a soak
  // `memsoak merge`: one object per shard it was made from (directory, shard, hostname,
  // started_at); null for a soak that ran as one.
  nlohmann::json merged_from = nullptr;
  std::optional<int> interrupted_by_signal;
  nlohmann::json environment = nlohmann::json::object();

  // A new soak's manifest: this build, now, this machine, every entry at zero runs.
  static RunManifest begin(const SoakConfig& config, const WorkloadSource& source);
  // Reads `run_dir`/run.json. Throws InputError naming the file and the field when it is missing,
  // not JSON, of a newer schema, or has a field of the wrong type.
  static RunManifest read(const std::filesystem::path& run_dir);
  static RunManifest from_json(const nlohmann::json& json, const std::string& where);
  // Replaces `run_dir`/run.json atomically. Throws std::runtime_error on I/O failure.
  void write(const std::filesystem::path& run_dir) const;
  nlohmann::ordered_json to_json() const;
};

}  // namespace memsoak::harness
