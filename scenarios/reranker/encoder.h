// BertForSequenceClassification forward pass (one logit per pair) on cblas_sgemm.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "scenarios/reranker/config.h"
#include "scenarios/reranker/safetensors.h"
#include "scenarios/reranker/tokenizer.h"

namespace memsoak::scenarios::reranker {

// A PyTorch nn.Linear: weight is [out, in] row-major, bias is [out].
struct Linear {
  const float* weight = nullptr;
  const float* bias = nullptr;
  std::size_t in_dim = 0;
  std::size_t out_dim = 0;
};

struct LayerNormWeights {
  const float* gamma = nullptr;
  const float* beta = nullptr;
};

struct EncoderLayer {
  Linear query, key, value, attention_output;
  LayerNormWeights attention_norm;
  Linear intermediate, output;
  LayerNormWeights output_norm;
};

class BertEncoder {
 public:
  // Takes ownership of the weights. Every tensor the forward pass reads must be present (HF
  // names; legacy LayerNorm.gamma/.beta accepted), have a float dtype (F32, or F16/BF16 widened
  // on load) and the shape config.json implies; otherwise InputError naming file and tensor.
  BertEncoder(const BertConfig& config, SafetensorsFile weights);
  // The raw pointers below point into weights_' map nodes: a move keeps the nodes (and so the
  // pointers) valid, a copy would leave them pointing into the source.
  BertEncoder(const BertEncoder&) = delete;
  BertEncoder& operator=(const BertEncoder&) = delete;
  BertEncoder(BertEncoder&&) noexcept = default;
  BertEncoder& operator=(BertEncoder&&) noexcept = default;

  // One relevance logit per pair. The pairs run as one batch padded to the longest; padded keys
  // are masked, so a pair's logit does not depend on its batch mates (up to last-bit GEMM
  // rounding); identical pairs always get identical logits.
  // Throws InputError if a pair has ids outside the vocab/type tables or is longer than
  // max_position_embeddings.
  std::vector<float> score(const std::vector<EncodedPair>& pairs) const;

  const BertConfig& config() const noexcept { return config_; }
  std::size_t weights_size_bytes() const noexcept { return weights_.loaded_size_bytes(); }

  // Floating-point operations (multiply-add = 2) of the matrix products in score() for a batch
  // of `batch` pairs padded to `seq_len` tokens: the numerator of a GFLOP/s figure.
  static double forward_flops(const BertConfig& config, std::size_t batch, std::size_t seq_len);

 private:
  const float* tensor(const std::string& name, const std::vector<std::size_t>& shape) const;
  Linear linear(const std::string& prefix, std::size_t in_dim, std::size_t out_dim) const;
  LayerNormWeights layer_norm(const std::string& prefix) const;
  void validate(const std::vector<EncodedPair>& pairs) const;
  std::vector<float> forward(const std::vector<EncodedPair>& pairs) const;  // one row per pair
  void embed(const std::vector<EncodedPair>& pairs, std::size_t seq_len, float* hidden) const;
  void run_layer(const EncoderLayer& layer, const std::vector<std::size_t>& lengths, std::size_t seq_len,
                 std::vector<float>& hidden) const;
  void attention(const std::vector<std::size_t>& lengths, std::size_t seq_len, const float* qkv_q,
                 const float* qkv_k, const float* qkv_v, float* context) const;

  BertConfig config_;
  SafetensorsFile weights_;
  const float* word_embeddings_ = nullptr;
  const float* position_embeddings_ = nullptr;
  const float* token_type_embeddings_ = nullptr;
  LayerNormWeights embedding_norm_;
  std::vector<EncoderLayer> layers_;
  Linear pooler_, classifier_;
};

}  // namespace memsoak::scenarios::reranker
