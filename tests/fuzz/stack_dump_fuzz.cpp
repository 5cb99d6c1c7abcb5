// Fuzzes the payload parser of the allocation-stack artifacts ("stacks" epochs and "runleak"
// reports, reports/stack_dump.h), which a worker with the exec tracker writes into the run
// directory.
#include "reports/stack_dump.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace memsoak;
  const std::string payload(fuzz::as_text(data, size));
  fuzz::expect_only_input_errors([&] { reports::parse_stack_dump(payload, "artifacts/0/1-0.stacks"); });
  return 0;
}
