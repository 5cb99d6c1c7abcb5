// Fuzzes the values of `run`'s options, from the command line or a scenario file: sizes,
// durations and counts (harness/units.h), strategy lists with their rates ("recycle:100") and
// allocator lists.
#include "harness/allocators.h"
#include "harness/strategy.h"
#include "harness/units.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace memsoak;
  const std::string_view text = fuzz::as_text(data, size);
  fuzz::expect_only_input_errors([&] { harness::parse_size(text, "--budget"); });
  fuzz::expect_only_input_errors([&] { harness::parse_duration_ms(text, "--duration"); });
  fuzz::expect_only_input_errors([&] { harness::parse_count(text, "--iterations"); });
  fuzz::expect_only_input_errors([&] { harness::parse_strategy_list(text); });
  fuzz::expect_only_input_errors([&] { harness::parse_allocator_list(text); });
  return 0;
}
