// Encoder forward pass: every matrix product is a cblas_sgemm; loops only for elementwise work.
#include "scenarios/reranker/encoder.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "harness/errors.h"

namespace memsoak::scenarios::reranker {
namespace {

// Added to scores of padded keys; exp() of it underflows to exactly 0 like HF's finfo.min mask.
constexpr float kMaskedScore = -1e9f;

std::string shape_string(const std::vector<std::size_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

// out[rows, out_dim] = in[rows, in_dim] (row stride lda) * W^T + b.
void apply_linear(const Linear& w, const float* in, std::size_t rows, std::size_t lda, float* out) {
  for (std::size_t r = 0; r < rows; ++r) std::copy_n(w.bias, w.out_dim, out + r * w.out_dim);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), static_cast<int>(w.out_dim),
              static_cast<int>(w.in_dim), 1.0f, in, static_cast<int>(lda), w.weight,
              static_cast<int>(w.in_dim), 1.0f, out, static_cast<int>(w.out_dim));
}

// In place: x = LayerNorm(x + residual) over rows of width `width`.
void add_and_norm(float* x, const float* residual, std::size_t rows, std::size_t width,
                  const LayerNormWeights& ln, float eps) {
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = x + r * width;
    if (residual != nullptr) {
      for (std::size_t c = 0; c < width; ++c) row[c] += residual[r * width + c];
    }
    double mean = 0.0;
    for (std::size_t c = 0; c < width; ++c) mean += row[c];
    mean /= static_cast<double>(width);
    double variance = 0.0;
    for (std::size_t c = 0; c < width; ++c) variance += (row[c] - mean) * (row[c] - mean);
    variance /= static_cast<double>(width);
    const double inv_std = 1.0 / std::sqrt(variance + eps);
    for (std::size_t c = 0; c < width; ++c) {
      row[c] = static_cast<float>((row[c] - mean) * inv_std) * ln.gamma[c] + ln.beta[c];
    }
  }
}

void softmax_row(float* row, std::size_t n) {
  const float max = *std::max_element(row, row + n);
  float sum = 0.0f;
  for (std::size_t j = 0; j < n; ++j) sum += (row[j] = std::exp(row[j] - max));
  for (std::size_t j = 0; j < n; ++j) row[j] /= sum;
}

}  // namespace

const float* BertEncoder::tensor(const std::string& name, const std::vector<std::size_t>& shape) const {
  const auto& header = weights_.header();
  auto it = header.find(name);
  if (it == header.end() && name.ends_with("LayerNorm.weight")) {
    it = header.find(name.substr(0, name.size() - 6) + "gamma");
  } else if (it == header.end() && name.ends_with("LayerNorm.bias")) {
    it = header.find(name.substr(0, name.size() - 4) + "beta");
  }
  if (it == header.end()) throw InputError(weights_.label() + ": missing tensor \"" + name + "\"");
  if (!is_float_dtype(it->second.dtype)) {
    throw InputError(weights_.label() + ": tensor \"" + it->first + "\" has dtype " +
                     std::string(dtype_name(it->second.dtype)) + ", expected F32");
  }
  if (it->second.shape != shape) {
    throw InputError(weights_.label() + ": tensor \"" + it->first + "\" has shape " +
                     shape_string(it->second.shape) + " but config.json implies " + shape_string(shape));
  }
  return weights_.find(it->first)->values.data();
}

Linear BertEncoder::linear(const std::string& prefix, std::size_t in_dim, std::size_t out_dim) const {
  return Linear{tensor(prefix + ".weight", {out_dim, in_dim}), tensor(prefix + ".bias", {out_dim}), in_dim,
                out_dim};
}

LayerNormWeights BertEncoder::layer_norm(const std::string& prefix) const {
  return {tensor(prefix + ".weight", {config_.hidden_size}), tensor(prefix + ".bias", {config_.hidden_size})};
}

