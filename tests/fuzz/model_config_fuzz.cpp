// Fuzzes the reranker's config.json and tokenizer_config.json (scenarios/reranker/config.h). The
// input up to its first NUL byte is config.json; what follows, if anything, tokenizer_config.json.
#include "scenarios/reranker/config.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace memsoak;
  const std::string_view text = fuzz::as_text(data, size);
  const std::size_t nul = text.find('\0');
  const std::filesystem::path& dir = fuzz::scratch_dir();
  fuzz::write_file(dir / "config.json", text.substr(0, nul));
  std::error_code ec;
  if (nul == std::string_view::npos) {
    std::filesystem::remove(dir / "tokenizer_config.json", ec);
  } else {
    fuzz::write_file(dir / "tokenizer_config.json", text.substr(nul + 1));
  }
  fuzz::expect_only_input_errors([&] { scenarios::reranker::load_config(dir); });
  return 0;
}
