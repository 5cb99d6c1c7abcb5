// `memsoak run --scenario FILE`: a soak described in a file a CI user keeps in the repository.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <vector>

namespace memsoak::tools {

// Reads FILE, a JSON object whose keys are `run`'s long option names without "--" ("workload",
// "strategy", "iterations", ...), and gives each value to `run_command`'s option of that name,
// unless the command line already gave that option (the command line wins). Values are strings,
// whole numbers (iterations, seed, a size in bytes, ...) or lists of strings (strategy,
// allocator: joined with commas). Returns the keys it applied. Throws InputError naming the file
// and key for a file that is not a JSON object, an unknown key, a key that belongs on the command
// line (out, shard, quiet, scenario) or a value of the wrong type; the values themselves are
// checked later, as the command line's are.
std::vector<std::string> apply_scenario_file(CLI::App& run_command, const std::filesystem::path& file);

}  // namespace memsoak::tools
