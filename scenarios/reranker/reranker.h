// Cross-encoder reranker: loads a model directory and ranks documents against a query.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/reranker/config.h"
#include "scenarios/reranker/encoder.h"
#include "scenarios/reranker/tokenizer.h"

namespace memsoak::scenarios::reranker {

struct Ranked {
  std::size_t index;  // position in the docs passed to rerank()
  float score;        // the model's logit for (query, doc)
};

class Reranker {
 public:
  static constexpr std::size_t kDefaultMaxLength = 512;

  // Loads <model_dir>/config.json (+ tokenizer_config.json if present), vocab.txt and
  // model.safetensors. max_length (tokens per pair incl. specials) is capped by
  // max_position_embeddings; it must be >= 3. Throws InputError naming the bad file.
  // Side effect: sets OpenBLAS to one thread, so scores are deterministic run to run.
  explicit Reranker(const std::filesystem::path& model_dir, std::size_t max_length = kDefaultMaxLength);

  // Scores every (query, doc) pair in one batch; returns the top_k by score descending, ties by
  // lower index. top_k larger than docs.size() returns all.
  std::vector<Ranked> rerank(std::string_view query, const std::vector<std::string>& docs,
                             std::size_t top_k) const;

  // Pair encodings as rerank() builds them (for callers that tokenize separately).
  EncodedPair encode(std::string_view query, std::string_view doc) const;
  // Logits for pre-encoded pairs, in order.
  std::vector<float> score(const std::vector<EncodedPair>& pairs) const { return encoder_.score(pairs); }

  const BertConfig& config() const noexcept { return encoder_.config(); }
  const BertTokenizer& tokenizer() const noexcept { return tokenizer_; }
  const BertEncoder& encoder() const noexcept { return encoder_; }
  std::size_t max_length() const noexcept { return max_length_; }

 private:
  Reranker(const BertConfig& config, const std::filesystem::path& model_dir, std::size_t max_length);

  BertTokenizer tokenizer_;
  BertEncoder encoder_;
  std::size_t max_length_;
};

// Sorts scores descending (ties: lower index first; NaN ranks last) and keeps the first top_k.
std::vector<Ranked> top_k_ranked(const std::vector<float>& scores, std::size_t top_k);

// The ranked documents' texts, in rank order, separated by a blank line ("\n\n").
std::string join_ranked(const std::vector<Ranked>& ranked, const std::vector<std::string>& docs);

}  // namespace memsoak::scenarios::reranker
