// Randomly damaged model files and random bytes as text: InputError or success, never a crash.
#include <gtest/gtest.h>

#include "harness/errors.h"
#include "scenarios/reranker/corpus.h"
#include "scenarios/reranker/model_generate.h"
#include "scenarios/reranker/reranker.h"
#include "tests/scenarios/reranker/test_util.h"

namespace memsoak::scenarios::reranker {
namespace {

using testing::TempDir;

// Run under -fsanitize=address,undefined to turn silent out-of-bounds reads into failures.
TEST(Robustness, DamagedSafetensorsFailCleanly) {
  TempDir dir;
  const auto model = dir.path() / "m";
  generate_model("tiny", 2, model);
  const std::string pristine = testing::read_file(model / "model.safetensors");
  std::size_t header_end = 8;
  for (std::size_t i = 0; i < 8; ++i)
    header_end += static_cast<std::size_t>(static_cast<unsigned char>(pristine[i])) << (8 * i);
  SplitMix64 rng(77);
  int loaded = 0, rejected = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string bytes = pristine;
    switch (trial % 3) {
      case 0:  // flip bytes in the length prefix or header
        for (int k = 0; k < 3; ++k) bytes[rng.below(header_end)] = static_cast<char>(rng.next());
        break;
      case 1:  // truncate anywhere
        bytes.resize(rng.below(bytes.size()));
        break;
      default:  // replace a header character with JSON punctuation
        bytes[8 + rng.below(header_end - 8)] = "{}[]\",:0-9e"[rng.below(11)];
    }
    testing::write_file(model / "model.safetensors", bytes);
    try {
      const Reranker reranker(model);
      reranker.rerank("bread oven", {"fresh bread", "river bank"}, 2);
      ++loaded;
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 150);  // nearly every damaged file must be noticed
  EXPECT_EQ(loaded + rejected, 300);
}

TEST(Robustness, RandomBytesTokenizeToValidIds) {
  TempDir dir;
  generate_model("tiny", 2, dir.path() / "m");
  const Reranker reranker(dir.path() / "m", 64);
  SplitMix64 rng(5);
  for (int trial = 0; trial < 300; ++trial) {
    std::string text(rng.below(200), '\0');
    for (char& c : text) c = static_cast<char>(rng.next());
    const auto pair = reranker.encode(text, text.substr(text.size() / 2));
    ASSERT_LE(pair.input_ids.size(), 64u);
    for (std::int32_t id : pair.input_ids) {
      ASSERT_GE(id, 0);
      ASSERT_LT(static_cast<std::size_t>(id), reranker.config().vocab_size);
    }
  }
}

}  // namespace
}  // namespace memsoak::scenarios::reranker
