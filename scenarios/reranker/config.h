// BERT cross-encoder configuration: config.json (+ optional tokenizer_config.json), range-checked.
#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace memsoak::scenarios::reranker {

struct BertConfig {
  std::size_t hidden_size = 0;
  std::size_t num_hidden_layers = 0;
  std::size_t num_attention_heads = 0;
  std::size_t intermediate_size = 0;
  std::size_t vocab_size = 0;
  std::size_t max_position_embeddings = 0;
  std::size_t type_vocab_size = 0;
  float layer_norm_eps = 1e-12f;
  bool do_lower_case = true;  // tokenizer setting; default true like bert-*-uncased

  std::size_t head_size() const noexcept { return hidden_size / num_attention_heads; }
};

// Validates a parsed config.json object. Required: the size fields, hidden_act == "gelu".
// Optional: layer_norm_eps (default 1e-12), num_labels (must be 1), id2label (must have 1 entry),
// do_lower_case. Errors are InputError "<file_label>: <problem>".
BertConfig parse_config(const nlohmann::json& config, const std::string& file_label);

// Reads <model_dir>/config.json; do_lower_case comes from tokenizer_config.json when that file
// exists and has the key, else from config.json, else true.
BertConfig load_config(const std::filesystem::path& model_dir);

}  // namespace memsoak::scenarios::reranker
