// Parses config.json with explicit ranges so a bad model fails at load, not inside the encoder.
#include "scenarios/reranker/config.h"

#include <nlohmann/json.hpp>

#include "harness/errors.h"
#include "harness/json_file.h"

namespace memsoak::scenarios::reranker {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& label, const std::string& problem) {
  throw InputError(label + ": " + problem);
}

// Ranges: generous upper bounds that keep size arithmetic far from overflow.
std::size_t size_field(const json& config, const char* key, std::size_t min, std::size_t max,
                       const std::string& label) {
  const auto it = config.find(key);
  if (it == config.end()) fail(label, std::string("missing \"") + key + "\"");
  if (!it->is_number_integer() || it->get<long long>() < static_cast<long long>(min) ||
      it->get<long long>() > static_cast<long long>(max)) {
    fail(label, std::string("\"") + key + "\" = " + it->dump() + " is not an integer in [" +
                    std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return static_cast<std::size_t>(it->get<long long>());
}

bool bool_field(const json& object, const char* key, bool fallback, const std::string& label) {
  const auto it = object.find(key);
  if (it == object.end()) return fallback;
  if (!it->is_boolean()) fail(label, std::string("\"") + key + "\" must be true or false");
  return it->get<bool>();
}

}  // namespace

BertConfig parse_config(const json& config, const std::string& label) {
  if (!config.is_object()) fail(label, "not a JSON object");
  BertConfig c;
  c.hidden_size = size_field(config, "hidden_size", 1, 1 << 16, label);
  c.num_hidden_layers = size_field(config, "num_hidden_layers", 1, 256, label);
  c.num_attention_heads = size_field(config, "num_attention_heads", 1, 1024, label);
  c.intermediate_size = size_field(config, "intermediate_size", 1, 1 << 18, label);
  c.vocab_size = size_field(config, "vocab_size", 5, 1 << 24, label);
  c.max_position_embeddings = size_field(config, "max_position_embeddings", 3, 1 << 16, label);
  c.type_vocab_size = size_field(config, "type_vocab_size", 2, 1024, label);
  if (c.hidden_size % c.num_attention_heads != 0) {
    fail(label, "hidden_size " + std::to_string(c.hidden_size) +
                    " is not a multiple of num_attention_heads " + std::to_string(c.num_attention_heads));
  }
  if (const auto it = config.find("layer_norm_eps"); it != config.end()) {
    if (!it->is_number() || !(it->get<double>() > 0.0) || !(it->get<double>() < 1.0)) {
      fail(label, "\"layer_norm_eps\" = " + it->dump() + " is not a number in (0, 1)");
    }
    c.layer_norm_eps = static_cast<float>(it->get<double>());
  }
  const auto act = config.find("hidden_act");
  if (act == config.end() || !act->is_string() || act->get<std::string>() != "gelu") {
    fail(label, "\"hidden_act\" must be \"gelu\" (erf GELU), got " +
                    (act == config.end() ? std::string("nothing") : act->dump()));
  }
  if (const auto it = config.find("num_labels"); it != config.end() && *it != json(1)) {
    fail(label, "\"num_labels\" = " + it->dump() + " but a reranker needs exactly 1");
  }
  if (const auto it = config.find("id2label"); it != config.end() && (!it->is_object() || it->size() != 1)) {
    fail(label, "\"id2label\" must have exactly one label for a reranker");
  }
  c.do_lower_case = bool_field(config, "do_lower_case", true, label);
  return c;
}

BertConfig load_config(const std::filesystem::path& model_dir) {
  const auto config_path = model_dir / "config.json";
  BertConfig c = parse_config(harness::read_json_file(config_path), config_path.string());
  const auto tokenizer_path = model_dir / "tokenizer_config.json";
  if (std::filesystem::exists(tokenizer_path)) {
    const json tokenizer = harness::read_json_file(tokenizer_path);
    if (!tokenizer.is_object()) fail(tokenizer_path.string(), "not a JSON object");
    c.do_lower_case = bool_field(tokenizer, "do_lower_case", c.do_lower_case, tokenizer_path.string());
  }
  return c;
}

}  // namespace memsoak::scenarios::reranker
