// Fuzzes the reader of run.json (harness/run_manifest.h), which `memsoak report`, `merge` and the
// entry processes read back from a run directory that may be truncated, corrupt or from another
// version of memsoak.
#include "harness/run_manifest.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace memsoak;
  fuzz::write_file(fuzz::scratch_dir() / "run.json", fuzz::as_text(data, size));
  fuzz::expect_only_input_errors([&] { harness::RunManifest::read(fuzz::scratch_dir()); });
  return 0;
}
