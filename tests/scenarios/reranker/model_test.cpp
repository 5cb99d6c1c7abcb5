// Generator, safetensors round trip, ranking order and corpus determinism.
#include <gtest/gtest.h>

#include <cmath>

#include "harness/errors.h"
#include "scenarios/reranker/corpus.h"
#include "scenarios/reranker/model_generate.h"
#include "scenarios/reranker/reranker.h"
#include "scenarios/reranker/safetensors.h"
#include "tests/scenarios/reranker/test_util.h"

namespace memsoak::scenarios::reranker {
namespace {

using testing::TempDir;

class TinyModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    generate_model("tiny", 1, dir_->path() / "tiny");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::filesystem::path model_dir() { return dir_->path() / "tiny"; }
  static TempDir* dir_;
};
TempDir* TinyModel::dir_ = nullptr;

TEST(Generator, SameSeedSameBytesDifferentSeedDifferentWeights) {
  TempDir dir;
  generate_model("tiny", 5, dir.path() / "a");
  generate_model("tiny", 5, dir.path() / "b");
  generate_model("tiny", 6, dir.path() / "c");
  for (const char* file : {"config.json", "vocab.txt", "model.safetensors"}) {
    EXPECT_EQ(testing::read_file(dir.path() / "a" / file), testing::read_file(dir.path() / "b" / file))
        << file;
  }
  EXPECT_NE(testing::read_file(dir.path() / "a/model.safetensors"),
            testing::read_file(dir.path() / "c/model.safetensors"));
}

TEST(Generator, UnknownPresetNamesItAndLeavesNothing) {
  TempDir dir;
  try {
    generate_model("huge", 1, dir.path() / "m");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("\"huge\""), std::string::npos) << e.what();
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(Generator, RefusesExistingDirectoryAndLeavesNoTempFiles) {
  TempDir dir;
  generate_model("tiny", 1, dir.path() / "m");
  EXPECT_THROW(generate_model("tiny", 1, dir.path() / "m"), InputError);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(Generator, MiniLmVocabHasRealSizeAndUniqueSpecials) {
  const auto vocab = generate_vocab(30522);
  ASSERT_EQ(vocab.size(), 30522u);
  EXPECT_EQ(vocab[0], "[PAD]");
  EXPECT_NO_THROW(Vocab::from_tokens(vocab, "generated"));  // also checks no duplicates
}

TEST(Safetensors, F16AndBf16AreWidenedToFloat) {
  TempDir dir;
  // F16 [1.0, -2.0, 2^-24 (subnormal)], BF16 [0.5], and an I64 tensor that is validated only.
  const std::string header =
      R"({"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},)"
      R"("b":{"dtype":"BF16","shape":[1],"data_offsets":[6,8]},)"
      R"("i":{"dtype":"I64","shape":[1],"data_offsets":[8,16]},"__metadata__":{"k":"v"}})";
  std::string bytes(8, '\0');
  bytes[0] = static_cast<char>(header.size());
  bytes += header;
  bytes += std::string("\x00\x3C\x00\xC0\x01\x00\x00\x3F", 8) + std::string(8, '\x07');
  testing::write_file(dir.path() / "m.safetensors", bytes);
  const auto file = SafetensorsFile::load(dir.path() / "m.safetensors");
  ASSERT_NE(file.find("h"), nullptr);
  EXPECT_EQ(file.find("h")->values, (std::vector<float>{1.0f, -2.0f, std::ldexp(1.0f, -24)}));
  EXPECT_EQ(file.find("b")->values, (std::vector<float>{0.5f}));
  EXPECT_EQ(file.find("i"), nullptr);
  EXPECT_EQ(file.header().size(), 3u);
}

TEST_F(TinyModel, RankingIsSortedDeterministicAndTiesGoToLowerIndex) {
  const Reranker reranker(model_dir());
  const std::vector<std::string> docs{"fresh bread from the oven",  "river", "fresh bread from the oven",
                                      "compiler bug in the kernel", "river", "soup"};
  const auto ranked = reranker.rerank("how to bake bread", docs, 10);
  ASSERT_EQ(ranked.size(), docs.size());
  for (std::size_t i = 1; i < ranked.size(); ++i) {
    EXPECT_GE(ranked[i - 1].score, ranked[i].score);
    if (ranked[i - 1].score == ranked[i].score) {
      EXPECT_LT(ranked[i - 1].index, ranked[i].index);
    }
  }
  // Identical documents score identically and keep index order.
  std::vector<std::size_t> pos(docs.size());
  for (std::size_t i = 0; i < ranked.size(); ++i) pos[ranked[i].index] = i;
  EXPECT_EQ(ranked[pos[0]].score, ranked[pos[2]].score);
  EXPECT_EQ(pos[0] + 1, pos[2]);
  EXPECT_EQ(pos[1] + 1, pos[4]);
  const auto again = reranker.rerank("how to bake bread", docs, 10);
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    EXPECT_EQ(again[i].index, ranked[i].index);
    EXPECT_EQ(again[i].score, ranked[i].score);
  }
  const auto top2 = reranker.rerank("how to bake bread", docs, 2);
  ASSERT_EQ(top2.size(), 2u);
  EXPECT_EQ(top2[0].index, ranked[0].index);
  EXPECT_EQ(top2[1].index, ranked[1].index);
  EXPECT_TRUE(reranker.rerank("q", {}, 3).empty());
}

