// BERT tokenization (basic + WordPiece) matching Hugging Face BertTokenizer, and pair encoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace memsoak::scenarios::reranker {

// vocab.txt: one token per line, id = line number (HF load_vocab: only "\n" is stripped).
// Must contain [PAD], [UNK], [CLS], [SEP]; duplicate tokens are rejected.
class Vocab {
 public:
  static Vocab load(const std::filesystem::path& path);
  static Vocab from_tokens(std::vector<std::string> tokens, const std::string& label);

  std::optional<std::int32_t> find(std::string_view token) const;
  std::size_t size() const noexcept { return tokens_.size(); }
  const std::string& token(std::int32_t id) const { return tokens_.at(static_cast<std::size_t>(id)); }

  std::int32_t pad_id() const noexcept { return pad_id_; }
  std::int32_t unk_id() const noexcept { return unk_id_; }
  std::int32_t cls_id() const noexcept { return cls_id_; }
  std::int32_t sep_id() const noexcept { return sep_id_; }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, std::int32_t, Hash, std::equal_to<>> ids_;
  std::int32_t pad_id_ = 0, unk_id_ = 0, cls_id_ = 0, sep_id_ = 0;
};

// `[CLS] query [SEP] doc [SEP]`; token_type_ids are 0 through the first [SEP], 1 after.
struct EncodedPair {
  std::vector<std::int32_t> input_ids;
  std::vector<std::int32_t> token_type_ids;
};

// Differences from HF (documented, deliberate): special-token strings such as "[SEP]" inside the
// text are ordinary text, not special tokens; invalid UTF-8 bytes become U+FFFD and are dropped;
// Greek final-sigma lowercasing is not context-sensitive; no NFC pass (only matters when
// do_lower_case is false and input mixes composed/decomposed forms).
class BertTokenizer {
 public:
  static constexpr std::size_t kMaxInputCharsPerWord = 100;

  BertTokenizer(Vocab vocab, bool do_lower_case);

  // Basic tokenization: clean, split CJK/whitespace/punctuation, optional lowercase+strip accents.
  std::vector<std::string> basic_tokenize(std::string_view text) const;
  // Basic + WordPiece, as token strings (e.g. "un", "##aff", "[UNK]").
  std::vector<std::string> tokenize(std::string_view text) const;
  // Basic + WordPiece, as ids, without special tokens.
  std::vector<std::int32_t> encode(std::string_view text) const;
  // Pair encoding truncated "longest_first" to at most max_length tokens (max_length >= 3).
  EncodedPair encode_pair(std::string_view query, std::string_view doc, std::size_t max_length) const;
  EncodedPair build_pair(std::vector<std::int32_t> query_ids, std::vector<std::int32_t> doc_ids,
                         std::size_t max_length) const;

  const Vocab& vocab() const noexcept { return vocab_; }
  bool do_lower_case() const noexcept { return do_lower_case_; }

 private:
  void wordpiece(std::u32string_view word, std::vector<std::int32_t>& out_ids) const;

  Vocab vocab_;
  bool do_lower_case_;
};

}  // namespace memsoak::scenarios::reranker
