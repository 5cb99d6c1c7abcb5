// Fuzzes `memsoak rerank --docs FILE` (scenarios/reranker/corpus.h) and the BERT tokenizer on
// every document, with and without lowercasing, paired with the first as the query.
#include <string>
#include <vector>

#include "scenarios/reranker/corpus.h"
#include "scenarios/reranker/tokenizer.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using memsoak::scenarios::reranker::BertTokenizer;
using memsoak::scenarios::reranker::Vocab;

Vocab small_vocab() {
  std::vector<std::string> tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "leak", "##s", "##ing", "mem",
                                     "##ory", "a",     "!",     ",",     "e",   "##e",  "é",   "漢",    "字"};
  return Vocab::from_tokens(std::move(tokens), "fuzz vocab");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace memsoak;
  static const BertTokenizer lowercasing(small_vocab(), true);
  static const BertTokenizer cased(small_vocab(), false);
  const std::filesystem::path path = fuzz::scratch_dir() / "docs.txt";
  fuzz::write_file(path, fuzz::as_text(data, size));
  fuzz::expect_only_input_errors([&] {
    const std::vector<std::string> docs = scenarios::reranker::read_documents_file(path);
    for (const std::string& doc : docs) {
      lowercasing.encode_pair(docs.front(), doc, 24);
      cased.tokenize(doc);
    }
  });
  return 0;
}
