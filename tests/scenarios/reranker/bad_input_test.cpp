// Every malformed model file must fail as a one-line InputError naming the file and the problem.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "harness/errors.h"
#include "scenarios/reranker/model_generate.h"
#include "scenarios/reranker/reranker.h"
#include "tests/scenarios/reranker/test_util.h"

namespace memsoak::scenarios::reranker {
namespace {

using nlohmann::json;
using testing::TempDir;

class BadInput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pristine_ = new TempDir();
    generate_model("tiny", 3, pristine_->path() / "m");
  }
  static void TearDownTestSuite() {
    delete pristine_;
    pristine_ = nullptr;
  }
  void SetUp() override {
    model_ = work_.path() / "m";
    std::filesystem::copy(pristine_->path() / "m", model_);
    const std::string bytes = testing::read_file(model_ / "model.safetensors");
    std::uint64_t header_size = 0;
    for (std::size_t i = 8; i-- > 0;) header_size = (header_size << 8) | static_cast<unsigned char>(bytes[i]);
    header_ = json::parse(bytes.substr(8, header_size));
    data_ = bytes.substr(8 + header_size);
  }

  // Writes model.safetensors with the given header text and the original data section.
  void write_safetensors(const std::string& header_text, const std::string& data) {
    std::string bytes(8, '\0');
    for (std::size_t i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header_text.size() >> (8 * i)) & 0xFF);
    testing::write_file(model_ / "model.safetensors", bytes + header_text + data);
  }
  void edit_header(const std::function<void(json&)>& edit) {
    edit(header_);
    write_safetensors(header_.dump(), data_);
  }
  void edit_config(const std::function<void(json&)>& edit) {
    json config = json::parse(testing::read_file(model_ / "config.json"));
    edit(config);
    testing::write_file(model_ / "config.json", config.dump());
  }

  // Loading must throw InputError with a one-line message naming `file` and containing `problem`.
  void expect_load_error(const std::string& file, const std::string& problem) {
    try {
      Reranker reranker(model_);
      ADD_FAILURE() << "loaded without error; expected a problem with " << file;
    } catch (const InputError& e) {
      const std::string message = e.what();
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      EXPECT_NE(message.find(file), std::string::npos) << message;
      EXPECT_NE(message.find(problem), std::string::npos) << message;
    }
  }

  static TempDir* pristine_;
  TempDir work_;
  std::filesystem::path model_;
  json header_;
  std::string data_;
};
TempDir* BadInput::pristine_ = nullptr;

TEST_F(BadInput, PristineModelLoads) { EXPECT_NO_THROW(Reranker{model_}); }

TEST_F(BadInput, TruncatedData) {
  write_safetensors(header_.dump(), data_.substr(0, data_.size() / 2));
  expect_load_error("model.safetensors", "outside");
}

TEST_F(BadInput, FileShorterThanLengthPrefix) {
  testing::write_file(model_ / "model.safetensors", "\x10\x00\x00");
  expect_load_error("model.safetensors", "truncated");
}

TEST_F(BadInput, HeaderLengthBeyondFile) {
  testing::write_file(model_ / "model.safetensors", std::string("\xff\xff\xff\xff\x00\x00\x00\x00{}", 10));
  expect_load_error("model.safetensors", "past the end");
}

TEST_F(BadInput, HeaderIsNotJson) {
  write_safetensors("{\"a\": [1, 2", data_);
  expect_load_error("model.safetensors", "not valid JSON");
}

TEST_F(BadInput, HeaderIsNotAnObject) {
  write_safetensors("[1, 2, 3]", data_);
  expect_load_error("model.safetensors", "not a JSON object");
}

TEST_F(BadInput, OffsetsOutsideData) {
  edit_header([&](json& h) { h["classifier.bias"]["data_offsets"] = {data_.size(), data_.size() + 4}; });
  expect_load_error("model.safetensors", "outside");
}

TEST_F(BadInput, OffsetsReversed) {
  edit_header([](json& h) { h["classifier.bias"]["data_offsets"] = {8, 4}; });
  expect_load_error("model.safetensors", "classifier.bias");
}

TEST_F(BadInput, OverlappingTensors) {
  edit_header([](json& h) {
    h["bert.pooler.dense.bias"]["data_offsets"] = h["bert.embeddings.LayerNorm.bias"]["data_offsets"];
  });
  expect_load_error("model.safetensors", "overlap");
}

