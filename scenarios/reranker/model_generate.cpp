// Synthetic model generator: per-tensor PRNG streams keyed by tensor name, so order is irrelevant.
#include "scenarios/reranker/model_generate.h"

#include <unistd.h>

#include <array>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "harness/errors.h"
#include "harness/workload.h"
#include "scenarios/reranker/corpus.h"
#include "scenarios/reranker/safetensors.h"

namespace memsoak::scenarios::reranker {
namespace {

struct Preset {
  std::string_view name;
  std::size_t layers, hidden, heads, intermediate, vocab, max_positions;
};
constexpr std::array<Preset, 3> kPresets{{{"tiny", 2, 32, 2, 64, 1000, 128},
                                          {"small", 4, 128, 4, 512, 4000, 256},
                                          {"minilm-l6", 6, 384, 12, 1536, 30522, 512}}};

class VocabBuilder {
 public:
  explicit VocabBuilder(std::size_t capacity) : capacity_(capacity) {}
  void add(std::string token) {
    if (tokens_.size() < capacity_ && seen_.insert(token).second) tokens_.push_back(std::move(token));
  }
  bool full() const { return tokens_.size() >= capacity_; }
  std::vector<std::string> take() { return std::move(tokens_); }

 private:
  std::size_t capacity_;
  std::set<std::string> seen_;
  std::vector<std::string> tokens_;
};

std::string utf8(char32_t cp) {
  std::string out;
  if (cp < 0x80) return std::string(1, static_cast<char>(cp));
  if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  }
  out += static_cast<char>(0x80 | (cp & 0x3F));
  return out;
}

// Fills a tensor from its own stream: seed mixed with the tensor name.
std::vector<float> normal_values(std::uint64_t seed, const std::string& name, std::size_t count, double mean,
                                 double stddev) {
  SplitMix64 rng(seed ^ harness::fnv1a64(name.data(), name.size()));
  std::vector<float> values(count);
  for (std::size_t i = 0; i < count; i += 2) {  // Box-Muller: two normals per pair of uniforms
    const double radius = std::sqrt(-2.0 * std::log(1.0 - rng.uniform()));
    const double angle = 2.0 * M_PI * rng.uniform();
    values[i] = static_cast<float>(mean + stddev * radius * std::cos(angle));
    if (i + 1 < count) values[i + 1] = static_cast<float>(mean + stddev * radius * std::sin(angle));
  }
  return values;
}

struct OwnedTensor {
  std::string name;
  std::vector<std::size_t> shape;
  std::vector<float> values;
};

void add_linear(std::vector<OwnedTensor>& out, std::uint64_t seed, const std::string& prefix,
                std::size_t in_dim, std::size_t out_dim) {
  out.push_back(
      {prefix + ".weight",
       {out_dim, in_dim},
       normal_values(seed, prefix + ".weight", out_dim * in_dim, 0.0, 1.0 / std::sqrt(double(in_dim)))});
  out.push_back({prefix + ".bias", {out_dim}, normal_values(seed, prefix + ".bias", out_dim, 0.0, 0.02)});
}

void add_layer_norm(std::vector<OwnedTensor>& out, std::uint64_t seed, const std::string& prefix,
                    std::size_t h) {
  out.push_back({prefix + ".weight", {h}, normal_values(seed, prefix + ".weight", h, 1.0, 0.05)});
  out.push_back({prefix + ".bias", {h}, normal_values(seed, prefix + ".bias", h, 0.0, 0.02)});
}

std::vector<OwnedTensor> make_weights(const BertConfig& c, std::uint64_t seed) {
  std::vector<OwnedTensor> t;
  const std::size_t h = c.hidden_size;
  auto embedding = [&](const std::string& name, std::size_t rows) {
    t.push_back({name, {rows, h}, normal_values(seed, name, rows * h, 0.0, 0.02)});
  };
  embedding("bert.embeddings.word_embeddings.weight", c.vocab_size);
  embedding("bert.embeddings.position_embeddings.weight", c.max_position_embeddings);
  embedding("bert.embeddings.token_type_embeddings.weight", c.type_vocab_size);
  add_layer_norm(t, seed, "bert.embeddings.LayerNorm", h);
  for (std::size_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "bert.encoder.layer." + std::to_string(i) + ".";
    for (const char* qkv : {"query", "key", "value"}) add_linear(t, seed, p + "attention.self." + qkv, h, h);
    add_linear(t, seed, p + "attention.output.dense", h, h);
    add_layer_norm(t, seed, p + "attention.output.LayerNorm", h);
    add_linear(t, seed, p + "intermediate.dense", h, c.intermediate_size);
    add_linear(t, seed, p + "output.dense", c.intermediate_size, h);
    add_layer_norm(t, seed, p + "output.LayerNorm", h);
  }
  add_linear(t, seed, "bert.pooler.dense", h, h);
  add_linear(t, seed, "classifier", h, 1);
  return t;
}

std::string config_json(const BertConfig& c) {
  const nlohmann::json j = {{"architectures", {"BertForSequenceClassification"}},
                            {"model_type", "bert"},
                            {"hidden_size", c.hidden_size},
                            {"num_hidden_layers", c.num_hidden_layers},
                            {"num_attention_heads", c.num_attention_heads},
                            {"intermediate_size", c.intermediate_size},
                            {"vocab_size", c.vocab_size},
                            {"max_position_embeddings", c.max_position_embeddings},
                            {"type_vocab_size", c.type_vocab_size},
                            {"layer_norm_eps", c.layer_norm_eps},
                            {"hidden_act", "gelu"},
                            {"num_labels", 1},
                            {"torch_dtype", "float32"}};
  return j.dump(2) + "\n";
}

void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw InputError(path.string() + ": cannot write");
}

