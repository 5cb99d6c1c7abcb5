// Fuzzes the reranker's vocab.txt reader (scenarios/reranker/tokenizer.h) and, when the file is a
// vocabulary, tokenization with it.
#include "scenarios/reranker/tokenizer.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace memsoak;
  using scenarios::reranker::BertTokenizer;
  using scenarios::reranker::Vocab;
  const std::filesystem::path path = fuzz::scratch_dir() / "vocab.txt";
  fuzz::write_file(path, fuzz::as_text(data, size));
  fuzz::expect_only_input_errors([&] {
    const BertTokenizer tokenizer(Vocab::load(path), true);
    tokenizer.encode_pair("what leaks memory?", "A reranker's cache, unbounded: ##ing Ünïcødé 漢字!", 16);
  });
  return 0;
}