TEST(Ranking, TopKBreaksTiesByIndexAndSortsNanLast) {
  const auto ranked = top_k_ranked({1.0f, 3.0f, NAN, 3.0f, 2.0f}, 4);
  ASSERT_EQ(ranked.size(), 4u);
  EXPECT_EQ(ranked[0].index, 1u);
  EXPECT_EQ(ranked[1].index, 3u);
  EXPECT_EQ(ranked[2].index, 4u);
  EXPECT_EQ(ranked[3].index, 0u);
  EXPECT_EQ(join_ranked(ranked, {"a", "b", "c", "d", "e"}), "b\n\nd\n\ne\n\na");
  EXPECT_TRUE(top_k_ranked({1.0f}, 0).empty());
}

TEST_F(TinyModel, BatchScoresMatchSinglePairScores) {
  const Reranker reranker(model_dir());
  const Corpus corpus = make_corpus(3, 1, 8);
  std::vector<EncodedPair> pairs;
  for (const auto& d : corpus.queries[0].docs) pairs.push_back(reranker.encode(corpus.queries[0].query, d));
  const auto batch = reranker.score(pairs);
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    EXPECT_NEAR(reranker.score({pairs[i]})[0], batch[i], 1e-5) << i;
  }
}

TEST_F(TinyModel, MaxLengthIsCappedByPositionEmbeddings) {
  EXPECT_EQ(Reranker(model_dir(), 100000).max_length(), 128u);
  EXPECT_EQ(Reranker(model_dir(), 16).max_length(), 16u);
  EXPECT_THROW(Reranker(model_dir(), 2), InputError);
  const Reranker reranker(model_dir(), 16);
  EXPECT_EQ(reranker.encode(std::string(500, 'x') + " a b c d e f g h", "z y x w v u t").input_ids.size(),
            16u);
}

TEST(Corpus, IsDeterministicPerSeed) {
  const Corpus a = make_corpus(9, 5, 7), b = make_corpus(9, 5, 7), c = make_corpus(10, 5, 7);
  ASSERT_EQ(a.queries.size(), 5u);
  ASSERT_EQ(a.queries[0].docs.size(), 7u);
  for (std::size_t q = 0; q < 5; ++q) {
    EXPECT_EQ(a.queries[q].query, b.queries[q].query);
    EXPECT_EQ(a.queries[q].docs, b.queries[q].docs);
  }
  EXPECT_NE(a.queries[0].docs, c.queries[0].docs);
}

}  // namespace
}  // namespace memsoak::scenarios::reranker