BertEncoder::BertEncoder(const BertConfig& config, SafetensorsFile weights)
    : config_(config), weights_(std::move(weights)) {
  const std::size_t h = config.hidden_size, inter = config.intermediate_size;
  word_embeddings_ = tensor("bert.embeddings.word_embeddings.weight", {config.vocab_size, h});
  position_embeddings_ =
      tensor("bert.embeddings.position_embeddings.weight", {config.max_position_embeddings, h});
  token_type_embeddings_ =
      tensor("bert.embeddings.token_type_embeddings.weight", {config.type_vocab_size, h});
  embedding_norm_ = layer_norm("bert.embeddings.LayerNorm");
  for (std::size_t i = 0; i < config.num_hidden_layers; ++i) {
    const std::string p = "bert.encoder.layer." + std::to_string(i) + ".";
    layers_.push_back(
        EncoderLayer{linear(p + "attention.self.query", h, h), linear(p + "attention.self.key", h, h),
                     linear(p + "attention.self.value", h, h), linear(p + "attention.output.dense", h, h),
                     layer_norm(p + "attention.output.LayerNorm"), linear(p + "intermediate.dense", h, inter),
                     linear(p + "output.dense", inter, h), layer_norm(p + "output.LayerNorm")});
  }
  pooler_ = linear("bert.pooler.dense", h, h);
  classifier_ = linear("classifier", h, 1);
}

void BertEncoder::validate(const std::vector<EncodedPair>& pairs) const {
  for (const auto& pair : pairs) {
    if (pair.input_ids.empty() || pair.input_ids.size() != pair.token_type_ids.size() ||
        pair.input_ids.size() > config_.max_position_embeddings) {
      throw InputError("reranker: encoded pair of " + std::to_string(pair.input_ids.size()) +
                       " tokens does not fit max_position_embeddings " +
                       std::to_string(config_.max_position_embeddings));
    }
    for (std::size_t t = 0; t < pair.input_ids.size(); ++t) {
      if (pair.input_ids[t] < 0 || static_cast<std::size_t>(pair.input_ids[t]) >= config_.vocab_size ||
          pair.token_type_ids[t] < 0 ||
          static_cast<std::size_t>(pair.token_type_ids[t]) >= config_.type_vocab_size) {
        throw InputError("reranker: token id " + std::to_string(pair.input_ids[t]) +
                         " or type id outside the model's embedding tables");
      }
    }
  }
}

void BertEncoder::embed(const std::vector<EncodedPair>& pairs, std::size_t seq_len, float* hidden) const {
  const std::size_t h = config_.hidden_size;
  for (std::size_t b = 0; b < pairs.size(); ++b) {
    const auto& pair = pairs[b];
    for (std::size_t t = 0; t < seq_len; ++t) {
      const bool real = t < pair.input_ids.size();  // padding: [PAD] id, type 0, like HF
      const auto id = static_cast<std::size_t>(real ? pair.input_ids[t] : 0);
      const auto type = static_cast<std::size_t>(real ? pair.token_type_ids[t] : 0);
      float* row = hidden + (b * seq_len + t) * h;
      for (std::size_t c = 0; c < h; ++c) {
        row[c] = word_embeddings_[id * h + c] + position_embeddings_[t * h + c] +
                 token_type_embeddings_[type * h + c];
      }
    }
  }
  add_and_norm(hidden, nullptr, pairs.size() * seq_len, h, embedding_norm_, config_.layer_norm_eps);
}

void BertEncoder::attention(const std::vector<std::size_t>& lengths, std::size_t seq_len, const float* q,
                            const float* k, const float* v, float* context) const {
  const std::size_t h = config_.hidden_size, dh = config_.head_size();
  const int n = static_cast<int>(seq_len), d = static_cast<int>(dh), ld = static_cast<int>(h);
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  std::vector<float> scores(seq_len * seq_len);
  for (std::size_t b = 0; b < lengths.size(); ++b) {
    for (std::size_t head = 0; head < config_.num_attention_heads; ++head) {
      const std::size_t offset = b * seq_len * h + head * dh;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, d, scale, q + offset, ld, k + offset, ld,
                  0.0f, scores.data(), n);
      for (std::size_t i = 0; i < seq_len; ++i) {
        float* row = scores.data() + i * seq_len;
        for (std::size_t j = lengths[b]; j < seq_len; ++j) row[j] += kMaskedScore;
        softmax_row(row, seq_len);
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, d, n, 1.0f, scores.data(), n, v + offset, ld,
                  0.0f, context + offset, ld);
    }
  }
}

