// Fuzzes the artifact reader (harness/artifacts.h) on one file of a run directory: its 64-byte
// header (magic, version, sizes, pid, sequence, kind) and then, when it is listed as complete,
// its payload through the stack-dump parser, as `memsoak report` reads them. The file is named
// after the pid and sequence in its own header ("<pid>-<sequence>.stacks"), as the writer names
// it, so that inputs get past the name check to the payload.
#include <cstdlib>
#include <cstring>
#include <string>

#include "harness/artifacts.h"
#include "reports/stack_dump.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace memsoak;
  const std::filesystem::path run_dir = fuzz::scratch_dir();
  const std::filesystem::path folder = run_dir / "artifacts" / "0";
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  std::uint32_t pid = 7;
  std::uint32_t sequence = 3;
  if (size >= 32) {
    std::memcpy(&pid, data + 24, sizeof pid);  // header: magic, version, header size, payload size, pid
    std::memcpy(&sequence, data + 28, sizeof sequence);
  }
  const std::string name = std::to_string(pid) + "-" + std::to_string(sequence) + ".stacks";
  fuzz::write_file(folder / name, fuzz::as_text(data, size));
  fuzz::expect_only_input_errors([&] {
    const harness::ArtifactListing listing = harness::list_artifacts(run_dir);
    if (listing.complete.size() + listing.skipped.size() != 1) {
      std::fprintf(stderr, "fuzz: one file listed as %zu complete and %zu skipped\n", listing.complete.size(),
                   listing.skipped.size());
      std::abort();
    }
    for (const harness::ArtifactInfo& artifact : listing.complete) {
      reports::parse_stack_dump(harness::read_artifact_payload(artifact), artifact.path.string());
    }
  });
  return 0;
}
