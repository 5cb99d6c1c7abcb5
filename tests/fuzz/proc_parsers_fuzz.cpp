// Fuzzes the /proc text parsers (harness/proc_parsers.h): statm, stat, smaps_rollup and the
// children list. They are noexcept and report bad text as nullopt or false, so anything else
// (a sanitizer report, a parsed value that breaks the parser's contract) is a finding.
#include <cstdlib>
#include <vector>

#include "harness/proc_parsers.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace memsoak;
  const std::string_view text = fuzz::as_text(data, size);
  harness::parse_statm(text);
  harness::parse_stat(text);
  harness::parse_smaps_rollup(text);
  std::vector<std::uint64_t> pids = {1};
  if (!harness::parse_pid_list(text, pids) && pids != std::vector<std::uint64_t>{1}) {
    std::fprintf(stderr, "fuzz: parse_pid_list failed but changed its output\n");
    std::abort();
  }
  return 0;
}
