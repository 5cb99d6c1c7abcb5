// `memsoak merge`: the shards of one soak (`memsoak run --shard I/N` on several machines) made
// into one run directory, as if the soak had run in one place. Owned here, beside the formats it
// rewrites (run.json, samples.bin, artifacts/); docs/run-directory.md describes the result.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "harness/artifacts.h"
#include "harness/run_manifest.h"
#include "harness/sample.h"

namespace memsoak::harness {

// One input directory, read whole and checked.
struct MergeShard {
  std::filesystem::path dir;
  RunManifest manifest;
  std::vector<RunRecord> records;
  ArtifactListing artifacts;
};

// Every input, in shard order, ready to write. Building it writes nothing.
struct MergePlan {
  std::vector<MergeShard> shards;
  std::size_t soak_entries = 0;
};

// Reads and checks the inputs. Throws InputError, one line naming the directory and why, when one
// is not a whole run directory (run.json or samples.bin missing or unreadable, samples.bin ending
// inside a record, an entry whose record count disagrees with run.json, a soak stopped by a
// signal), when two inputs are one directory or the same shard, when they differ in build
// (memsoak version, git commit, build id) or in soak (run.json's config, shard count or entries;
// machine-specific paths and times aside), or when a shard is missing.
MergePlan plan_merge(const std::vector<std::filesystem::path>& inputs);

// Writes the merged run directory into `out` (existing and empty): run.json with the whole soak's
// entries in their order and "merged_from", samples.bin with records renumbered to those entries,
// artifacts/ moved to the same numbers, run.log concatenated in shard order, heaptrack/ from the
// shard that ran the pass. `command_line` is the merge's. Throws std::runtime_error on I/O failure.
void write_merge(const MergePlan& plan, const std::filesystem::path& out,
                 const std::vector<std::string>& command_line);

}  // namespace memsoak::harness
