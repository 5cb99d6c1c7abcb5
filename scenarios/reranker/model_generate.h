// Writes synthetic BERT cross-encoder model directories (config, vocab, float32 weights).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/reranker/config.h"

namespace memsoak::scenarios::reranker {

// Preset shapes: "tiny", "small", "minilm-l6" (the ms-marco-MiniLM-L-6-v2 shape).
// Throws InputError naming an unknown preset.
BertConfig preset_config(std::string_view preset);

// The deterministic vocabulary for a vocab size: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4,
// ASCII characters, "##" letters/digits, accented and CJK characters, the corpus words,
// "##" suffixes, then generated syllable pieces up to vocab_size.
std::vector<std::string> generate_vocab(std::size_t vocab_size);

// Writes config.json, vocab.txt, model.safetensors into out_dir. Same (preset, seed) -> same
// bytes. Weights: embeddings N(0, 0.02); dense layers N(0, 1/sqrt(fan_in)) rather than BERT's
// 0.02 so that a randomly initialized model still gives logits that differ by O(1) between
// documents; LayerNorm gamma 1 + N(0, 0.05), beta and biases N(0, 0.02).
// Atomic: files go to a sibling temp directory renamed to out_dir at the end; on failure
// nothing is left. out_dir must not exist yet (InputError otherwise).
void generate_model(std::string_view preset, std::uint64_t seed, const std::filesystem::path& out_dir);

}  // namespace memsoak::scenarios::reranker
