// Tokenizer implementation; Unicode data comes from unicode_tables.inc, generated at build time.
#include "scenarios/reranker/tokenizer.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

#include "harness/errors.h"

namespace memsoak::scenarios::reranker {
namespace {

enum class CharClass : std::uint8_t { kOther, kControl, kSpace, kLineSep, kPunct, kMark };
struct ClassRange {
  char32_t first;
  char32_t last;
  CharClass cls;
};
struct MapEntry {
  char32_t cp;
  std::uint32_t offset;
  std::uint32_t length;
};

// Generated into the build tree by gen_unicode_tables.py (see scenarios/CMakeLists.txt).
#include "unicode_tables.inc"

CharClass char_class(char32_t cp) {
  const auto* end = std::end(kCharClassRanges);
  const auto* it = std::upper_bound(std::begin(kCharClassRanges), end, cp,
                                    [](char32_t c, const ClassRange& r) { return c < r.first; });
  if (it == std::begin(kCharClassRanges)) return CharClass::kOther;
  --it;
  return cp <= it->last ? it->cls : CharClass::kOther;
}

// Appends the mapping of cp (or cp itself when unmapped) from a generated map/pool pair.
template <std::size_t N, std::size_t P>
void append_mapped(char32_t cp, const MapEntry (&map)[N], const char32_t (&pool)[P], std::u32string& out) {
  const auto* it = std::lower_bound(std::begin(map), std::end(map), cp,
                                    [](const MapEntry& e, char32_t c) { return e.cp < c; });
  if (it == std::end(map) || it->cp != cp) {
    out.push_back(cp);
    return;
  }
  out.append(pool + it->offset, it->length);
}

void append_nfd(char32_t cp, std::u32string& out) {
  constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
  constexpr char32_t kTCount = 28, kNCount = 588, kSCount = 11172;
  if (cp >= kSBase && cp < kSBase + kSCount) {  // Hangul syllable: algorithmic decomposition
    const char32_t s = cp - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
    return;
  }
  append_mapped(cp, kNfdMap, kNfdPool, out);
}

bool is_cjk(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// Decodes UTF-8; malformed sequences, overlongs and surrogates become U+FFFD.
std::u32string decode_utf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    const std::size_t len = b0 < 0x80           ? 1
                            : (b0 >> 5) == 0x6  ? 2
                            : (b0 >> 4) == 0xE  ? 3
                            : (b0 >> 3) == 0x1E ? 4
                                                : 0;
    if (len == 0 || i + len > text.size()) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    char32_t cp = len == 1 ? b0 : (b0 & (0x7Fu >> len));
    bool ok = true;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      ok = ok && (b & 0xC0) == 0x80;
      cp = (cp << 6) | (b & 0x3F);
    }
    constexpr char32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (!ok || cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

void append_utf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string to_utf8(std::u32string_view text) {
  std::string out;
  for (char32_t cp : text) append_utf8(cp, out);
  return out;
}

// HF _clean_text + _tokenize_chinese_chars + whitespace_tokenize in one pass.
std::vector<std::u32string> split_whitespace_and_cjk(std::u32string_view text) {
  std::vector<std::u32string> words;
  std::u32string current;
  auto flush = [&] {
    if (!current.empty()) words.push_back(std::move(current));
    current.clear();
  };
  for (char32_t cp : text) {
    if (cp == 0 || cp == 0xFFFD) continue;
    const CharClass cls = char_class(cp);
    if (cls == CharClass::kControl) continue;
    if (cls == CharClass::kSpace || cls == CharClass::kLineSep) {
      flush();
    } else if (is_cjk(cp)) {
      flush();
      words.emplace_back(1, cp);
    } else {
      current.push_back(cp);
    }
  }
  flush();
  return words;
}

std::u32string lower_and_strip_accents(std::u32string_view word) {
  std::u32string lowered, decomposed, out;
  for (char32_t cp : word) append_mapped(cp, kLowerMap, kLowerPool, lowered);
  for (char32_t cp : lowered) append_nfd(cp, decomposed);
  std::copy_if(decomposed.begin(), decomposed.end(), std::back_inserter(out),
               [](char32_t cp) { return char_class(cp) != CharClass::kMark; });
  return out;
}

// HF _run_split_on_punc: every punctuation character becomes its own token.
void split_on_punctuation(std::u32string_view word, std::vector<std::u32string>& out) {
  std::u32string current;
  for (char32_t cp : word) {
    if (char_class(cp) == CharClass::kPunct) {
      if (!current.empty()) out.push_back(std::move(current));
      current.clear();
      out.emplace_back(1, cp);
    } else {
      current.push_back(cp);
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
}

std::vector<std::u32string> basic_tokenize_u32(std::string_view text, bool do_lower_case) {
  std::vector<std::u32string> tokens;
  for (const auto& word : split_whitespace_and_cjk(decode_utf8(text))) {
    if (do_lower_case) {
      split_on_punctuation(lower_and_strip_accents(word), tokens);
    } else {
      split_on_punctuation(word, tokens);
    }
  }
  return tokens;
}

[[noreturn]] void fail(const std::string& label, const std::string& problem) {
  throw InputError(label + ": " + problem);
}

}  // namespace

Vocab Vocab::from_tokens(std::vector<std::string> tokens, const std::string& label) {
  Vocab vocab;
  vocab.tokens_ = std::move(tokens);
  if (vocab.tokens_.size() > static_cast<std::size_t>(INT32_MAX)) fail(label, "too many tokens");
  for (std::size_t i = 0; i < vocab.tokens_.size(); ++i) {
    if (!vocab.ids_.emplace(vocab.tokens_[i], static_cast<std::int32_t>(i)).second) {
      fail(label, "duplicate token \"" + vocab.tokens_[i] + "\" on line " + std::to_string(i + 1));
    }
  }
  auto require = [&](const char* token) {
    const auto id = vocab.find(token);
    if (!id) fail(label, std::string("missing special token ") + token);
    return *id;
  };
  vocab.pad_id_ = require("[PAD]");
  vocab.unk_id_ = require("[UNK]");
  vocab.cls_id_ = require("[CLS]");
  vocab.sep_id_ = require("[SEP]");
  return vocab;
}

Vocab Vocab::load(const std::filesystem::path& path) {
  // A FIFO would block the read for ever and /dev/zero never ends: only a regular file of a
  // plausible size (the largest Hugging Face vocabularies are a few MiB) is read.
  constexpr std::uintmax_t kMaxVocabBytes = std::uintmax_t{64} << 20;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    fail(path.string(), "cannot open (missing or not a regular file)");
  const std::uintmax_t size_bytes = std::filesystem::file_size(path, ec);
  if (ec) fail(path.string(), "cannot open (" + ec.message() + ")");
  if (size_bytes > kMaxVocabBytes) {
    fail(path.string(), std::to_string(size_bytes) + " bytes is too large for a vocabulary (at most 64 MiB)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string(), "cannot open");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  // Python universal newlines (what HF load_vocab uses): "\n", "\r\n" and "\r" end a line.
  std::vector<std::string> tokens;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\r') continue;
    tokens.emplace_back(text, start, i - start);
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < text.size()) tokens.emplace_back(text, start);
  return from_tokens(std::move(tokens), path.string());
}

std::optional<std::int32_t> Vocab::find(std::string_view token) const {
  const auto it = ids_.find(token);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

BertTokenizer::BertTokenizer(Vocab vocab, bool do_lower_case)
    : vocab_(std::move(vocab)), do_lower_case_(do_lower_case) {}

std::vector<std::string> BertTokenizer::basic_tokenize(std::string_view text) const {
  std::vector<std::string> out;
  for (const auto& token : basic_tokenize_u32(text, do_lower_case_)) out.push_back(to_utf8(token));
  return out;
}

void BertTokenizer::wordpiece(std::u32string_view word, std::vector<std::int32_t>& out_ids) const {
  if (word.size() > kMaxInputCharsPerWord) {
    out_ids.push_back(vocab_.unk_id());
    return;
  }
  // byte_offsets[i] = offset of character i in the UTF-8 form, so substrings are slices.
  std::string utf8;
  std::vector<std::size_t> byte_offsets;
  for (char32_t cp : word) {
    byte_offsets.push_back(utf8.size());
    append_utf8(cp, utf8);
  }
  byte_offsets.push_back(utf8.size());
  const std::size_t first_piece = out_ids.size();
  std::string candidate;
  for (std::size_t start = 0; start < word.size();) {
    std::size_t end = word.size();
    std::optional<std::int32_t> piece;
    for (; end > start; --end) {
      candidate.assign(start > 0 ? "##" : "");
      candidate.append(utf8, byte_offsets[start], byte_offsets[end] - byte_offsets[start]);
      if ((piece = vocab_.find(candidate))) break;
    }
    if (!piece) {  // any unmatchable remainder makes the whole word [UNK]
      out_ids.resize(first_piece);
      out_ids.push_back(vocab_.unk_id());
      return;
    }
    out_ids.push_back(*piece);
    start = end;
  }
}

std::vector<std::int32_t> BertTokenizer::encode(std::string_view text) const {
  std::vector<std::int32_t> ids;
  for (const auto& token : basic_tokenize_u32(text, do_lower_case_)) wordpiece(token, ids);
  return ids;
}

std::vector<std::string> BertTokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> out;
  for (std::int32_t id : encode(text)) out.push_back(vocab_.token(id));
  return out;
}

EncodedPair BertTokenizer::build_pair(std::vector<std::int32_t> query_ids, std::vector<std::int32_t> doc_ids,
                                      std::size_t max_length) const {
  if (max_length < 3)
    throw InputError("reranker max_length must be at least 3, got " + std::to_string(max_length));
  // HF longest_first: drop one token at a time from the longer side; ties drop from the doc.
  while (query_ids.size() + doc_ids.size() + 3 > max_length) {
    if (query_ids.size() > doc_ids.size()) {
      query_ids.pop_back();
    } else {
      doc_ids.pop_back();
    }
  }
  EncodedPair pair;
  pair.input_ids.reserve(query_ids.size() + doc_ids.size() + 3);
  pair.input_ids.push_back(vocab_.cls_id());
  pair.input_ids.insert(pair.input_ids.end(), query_ids.begin(), query_ids.end());
  pair.input_ids.push_back(vocab_.sep_id());
  pair.token_type_ids.assign(pair.input_ids.size(), 0);
  pair.input_ids.insert(pair.input_ids.end(), doc_ids.begin(), doc_ids.end());
  pair.input_ids.push_back(vocab_.sep_id());
  pair.token_type_ids.resize(pair.input_ids.size(), 1);
  return pair;
}

EncodedPair BertTokenizer::encode_pair(std::string_view query, std::string_view doc,
                                       std::size_t max_length) const {
  return build_pair(encode(query), encode(doc), max_length);
}

}  // namespace memsoak::scenarios::reranker
