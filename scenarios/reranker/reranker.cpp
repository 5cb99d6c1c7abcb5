// Reranker: tokenizer + encoder + stable top-k selection.
#include "scenarios/reranker/reranker.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "harness/errors.h"

namespace memsoak::scenarios::reranker {
namespace {

BertTokenizer load_tokenizer(const std::filesystem::path& model_dir, const BertConfig& config) {
  const auto path = model_dir / "vocab.txt";
  Vocab vocab = Vocab::load(path);
  if (vocab.size() > config.vocab_size) {
    throw InputError(path.string() + ": " + std::to_string(vocab.size()) +
                     " tokens but config.json vocab_size is " + std::to_string(config.vocab_size));
  }
  return BertTokenizer(std::move(vocab), config.do_lower_case);
}

BertEncoder load_encoder(const std::filesystem::path& model_dir, const BertConfig& config) {
  openblas_set_num_threads(1);
  return BertEncoder(config, SafetensorsFile::load(model_dir / "model.safetensors"));
}

}  // namespace

Reranker::Reranker(const std::filesystem::path& model_dir, std::size_t max_length)
    : Reranker(load_config(model_dir), model_dir, max_length) {}

Reranker::Reranker(const BertConfig& config, const std::filesystem::path& model_dir, std::size_t max_length)
    : tokenizer_(load_tokenizer(model_dir, config)),
      encoder_(load_encoder(model_dir, config)),
      max_length_(std::min(max_length, encoder_.config().max_position_embeddings)) {
  if (max_length_ < 3) {
    throw InputError("reranker max_length " + std::to_string(max_length) + " is below 3 ([CLS] [SEP] [SEP])");
  }
}

EncodedPair Reranker::encode(std::string_view query, std::string_view doc) const {
  return tokenizer_.encode_pair(query, doc, max_length_);
}

std::vector<Ranked> Reranker::rerank(std::string_view query, const std::vector<std::string>& docs,
                                     std::size_t top_k) const {
  const auto query_ids = tokenizer_.encode(query);
  std::vector<EncodedPair> pairs;
  pairs.reserve(docs.size());
  for (const auto& doc : docs)
    pairs.push_back(tokenizer_.build_pair(query_ids, tokenizer_.encode(doc), max_length_));
  return top_k_ranked(encoder_.score(pairs), top_k);
}

std::vector<Ranked> top_k_ranked(const std::vector<float>& scores, std::size_t top_k) {
  std::vector<Ranked> ranked;
  ranked.reserve(scores.size());
  for (std::size_t i = 0; i < scores.size(); ++i) ranked.push_back({i, scores[i]});
  const auto keep = std::min(top_k, ranked.size());
  // NaN would break the strict weak ordering partial_sort needs, so it sorts as -infinity.
  auto key = [](float score) { return std::isnan(score) ? -std::numeric_limits<float>::infinity() : score; };
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(keep), ranked.end(),
                    [&](const Ranked& a, const Ranked& b) {
                      const float ka = key(a.score), kb = key(b.score);
                      return ka != kb ? ka > kb : a.index < b.index;
                    });
  ranked.resize(keep);
  return ranked;
}

std::string join_ranked(const std::vector<Ranked>& ranked, const std::vector<std::string>& docs) {
  std::string out;
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    if (i > 0) out += "\n\n";
    out += docs.at(ranked[i].index);
  }
  return out;
}

}  // namespace memsoak::scenarios::reranker
