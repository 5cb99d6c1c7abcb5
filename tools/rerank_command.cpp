// `memsoak rerank` and `memsoak model generate`: the reranker used directly, outside a soak.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "harness/errors.h"
#include "harness/units.h"
#include "scenarios/reranker/corpus.h"
#include "scenarios/reranker/model_generate.h"
#include "scenarios/reranker/reranker.h"
#include "tools/commands.h"

namespace memsoak::tools {
namespace {

struct RerankArgs {
  std::string model;
  std::string query;
  std::string docs;
  std::string top_k = "10";
  bool json = false;
};

int rerank(const RerankArgs& args) {
  std::uint64_t top_k = harness::parse_count(args.top_k, "--top-k");
  if (top_k == 0) throw InputError("--top-k '0': must be at least 1");
  std::vector<std::string> docs = scenarios::reranker::read_documents_file(args.docs);
  scenarios::reranker::Reranker reranker(args.model);
  auto ranked = reranker.rerank(args.query, docs, top_k);
  if (args.json) {
    nlohmann::ordered_json results = nlohmann::ordered_json::array();
    for (const auto& r : ranked)
      results.push_back({{"index", r.index}, {"score", r.score}, {"text", docs[r.index]}});
    std::cout << nlohmann::ordered_json{{"results", results}}.dump(-1, ' ', false,
                                                                   nlohmann::json::error_handler_t::replace)
              << '\n';
  } else {
    for (std::size_t rank = 0; rank < ranked.size(); ++rank) {
      std::cout << fmt::format("{:>3}  {:>9.4f}  #{:<4} {}\n", rank + 1, ranked[rank].score,
                               ranked[rank].index, docs[ranked[rank].index]);
    }
  }
  return kExitOk;
}

}  // namespace

std::function<int()> add_rerank_command(CLI::App& app) {
  auto args = std::make_shared<RerankArgs>();
  CLI::App* cmd = app.add_subcommand("rerank", "rank the documents of FILE (one per line) against a query");
  cmd->add_option("--model", args->model, "model directory (config.json, vocab.txt, model.safetensors)")
      ->required();
  cmd->add_option("--query", args->query, "the query text")->required();
  cmd->add_option("--docs", args->docs, "file with one document per line")->required();
  cmd->add_option("--top-k", args->top_k, "how many to print")->capture_default_str();
  cmd->add_flag("--json", args->json, R"(print {"results": [{"index", "score", "text"}]})");
  return [cmd, args] { return cmd->parsed() ? rerank(*args) : -1; };
}

std::function<int()> add_model_command(CLI::App& app) {
  struct Args {
    std::string preset;
    std::string out;
    std::string seed = "1";
  };
  auto args = std::make_shared<Args>();
  CLI::App* model = app.add_subcommand("model", "generate model directories for soaks and tests");
  model->require_subcommand(1);
  CLI::App* generate = model->add_subcommand("generate", "write a model with deterministic weights");
  generate->add_option("--preset", args->preset, "tiny, small or minilm-l6 (the real MiniLM-L6 shape)")
      ->required();
  generate->add_option("--out", args->out, "directory to create (must not exist)")->required();
  generate->add_option("--seed", args->seed, "seed of the weights")->capture_default_str();
  return [generate, args] {
    if (!generate->parsed()) return -1;
    std::uint64_t seed = harness::parse_count(args->seed, "--seed");
    if (args->out.empty()) throw InputError("--out '': empty path");
    scenarios::reranker::generate_model(args->preset, seed, args->out);
    std::cout << args->out << '\n';
    return kExitOk;
  };
}

}  // namespace memsoak::tools