void write_model_files(const BertConfig& c, std::uint64_t seed, const std::filesystem::path& dir) {
  write_file(dir / "config.json", config_json(c));
  std::string vocab_text;
  for (const auto& token : generate_vocab(c.vocab_size)) vocab_text += token + "\n";
  write_file(dir / "vocab.txt", vocab_text);
  const auto weights = make_weights(c, seed);
  std::vector<TensorToWrite> views;
  for (const auto& w : weights) views.push_back({w.name, w.shape, w.values});
  write_file(dir / "model.safetensors", serialize_safetensors(views));
}

}  // namespace

BertConfig preset_config(std::string_view preset) {
  for (const auto& p : kPresets) {
    if (p.name != preset) continue;
    BertConfig c;
    c.num_hidden_layers = p.layers;
    c.hidden_size = p.hidden;
    c.num_attention_heads = p.heads;
    c.intermediate_size = p.intermediate;
    c.vocab_size = p.vocab;
    c.max_position_embeddings = p.max_positions;
    c.type_vocab_size = 2;
    c.layer_norm_eps = 1e-12f;
    return c;
  }
  throw InputError("unknown reranker model preset \"" + std::string(preset) +
                   "\" (expected tiny, small or minilm-l6)");
}

std::vector<std::string> generate_vocab(std::size_t vocab_size) {
  VocabBuilder v(vocab_size);
  for (const char* special : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) v.add(special);
  for (char c = 33; c < 127; ++c) v.add(std::string(1, c));
  for (char c = 'a'; c <= 'z'; ++c) v.add(std::string("##") + c);
  for (char c = '0'; c <= '9'; ++c) v.add(std::string("##") + c);
  for (char32_t cp : std::u32string_view(U"éèêëàáâäçñöüßøåíóúÉÜ")) v.add(utf8(cp));
  for (char32_t cp = 0x4E00; cp < 0x4E30; ++cp) v.add(utf8(cp));
  for (char32_t cp : std::u32string_view(U"中国人日本文字大学")) v.add(utf8(cp));
  for (const auto word : corpus_words()) v.add(std::string(word));
  for (const char* suffix : {"s", "es", "ed", "ing", "er", "ers", "ly", "tion", "al", "ness", "ment", "able",
                             "ful", "less", "est", "y"}) {
    v.add(std::string("##") + suffix);
  }
  // Syllable pieces (consonant-vowel chains), alternating word-initial and "##" forms.
  static constexpr std::string_view kConsonants = "bcdfghjklmnprstvwz";
  static constexpr std::string_view kVowels = "aeiou";
  std::vector<std::string> frontier{""};
  while (!v.full()) {
    std::vector<std::string> next;
    for (const auto& stem : frontier) {
      for (char c : kConsonants) {
        for (char vowel : kVowels) {
          next.push_back(stem + c + vowel);
          v.add(next.back());
          v.add("##" + next.back());
          if (v.full()) return v.take();
        }
      }
    }
    frontier = std::move(next);
  }
  return v.take();
}

void generate_model(std::string_view preset, std::uint64_t seed, const std::filesystem::path& out_dir) {
  const BertConfig config = preset_config(preset);
  namespace fs = std::filesystem;
  if (fs::exists(out_dir)) throw InputError(out_dir.string() + ": model output directory already exists");
  const fs::path parent = out_dir.has_parent_path() ? out_dir.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  const fs::path temp = parent / ("." + out_dir.filename().string() + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(temp, ec);
  if (!fs::create_directory(temp, ec))
    throw InputError(temp.string() + ": cannot create (" + ec.message() + ")");
  try {
    write_model_files(config, seed, temp);
    fs::rename(temp, out_dir, ec);
    if (ec) throw InputError(out_dir.string() + ": cannot create model directory (" + ec.message() + ")");
  } catch (...) {
    fs::remove_all(temp, ec);
    throw;
  }
}

}  // namespace memsoak::scenarios::reranker
