// Fuzzes the reader of run.log's failure lines (reports/run_context.h), a file that an external
// worker's stderr shares with memsoak, so any text can be in it.
#include <string>
#include <vector>

#include "reports/run_context.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace memsoak;
  static const std::vector<std::string> entries = {"fork", "recycle:20 [jemalloc]", "spawn"};
  const std::filesystem::path path = fuzz::scratch_dir() / "run.log";
  fuzz::write_file(path, fuzz::as_text(data, size));
  fuzz::expect_only_input_errors([&] { reports::read_failures(path, entries); });
  return 0;
}
