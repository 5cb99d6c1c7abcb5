// The run directory: where a soak's files go, and run.json (config, environment, versions).
//
// Files: run.json (this header), samples.bin (sample_file.h), run.log (one line per failed run),
// then the reports' files. run.json's schema is "memsoak.run/1":
//   { "schema", "memsoak_version", "git_commit", "started_at", "command_line": [..],
//     "scenario", "workload", "leak", "seed", "iterations", "warmup", "budget_bytes_per_run",
//     "heap_counters": "memsoak-counting-malloc" | null,
//     "strategies": [ { "name", "allocator", "completed_runs", "elapsed_ns" } ],
//     "workload_info": { ... what the workload reports of itself ... },
//     "environment": { "hostname", "cpus", "memory_bytes", "page_bytes", "kernel", "glibc",
//                      "compiler", "os" } }
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "harness/json_file.h"

namespace memsoak::harness {

inline constexpr const char* kRunJsonSchema = "memsoak.run/1";

// Creates the directory for a new run. With `requested` it must not exist or be an empty
// directory; without it, memsoak-out/<UTC timestamp> is made and memsoak-out/latest points to
// it. Throws InputError naming the path when it can't be created or already holds files; nothing
// is left behind on failure.
std::filesystem::path create_run_directory(const std::optional<std::filesystem::path>& requested);

// Machine, kernel, glibc and compiler of this process, for run.json.
nlohmann::json describe_environment();

}  // namespace memsoak::harness
