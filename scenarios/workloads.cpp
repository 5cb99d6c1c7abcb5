// The built-in workloads by name (see workloads.h).
#include "scenarios/workloads.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdlib>

#include "harness/errors.h"
#include "scenarios/plugin_workload.h"
#include "scenarios/reranker/model_generate.h"
#include "scenarios/reranker/reranker.h"
#include "scenarios/reranker/reranker_workload.h"
#include "scenarios/synthetic.h"

namespace memsoak::scenarios {
namespace fs = std::filesystem;

namespace {

// Generated models use one fixed seed: --seed picks the inputs, not the weights.
constexpr std::uint64_t kModelSeed = 1;
constexpr std::size_t kDocsPerQuery = 20;
constexpr std::size_t kTopK = 5;

BuiltWorkload make_reranker(const WorkloadRequest& request) {
  reranker::RerankerWorkloadOptions options;
  options.leak_mode = request.leak;
  options.seed = request.seed;
  options.docs_per_query = kDocsPerQuery;
  options.top_k = kTopK;
  options.model_dir = request.model_dir ? *request.model_dir : cached_model(request.preset);
  harness::WorkloadFactory factory = reranker::make_reranker_workload(options);  // checks the leak mode
  if (!request.validate) return {std::move(factory), nlohmann::json::object()};
  // Load once now: a bad model is bad input (exit 2) before any run directory exists.
  reranker::Reranker probe(options.model_dir);
  const reranker::BertConfig& config = probe.config();
  nlohmann::json info = {
      {"name", "reranker"},
      {"leak", request.leak},
      {"model_dir", fs::absolute(options.model_dir).string()},
      {"preset", request.model_dir ? nlohmann::json(nullptr) : nlohmann::json(request.preset)},
      {"model_weights_bytes", probe.encoder().weights_size_bytes()},
      {"load_method", reranker::load_method()},
      {"layers", config.num_hidden_layers},
      {"hidden_size", config.hidden_size},
      {"vocab_size", config.vocab_size},
      {"docs_per_query", kDocsPerQuery},
      {"top_k", kTopK},
  };
  return {std::move(factory), std::move(info)};
}

BuiltWorkload make_plugin(const fs::path& library, const std::string& config) {
  harness::WorkloadFactory factory = make_plugin_workload(library, config);
  nlohmann::json info = {{"name", "plugin"}, {"plugin", describe_plugin(library)}, {"config", config}};
  return {std::move(factory), std::move(info)};
}

}  // namespace

std::vector<WorkloadDescription> list_workloads() {
  return {
      {"reranker",
       "a BERT cross-encoder reranking 20 documents per query (the default scenario)",
       {"none", "model-registry", "tokenizer-memo", "dropped-buffer", "bounded-cache", "thread-churn",
        "fragmentation"}},
      {"synthetic",
       "a mix of small, medium and large allocations per run",
       {"none", "dropped:SIZE", "cache:SIZE", "bounded:COUNTxSIZE", "crash:K", "hang:K", "hog:K"}},
  };
}

BuiltWorkload make_workload(const WorkloadRequest& request) {
  if (request.plugin) return make_plugin(*request.plugin, request.plugin_config);
  if (request.name == "synthetic") {
    SyntheticLeak leak = parse_synthetic_leak(request.leak);
    return {make_synthetic_workload(leak, request.seed), {{"name", "synthetic"}, {"leak", request.leak}}};
  }
  if (request.name == "reranker") return make_reranker(request);
  std::vector<std::string> names;
  for (const auto& w : list_workloads()) names.push_back(w.name);
  throw InputError(
      fmt::format("--workload '{}': unknown workload (known: {})", request.name, fmt::join(names, ", ")));
}

nlohmann::json request_to_json(const WorkloadRequest& request) {
  return {
      {"name", request.name},
      {"leak", request.leak},
      {"seed", request.seed},
      {"model_dir", request.model_dir ? nlohmann::json(fs::absolute(*request.model_dir).string()) : nullptr},
      {"preset", request.preset},
      {"plugin", request.plugin ? nlohmann::json(fs::absolute(*request.plugin).string()) : nullptr},
      {"plugin_config", request.plugin_config}};
}

WorkloadRequest request_from_json(const nlohmann::json& json) {
  WorkloadRequest request;
  request.name = json.at("name").get<std::string>();
  request.leak = json.at("leak").get<std::string>();
  request.seed = json.at("seed").get<std::uint64_t>();
  if (!json.at("model_dir").is_null()) request.model_dir = json.at("model_dir").get<std::string>();
  request.preset = json.at("preset").get<std::string>();
  if (json.contains("plugin") && !json.at("plugin").is_null()) {
    request.plugin = json.at("plugin").get<std::string>();
    request.plugin_config = json.value("plugin_config", "");
  }
  request.validate = false;
  return request;
}

fs::path model_cache_directory() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') {
    return fs::path(xdg) / "memsoak" / "models";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/') {
    return fs::path(home) / ".cache" / "memsoak" / "models";
  }
  return fs::path("memsoak-out") / "models";
}

fs::path cached_model(const std::string& preset) {
  reranker::preset_config(preset);  // InputError for an unknown preset, before touching the disk
  fs::path dir = model_cache_directory() / fmt::format("{}-seed{}", preset, kModelSeed);
  if (fs::exists(dir / "model.safetensors")) return dir;
  std::error_code ec;
  fs::create_directories(dir.parent_path(), ec);
  if (ec) {
    throw InputError(
        fmt::format("model cache '{}': cannot create: {}", dir.parent_path().string(), ec.message()));
  }
  try {
    reranker::generate_model(preset, kModelSeed, dir);
  } catch (const InputError&) {
    // Another memsoak generated it first (generation renames a finished directory into place).
    if (!fs::exists(dir / "model.safetensors")) throw;
  }
  return dir;
}

}  // namespace memsoak::scenarios
