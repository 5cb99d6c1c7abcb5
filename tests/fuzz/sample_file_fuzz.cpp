// Fuzzes the reader of samples.bin (harness/sample_file.h), which a crash can leave truncated and
// a user can hand over corrupt: the whole file at once and in batches, which must agree.
#include <cstdlib>
#include <cstring>
#include <vector>

#include "harness/sample_file.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace memsoak;
  const std::filesystem::path path = fuzz::scratch_dir() / "samples.bin";
  fuzz::write_file(path, fuzz::as_text(data, size));
  std::vector<harness::RunRecord> whole;
  std::vector<harness::RunRecord> batched;
  fuzz::expect_only_input_errors([&] { whole = harness::read_sample_file(path); });
  fuzz::expect_only_input_errors([&] {
    harness::read_sample_file_in_batches(path, 3, [&](std::span<const harness::RunRecord> batch) {
      batched.insert(batched.end(), batch.begin(), batch.end());
    });
  });
  if (whole.size() != batched.size() ||
      (!whole.empty() && std::memcmp(whole.data(), batched.data(), whole.size() * sizeof whole[0]) != 0)) {
    std::fprintf(stderr, "fuzz: %zu records read whole, %zu in batches\n", whole.size(), batched.size());
    std::abort();
  }
  return 0;
}
