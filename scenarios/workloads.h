// The built-in workloads by name: what `memsoak run --workload NAME --leak MODE` builds.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "harness/workload.h"

namespace memsoak::scenarios {

struct WorkloadRequest {
  std::string name = "synthetic";
  std::string leak = "none";
  std::uint64_t seed = 1;
  // Reranker only: a model directory, or else a generated model of `preset`.
  std::optional<std::filesystem::path> model_dir = std::nullopt;
  std::string preset = "tiny";
  // Load the model once up front to refuse a bad one before anything runs. Off in processes that
  // rebuild an already checked workload (spawned runs, executed strategy processes).
  bool validate = true;
  // When set, the workload is this plugin library (scenarios/plugin/memsoak_plugin.h), given
  // `plugin_config`; name, leak, seed and the reranker fields are then not used.
  std::optional<std::filesystem::path> plugin = std::nullopt;
  std::string plugin_config = "";
};

// The request as JSON for run.json ("workload_request"), and back.
nlohmann::json request_to_json(const WorkloadRequest& request);
WorkloadRequest request_from_json(const nlohmann::json& json);

struct BuiltWorkload {
  harness::WorkloadFactory factory;
  nlohmann::json info;  // recorded in run.json as "workload_info"
};

struct WorkloadDescription {
  std::string name;
  std::string summary;
  std::vector<std::string> leak_modes;  // with their argument syntax, e.g. "dropped:SIZE"
};

// Validates the request (for the reranker: loads the model once, generating it first when
// needed; for a plugin: loads and checks the library and its config) and returns a factory.
// Throws InputError naming an unknown workload, a leak mode the workload does not have, a model
// file that is not valid, or a plugin library or config that memsoak or the plugin refuses.
BuiltWorkload make_workload(const WorkloadRequest& request);

std::vector<WorkloadDescription> list_workloads();

// Where generated models are kept between runs: $XDG_CACHE_HOME/memsoak/models, else
// $HOME/.cache/memsoak/models, else memsoak-out/models.
std::filesystem::path model_cache_directory();

// The model directory of `preset` (seed 1) in the cache, generated on first use. Safe when
// several memsoak processes ask at once. Throws InputError for an unknown preset.
std::filesystem::path cached_model(const std::string& preset);

}  // namespace memsoak::scenarios
