// Fuzzes the parser of heaptrack_print's folded stacks (reports/heaptrack.h), read from the
// heaptrack pass's output in a run directory, and the summary made of what it parsed.
#include "reports/heaptrack.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace memsoak;
  fuzz::expect_only_input_errors([&] {
    const std::vector<reports::FoldedStack> stacks =
        reports::parse_folded_stacks(fuzz::as_text(data, size), "heaptrack/leaked.folded");
    reports::HeaptrackSummary summary;
    reports::summarize_folded_stacks(stacks, summary);
  });
  return 0;
}
