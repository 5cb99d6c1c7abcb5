// Fuzzes the reranker's model file reader (scenarios/reranker/safetensors.h): the 8-byte header
// length, the JSON header (dtypes, shapes, data offsets) and the tensors it points at.
#include "scenarios/reranker/safetensors.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace memsoak;
  const std::filesystem::path path = fuzz::scratch_dir() / "model.safetensors";
  fuzz::write_file(path, fuzz::as_text(data, size));
  fuzz::expect_only_input_errors([&] { scenarios::reranker::SafetensorsFile::load(path); });
  return 0;
}
