// Workloads loaded from a shared library through the C plugin ABI (scenarios/plugin/memsoak_plugin.h).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "harness/workload.h"

namespace memsoak::scenarios {

// Opens `library` (dlopen RTLD_NOW | RTLD_LOCAL, in the calling process, which must be the one
// that forks the strategies: the library stays loaded for the life of the process), checks its
// table, asks its optional check_config about `config`, and returns a factory of workloads that
// call the plugin's setup, run and teardown.
//
// Throws InputError, one line naming the library path and the problem: a missing or unreadable
// file, a file that is not a shared library, no memsoak_plugin_entry symbol, no table, another
// major ABI version (both versions named), a table smaller than ABI 1's, a missing name or
// required function, or a config the plugin refuses.
//
// The workloads it builds throw InputError when the plugin's setup fails and std::runtime_error
// when a run fails, each with the plugin's message: the harness records a failed run.
harness::WorkloadFactory make_plugin_workload(const std::filesystem::path& library, std::string config);

// What run.json records of a plugin: {"name", "library" (absolute path), "abi_version",
// "struct_size", "has_check_config"}. Opens and checks the library as above; throws the same
// InputErrors.
nlohmann::json describe_plugin(const std::filesystem::path& library);

}  // namespace memsoak::scenarios
