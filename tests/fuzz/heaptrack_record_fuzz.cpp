// Fuzzes the heaptrack pass's record in a run directory (heaptrack/pass.json, read by
// harness::HeaptrackRecord and reports::read_heaptrack_summary): its schema, status, counts and
// the paths it names, which must stay inside the run directory. A small folded file is there for
// a record that names heaptrack/leaked.folded.
#include "reports/heaptrack.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace memsoak;
  const std::filesystem::path& run_dir = fuzz::scratch_dir();
  static const bool ready = [&] {
    std::filesystem::create_directories(run_dir / "heaptrack");
    fuzz::write_file(run_dir / "heaptrack" / "leaked.folded",
                     "main (m.cpp);leak (l.cpp);malloc (interpose.cpp); 64\n");
    return true;
  }();
  (void)ready;
  fuzz::write_file(run_dir / "heaptrack" / "pass.json", fuzz::as_text(data, size));
  fuzz::expect_only_input_errors([&] { reports::read_heaptrack_summary(run_dir); });
  return 0;
}
