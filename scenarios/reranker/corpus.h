// Deterministic synthetic queries and candidate documents for reranker soaks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harness/splitmix64.h"

namespace memsoak::scenarios::reranker {

struct CorpusQuery {
  std::string query;
  std::vector<std::string> docs;
};

struct Corpus {
  std::vector<CorpusQuery> queries;
};

// Same (seed, n_queries, docs_per_query) -> same corpus, on every platform (own PRNG, no
// std::distribution). Docs mix on-topic and off-topic sentences with capitals, punctuation,
// numbers, derived word forms and an occasional accented or CJK word.
Corpus make_corpus(std::uint64_t seed, std::size_t n_queries, std::size_t docs_per_query);

// A documents file for `memsoak rerank`: one document per line (a final newline is optional;
// "\r\n" endings are accepted). Throws InputError naming the file when it can't be read, holds
// no documents, or is not UTF-8 text (a NUL byte).
std::vector<std::string> read_documents_file(const std::filesystem::path& path);

// The English words the corpus draws from (lowercase); the model generator puts them in vocab.
std::span<const std::string_view> corpus_words();

// Shared by corpus and model generation.
using harness::SplitMix64;

}  // namespace memsoak::scenarios::reranker
