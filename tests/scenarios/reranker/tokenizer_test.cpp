// Tokenizer behaviour on a hand-written vocabulary: WordPiece, basic rules, pair truncation.
#include "scenarios/reranker/tokenizer.h"

#include <gtest/gtest.h>

#include "harness/errors.h"
#include "tests/scenarios/reranker/test_util.h"

namespace memsoak::scenarios::reranker {
namespace {

using Tokens = std::vector<std::string>;

BertTokenizer make_tokenizer(bool lower = true) {
  Tokens tokens{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "un",    "##aff", "##able", "a",     "b", "c", "##b",
                "cafe",  "!",     ",",     "中",    "hello", "world", "##s",    "Hello", "é", "ab"};
  return BertTokenizer(Vocab::from_tokens(tokens, "test vocab"), lower);
}

TEST(Tokenizer, WordPieceIsGreedyLongestMatch) {
  const auto tok = make_tokenizer();
  EXPECT_EQ(tok.tokenize("unaffable"), (Tokens{"un", "##aff", "##able"}));
  EXPECT_EQ(tok.tokenize("worlds"), (Tokens{"world", "##s"}));
  EXPECT_EQ(tok.tokenize("abb"), (Tokens{"ab", "##b"}));  // "ab" beats "a" + "##b"
}

TEST(Tokenizer, UnmatchableRemainderMakesWholeWordUnknown) {
  const auto tok = make_tokenizer();
  EXPECT_EQ(tok.tokenize("unaffablez hello"), (Tokens{"[UNK]", "hello"}));
}

TEST(Tokenizer, WordsLongerThan100CharactersAreUnknown) {
  const auto tok = make_tokenizer();
  EXPECT_EQ(tok.tokenize(std::string(100, 'b')).size(), 100u);  // "b" + 99 x "##b"
  EXPECT_EQ(tok.tokenize(std::string(101, 'b')), (Tokens{"[UNK]"}));
}

TEST(Tokenizer, LowercasesStripsAccentsAndSplitsPunctuationAndCjk) {
  const auto tok = make_tokenizer();
  EXPECT_EQ(tok.basic_tokenize("Café,HELLO!!中中x"),
            (Tokens{"cafe", ",", "hello", "!", "!", "中", "中", "x"}));
  EXPECT_EQ(tok.tokenize("CAFÉ"), (Tokens{"cafe"}));
}

TEST(Tokenizer, CasedModeKeepsCaseAndAccents) {
  const auto tok = make_tokenizer(false);
  EXPECT_EQ(tok.basic_tokenize("Café Hello"), (Tokens{"Café", "Hello"}));
  EXPECT_EQ(tok.tokenize("Hello é"), (Tokens{"Hello", "é"}));
}

TEST(Tokenizer, DropsControlCharactersAndNormalizesWhitespace) {
  const auto tok = make_tokenizer();
  const std::string text =
      std::string("he\0llo", 6) + "\x07\t\xE2\x80\x8B" + "world\xEF\xBF\xBD\xC2\xA0" + "a";
  EXPECT_EQ(tok.basic_tokenize(text), (Tokens{"hello", "world", "a"}));
  EXPECT_TRUE(tok.tokenize("").empty());
  EXPECT_TRUE(tok.tokenize(" \n\r\t ").empty());
}

TEST(Tokenizer, InvalidUtf8IsDroppedNotCrashing) {
  const auto tok = make_tokenizer();
  EXPECT_EQ(tok.basic_tokenize("a\xFF\xC0\xAF"
                               "b \xED\xA0\x80 c\xE4"),
            (Tokens{"ab", "c"}));
}

TEST(Tokenizer, PairHasSpecialTokensAndTypeIds) {
  const auto tok = make_tokenizer();
  const auto pair = tok.encode_pair("hello", "world!", 512);
  EXPECT_EQ(pair.input_ids, (std::vector<std::int32_t>{2, 15, 3, 16, 12, 3}));
  EXPECT_EQ(pair.token_type_ids, (std::vector<std::int32_t>{0, 0, 0, 1, 1, 1}));
}

TEST(Tokenizer, LongestFirstTruncationTrimsLongerSideThenDocOnTies) {
  const auto tok = make_tokenizer();
  const std::vector<std::int32_t> q{7, 7, 7, 7, 7, 7};  // 6 query tokens
  const std::vector<std::int32_t> d{8, 8, 8};           // 3 doc tokens
  // 12 tokens, max 8: query trimmed to 3 (now equal), then one more from the doc.
  auto pair = tok.build_pair(q, d, 8);
  EXPECT_EQ(pair.input_ids, (std::vector<std::int32_t>{2, 7, 7, 7, 3, 8, 8, 3}));
  pair = tok.build_pair(q, d, 3);
  EXPECT_EQ(pair.input_ids, (std::vector<std::int32_t>{2, 3, 3}));
  EXPECT_EQ(pair.token_type_ids, (std::vector<std::int32_t>{0, 0, 1}));
  EXPECT_THROW(tok.build_pair(q, d, 2), InputError);
}

TEST(Vocab, LoadsCrlfAndFinalLineWithoutNewline) {
  testing::TempDir dir;
  testing::write_file(dir.path() / "vocab.txt", "[PAD]\r\n[UNK]\r\n[CLS]\n[SEP]\rhello");
  const Vocab vocab = Vocab::load(dir.path() / "vocab.txt");
  EXPECT_EQ(vocab.size(), 5u);
  EXPECT_EQ(vocab.find("hello"), 4);
  EXPECT_EQ(vocab.sep_id(), 3);
}

}  // namespace
}  // namespace memsoak::scenarios::reranker
