// Fuzzes what memsoak reads from an external worker's stdout (docs/worker-protocol.md): the
// LineReader on a pipe (lines split across reads, over-long lines, a tail without '\n') and the
// answer of each line. The first byte of the input is the size of each write, so that lines
// reach the reader in pieces as they would from a worker.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "harness/internal/clock.h"
#include "harness/internal/line_reader.h"
#include "harness/internal/worker_answer.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using memsoak::harness::RunOutcome;
using memsoak::harness::internal::LineReader;

// Takes every line the reader has now (a deadline already past does not wait).
LineReader::Status drain(LineReader& reader, int fd) {
  std::string line;
  for (;;) {
    const LineReader::Status status = reader.read_line(fd, memsoak::harness::internal::monotonic_ns(), line);
    if (status != LineReader::Status::kLine) return status;
    RunOutcome outcome;
    if (line != "READY" && memsoak::harness::internal::read_worker_answer(line, outcome) && !outcome.ok &&
        outcome.failure.empty()) {
      std::fprintf(stderr, "fuzz: an ERR answer without a failure text\n");
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk_bytes = std::max<std::size_t>(1, data[0]);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) std::abort();
  LineReader reader(512);  // small, so that fuzzing reaches kTooLong (memsoak's is 1 MiB)
  for (std::size_t at = 1; at < size; at += chunk_bytes) {
    const std::size_t n = std::min(chunk_bytes, size - at);
    if (::write(fds[1], data + at, n) != static_cast<ssize_t>(n)) std::abort();
    if (drain(reader, fds[0]) == LineReader::Status::kTooLong) reader.clear();
  }
  ::close(fds[1]);
  while (drain(reader, fds[0]) == LineReader::Status::kTooLong) reader.clear();
  ::close(fds[0]);
  return 0;
}