TEST_F(BadInput, OffsetsDisagreeWithShapeTimesDtype) {
  edit_header([](json& h) { h["bert.pooler.dense.bias"]["shape"] = {31}; });
  expect_load_error("model.safetensors", "shape x dtype needs");
}

TEST_F(BadInput, UnknownDtype) {
  edit_header([](json& h) { h["classifier.bias"]["dtype"] = "F8_E4M3"; });
  expect_load_error("model.safetensors", "unknown dtype");
}

TEST_F(BadInput, DtypeNotFloat) {
  edit_header([](json& h) { h["bert.pooler.dense.bias"]["dtype"] = "I32"; });
  expect_load_error("model.safetensors", "dtype I32, expected F32");
}

TEST_F(BadInput, ShapeDisagreesWithConfig) {
  edit_header([](json& h) { h["bert.encoder.layer.1.intermediate.dense.weight"]["shape"] = {32, 64}; });
  expect_load_error("model.safetensors", "config.json implies [64, 32]");
}

TEST_F(BadInput, ConfigImpliesOtherShape) {
  edit_config([](json& c) { c["intermediate_size"] = 128; });
  expect_load_error("model.safetensors", "intermediate.dense.weight");
}

TEST_F(BadInput, DuplicateTensorName) {
  std::string text = header_.dump();
  text.insert(1, "\"classifier.bias\":" + header_["classifier.bias"].dump() + ",");
  write_safetensors(text, data_);
  expect_load_error("model.safetensors", "duplicate key \"classifier.bias\"");
}

TEST_F(BadInput, MissingTensor) {
  edit_header([](json& h) { h.erase("bert.encoder.layer.1.output.LayerNorm.weight"); });
  expect_load_error("model.safetensors", "missing tensor \"bert.encoder.layer.1.output.LayerNorm.weight\"");
}

TEST_F(BadInput, LegacyGammaBetaNamesAreAccepted) {
  edit_header([](json& h) {
    h["bert.embeddings.LayerNorm.gamma"] = h["bert.embeddings.LayerNorm.weight"];
    h["bert.embeddings.LayerNorm.beta"] = h["bert.embeddings.LayerNorm.bias"];
    h.erase("bert.embeddings.LayerNorm.weight");
    h.erase("bert.embeddings.LayerNorm.bias");
  });
  EXPECT_NO_THROW(Reranker{model_});
}

class BadVocab : public BadInput, public ::testing::WithParamInterface<const char*> {};

TEST_P(BadVocab, MissingSpecialToken) {
  std::string vocab = testing::read_file(model_ / "vocab.txt");
  const std::string token = std::string(GetParam()) + "\n";
  vocab.replace(vocab.find(token), token.size(), "[gone]\n");
  testing::write_file(model_ / "vocab.txt", vocab);
  expect_load_error("vocab.txt", std::string("missing special token ") + GetParam());
}
INSTANTIATE_TEST_SUITE_P(Specials, BadVocab, ::testing::Values("[PAD]", "[UNK]", "[CLS]", "[SEP]"),
                         [](const auto& param_info) { return std::string(param_info.param).substr(1, 3); });

TEST_F(BadInput, VocabLargerThanConfig) {
  testing::write_file(model_ / "vocab.txt", testing::read_file(model_ / "vocab.txt") + "extra1\nextra2\n");
  expect_load_error("vocab.txt", "vocab_size");
}

TEST_F(BadInput, DuplicateVocabToken) {
  testing::write_file(model_ / "vocab.txt", testing::read_file(model_ / "vocab.txt") + "[CLS]\n");
  expect_load_error("vocab.txt", "duplicate token");
}

struct ConfigCase {
  const char* name;
  std::function<void(json&)> edit;
  const char* problem;
};

class BadConfig : public BadInput, public ::testing::WithParamInterface<ConfigCase> {};

TEST_P(BadConfig, Rejected) {
  edit_config(GetParam().edit);
  expect_load_error("config.json", GetParam().problem);
}

