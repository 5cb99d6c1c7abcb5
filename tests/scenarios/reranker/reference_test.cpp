// Cross-checks tokenizer output and logits against the independent numpy reference (reference.py).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scenarios/reranker/corpus.h"
#include "scenarios/reranker/model_generate.h"
#include "scenarios/reranker/reranker.h"
#include "tests/scenarios/reranker/test_util.h"

namespace memsoak::scenarios::reranker {
namespace {

using nlohmann::json;
using testing::TempDir;

// Strings chosen to hit every tokenizer rule; ASCII escapes keep the source readable.
std::vector<std::string> awkward_texts() {
  return {
      "Hello, world!!! ...?! (yes) [no] {maybe} <tag> a--b",
      "Café naïve résumé Zürich Ångström",
      "e\u0301 decomposed, \u212B angstrom sign, \u0130stanbul",
      "中文字符和日本語のテキスト mixed中文text",
      "\U0001F600\U0001F44D\U0001F3FD emoji \u2764\uFE0F hearts",
      "unbelievablyxyzzy qwertyuiop cooking recipes tested",
      std::string(300, 'a'),
      std::string(100, 'b') + " " + std::string(101, 'c'),
      "",
      "   \t\n  ",
      std::string("ctrl") + '\0' + "chars\x07here\x1b[0m\xEF\xBF\xBDgone",
      "tab\tnew\nline\r\nnbsp\u00A0ideo\u3000space\u2028line\u2029para",
      "zero\u200Bwidth a\u200Db soft\u00ADhyphen",
      "don't U.S.A. e-mail $100.00 50% #hashtag @user ~tilde^ `tick` _under_ |pipe|",
      "\u201Cquotes\u201D \u2014 dash \u2026 ellipsis \u00BFqu\u00E9? \u00A1s\u00ED! \u00AB\u00BB",
      "ＡＢＣ fullwidth ﬁ ligature Straße \u01C4 digraph",
      "\uD55C\uAD6D\uC5B4 \uD14D\uC2A4\uD2B8",  // Hangul syllables: NFD to jamo when lowercasing
      "हिन्दी मराठी ไทย สวัสดี مرحبا שָׁלוֹם",
      "Ti\u1EBFng Vi\u1EC7t c\u00F3 d\u1EA5u",
      "[CLS] [SEP] [UNK] inside text",
      "x",
      "12345 3.14159 1,000,000",
  };
}

std::vector<std::pair<std::string, std::string>> reference_pairs() {
  std::vector<std::pair<std::string, std::string>> pairs;
  const Corpus corpus = make_corpus(7, 6, 4);
  for (const auto& q : corpus.queries) {
    for (const auto& d : q.docs) pairs.emplace_back(q.query, d);
  }
  const auto texts = awkward_texts();
  for (std::size_t i = 0; i + 1 < texts.size(); i += 2) pairs.emplace_back(texts[i], texts[i + 1]);
  std::string long_doc;
  for (int i = 0; i < 80; ++i) long_doc += "the quick bread oven recipe garden soil ";
  pairs.emplace_back("short query", long_doc);
  pairs.emplace_back(long_doc, "short doc");
  pairs.emplace_back(long_doc, long_doc + " tail");
  pairs.emplace_back("", "");
  return pairs;
}

json run_reference(const std::filesystem::path& model_dir, std::size_t max_length,
                   const std::vector<std::string>& texts,
                   const std::vector<std::pair<std::string, std::string>>& pairs,
                   const std::filesystem::path& work_dir) {
  json request = {{"model_dir", model_dir.string()}, {"max_length", max_length}, {"texts", texts}};
  request["pairs"] = json::array();
  for (const auto& [q, d] : pairs) request["pairs"].push_back({q, d});
  const auto in_path = work_dir / "request.json", out_path = work_dir / "response.json";
  testing::write_file(in_path, request.dump());
  const std::string command = std::string(MEMSOAK_PYTHON3) + " " + MEMSOAK_RERANKER_REFERENCE_PY + " '" +
                              in_path.string() + "' '" + out_path.string() + "'";
  const int status = std::system(command.c_str());
  EXPECT_EQ(status, 0) << command;
  return json::parse(testing::read_file(out_path));
}

struct Case {
  const char* preset;
  std::size_t max_length;
  bool lower_case;
};

void PrintTo(const Case& c, std::ostream* out) {
  *out << c.preset << " max_length=" << c.max_length << (c.lower_case ? " uncased" : " cased");
}

class ReferenceTest : public ::testing::TestWithParam<Case> {};

TEST_P(ReferenceTest, TokensAndLogitsMatchNumpyReference) {
  const Case c = GetParam();
  TempDir dir;
  const auto model_dir = dir.path() / "model";
  generate_model(c.preset, 42, model_dir);
  if (!c.lower_case) testing::write_file(model_dir / "tokenizer_config.json", R"({"do_lower_case": false})");
  const auto texts = awkward_texts();
  const auto pairs = reference_pairs();
  const json expected = run_reference(model_dir, c.max_length, texts, pairs, dir.path());

  const Reranker reranker(model_dir, c.max_length);
  ASSERT_EQ(reranker.tokenizer().do_lower_case(), c.lower_case);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(reranker.tokenizer().basic_tokenize(texts[i]),
              expected["basic"][i].get<std::vector<std::string>>())
        << "text #" << i << ": " << texts[i];
    EXPECT_EQ(reranker.tokenizer().encode(texts[i]), expected["ids"][i].get<std::vector<std::int32_t>>())
        << "text #" << i << ": " << texts[i];
  }
  std::vector<EncodedPair> encoded;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    encoded.push_back(reranker.encode(pairs[i].first, pairs[i].second));
    EXPECT_EQ(encoded.back().input_ids, expected["pair_ids"][i].get<std::vector<std::int32_t>>())
        << "pair #" << i;
    EXPECT_EQ(encoded.back().token_type_ids, expected["pair_types"][i].get<std::vector<std::int32_t>>())
        << "pair #" << i;
    EXPECT_LE(encoded.back().input_ids.size(), reranker.max_length());
  }
  // All pairs in one padded batch: also checks that padding is masked out.
  const std::vector<float> logits = reranker.score(encoded);
  ASSERT_EQ(logits.size(), pairs.size());
  float min_logit = logits[0], max_logit = logits[0];
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    EXPECT_NEAR(logits[i], expected["logits"][i].get<double>(), 1e-4) << "pair #" << i;
    min_logit = std::min(min_logit, logits[i]);
    max_logit = std::max(max_logit, logits[i]);
  }
  EXPECT_GT(max_logit - min_logit, 0.1f) << "logits should vary between documents";
}

INSTANTIATE_TEST_SUITE_P(Presets, ReferenceTest,
                         ::testing::Values(Case{"tiny", 512, true}, Case{"tiny", 24, true},
                                           Case{"tiny", 64, false}, Case{"small", 512, true}),
                         [](const auto& param_info) {
                           return std::string(param_info.param.preset == std::string("tiny") ? "Tiny"
                                                                                             : "Small") +
                                  "MaxLen" + std::to_string(param_info.param.max_length) +
                                  (param_info.param.lower_case ? "Uncased" : "Cased");
                         });

}  // namespace
}  // namespace memsoak::scenarios::reranker