void BertEncoder::run_layer(const EncoderLayer& layer, const std::vector<std::size_t>& lengths,
                            std::size_t seq_len, std::vector<float>& hidden) const {
  const std::size_t h = config_.hidden_size, rows = lengths.size() * seq_len;
  std::vector<float> q(rows * h), k(rows * h), v(rows * h), context(rows * h), attended(rows * h);
  apply_linear(layer.query, hidden.data(), rows, h, q.data());
  apply_linear(layer.key, hidden.data(), rows, h, k.data());
  apply_linear(layer.value, hidden.data(), rows, h, v.data());
  attention(lengths, seq_len, q.data(), k.data(), v.data(), context.data());
  apply_linear(layer.attention_output, context.data(), rows, h, attended.data());
  add_and_norm(attended.data(), hidden.data(), rows, h, layer.attention_norm, config_.layer_norm_eps);
  std::vector<float> inter(rows * config_.intermediate_size);
  apply_linear(layer.intermediate, attended.data(), rows, h, inter.data());
  for (float& x : inter) x = 0.5f * x * (1.0f + std::erf(x * static_cast<float>(M_SQRT1_2)));
  apply_linear(layer.output, inter.data(), rows, config_.intermediate_size, hidden.data());
  add_and_norm(hidden.data(), attended.data(), rows, h, layer.output_norm, config_.layer_norm_eps);
}

std::vector<float> BertEncoder::score(const std::vector<EncodedPair>& pairs) const {
  if (pairs.empty()) return {};
  validate(pairs);
  // Identical pairs share one batch row: OpenBLAS rounds a row differently depending on where it
  // falls in the GEMM's blocking (last-bit differences), and identical documents must tie
  // exactly so that ties break by document index.
  auto less = [](const EncodedPair* a, const EncodedPair* b) {
    return std::tie(a->input_ids, a->token_type_ids) < std::tie(b->input_ids, b->token_type_ids);
  };
  std::map<const EncodedPair*, std::size_t, decltype(less)> row_of(less);
  std::vector<EncodedPair> unique;
  std::vector<std::size_t> rows;
  for (const auto& pair : pairs) {
    const auto [it, inserted] = row_of.emplace(&pair, unique.size());
    if (inserted) unique.push_back(pair);
    rows.push_back(it->second);
  }
  const std::vector<float> unique_logits = forward(unique);
  std::vector<float> logits;
  for (std::size_t row : rows) logits.push_back(unique_logits[row]);
  return logits;
}

std::vector<float> BertEncoder::forward(const std::vector<EncodedPair>& pairs) const {
  std::vector<std::size_t> lengths;
  for (const auto& pair : pairs) lengths.push_back(pair.input_ids.size());
  const std::size_t seq_len = *std::max_element(lengths.begin(), lengths.end());
  const std::size_t h = config_.hidden_size, batch = pairs.size();
  std::vector<float> hidden(batch * seq_len * h);
  embed(pairs, seq_len, hidden.data());
  for (const auto& layer : layers_) run_layer(layer, lengths, seq_len, hidden);
  // Pooler reads each pair's [CLS] row: row stride seq_len * h skips the other positions.
  std::vector<float> pooled(batch * h);
  apply_linear(pooler_, hidden.data(), batch, seq_len * h, pooled.data());
  for (float& x : pooled) x = std::tanh(x);
  std::vector<float> logits(batch);
  apply_linear(classifier_, pooled.data(), batch, h, logits.data());
  return logits;
}

double BertEncoder::forward_flops(const BertConfig& c, std::size_t batch, std::size_t seq_len) {
  const double rows = static_cast<double>(batch * seq_len), h = static_cast<double>(c.hidden_size);
  const double inter = static_cast<double>(c.intermediate_size), n = static_cast<double>(seq_len);
  const double per_layer = 2.0 * rows * h * h * 4.0                               // Q, K, V, attention output
                           + 2.0 * rows * h * inter * 2.0                         // intermediate + output
                           + 2.0 * static_cast<double>(batch) * n * n * h * 2.0;  // QK^T and PV
  return per_layer * static_cast<double>(c.num_hidden_layers) +
         2.0 * static_cast<double>(batch) * h * (h + 1.0);
}

}  // namespace memsoak::scenarios::reranker