INSTANTIATE_TEST_SUITE_P(
    Values, BadConfig,
    ::testing::Values(
        ConfigCase{"ZeroHidden", [](json& c) { c["hidden_size"] = 0; }, "\"hidden_size\" = 0"},
        ConfigCase{"HugeLayers", [](json& c) { c["num_hidden_layers"] = 100000; }, "num_hidden_layers"},
        ConfigCase{"NegativeVocab", [](json& c) { c["vocab_size"] = -5; }, "vocab_size"},
        ConfigCase{"StringHidden", [](json& c) { c["hidden_size"] = "32"; }, "hidden_size"},
        ConfigCase{"FloatHeads", [](json& c) { c["num_attention_heads"] = 2.5; }, "num_attention_heads"},
        ConfigCase{"HeadsNotDividing", [](json& c) { c["num_attention_heads"] = 3; }, "not a multiple"},
        ConfigCase{"MissingVocabSize", [](json& c) { c.erase("vocab_size"); }, "missing \"vocab_size\""},
        ConfigCase{"MissingMaxPos", [](json& c) { c.erase("max_position_embeddings"); },
                   "max_position_embeddings"},
        ConfigCase{"TypeVocabOne", [](json& c) { c["type_vocab_size"] = 1; }, "type_vocab_size"},
        ConfigCase{"NegativeEps", [](json& c) { c["layer_norm_eps"] = -1.0; }, "layer_norm_eps"},
        ConfigCase{"ReluActivation", [](json& c) { c["hidden_act"] = "relu"; }, "hidden_act"},
        ConfigCase{"MissingActivation", [](json& c) { c.erase("hidden_act"); }, "hidden_act"},
        ConfigCase{"TwoLabels", [](json& c) { c["num_labels"] = 2; }, "num_labels"},
        ConfigCase{"TwoId2Label",
                   [](json& c) {
                     c["id2label"] = {{"0", "a"}, {"1", "b"}};
                   },
                   "id2label"},
        ConfigCase{"LowerCaseNotBool", [](json& c) { c["do_lower_case"] = "yes"; }, "do_lower_case"},
        ConfigCase{"NotAnObject",
                   [](json& c) {
                     c = json::array({1, 2});
                   },
                   "not a JSON object"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST_F(BadInput, ConfigNotJson) {
  testing::write_file(model_ / "config.json", "{\"hidden_size\": 32,");
  expect_load_error("config.json", "not valid JSON");
}

TEST_F(BadInput, TokenizerConfigNotJson) {
  testing::write_file(model_ / "tokenizer_config.json", "nope");
  expect_load_error("tokenizer_config.json", "not valid JSON");
}

class MissingFile : public BadInput, public ::testing::WithParamInterface<const char*> {};

TEST_P(MissingFile, NamesTheFile) {
  std::filesystem::remove(model_ / GetParam());
  expect_load_error(GetParam(), "cannot open");
}
INSTANTIATE_TEST_SUITE_P(
    Files, MissingFile, ::testing::Values("config.json", "vocab.txt", "model.safetensors"),
    [](const auto& param_info) {
      return std::string(param_info.param).substr(0, std::string(param_info.param).find('.'));
    });

// A FIFO in place of a model file would block the load for ever and /dev/zero would never end:
// each is refused as not a regular file (a hang here is a ctest timeout).
class NotARegularFile : public BadInput, public ::testing::WithParamInterface<const char*> {};

TEST_P(NotARegularFile, FifoIsRefused) {
  std::filesystem::remove(model_ / GetParam());
  ASSERT_EQ(::mkfifo((model_ / GetParam()).c_str(), 0644), 0);
  expect_load_error(GetParam(), "cannot open");
}

TEST_P(NotARegularFile, DevZeroIsRefused) {
  std::filesystem::remove(model_ / GetParam());
  std::filesystem::create_symlink("/dev/zero", model_ / GetParam());
  expect_load_error(GetParam(), "cannot open");
}
INSTANTIATE_TEST_SUITE_P(
    Files, NotARegularFile, ::testing::Values("config.json", "vocab.txt", "model.safetensors"),
    [](const auto& param_info) {
      return std::string(param_info.param).substr(0, std::string(param_info.param).find('.'));
    });

TEST(BadInputDir, MissingModelDirectory) { EXPECT_THROW(Reranker("/nonexistent/memsoak/model"), InputError); }

}  // namespace
}  // namespace memsoak::scenarios::reranker
