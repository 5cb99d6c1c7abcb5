// LineReader (see line_reader.h).
#include "harness/internal/line_reader.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include "harness/internal/clock.h"

namespace memsoak::harness::internal {
namespace {

// Milliseconds for poll(): rounded up, so a deadline 0.3 ms away is not polled as "now".
int remaining_ms(std::int64_t deadline_ns) {
  std::int64_t left_ns = deadline_ns - monotonic_ns();
  if (left_ns <= 0) return 0;
  std::int64_t ms = (left_ns + 999'999) / 1'000'000;
  return ms > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(ms);
}

}  // namespace

void LineReader::clear() noexcept {
  buffer_.clear();
  scanned_bytes_ = 0;
}

bool LineReader::take_line(std::string& line) {
  std::size_t newline = buffer_.find('\n', scanned_bytes_);
  if (newline == std::string::npos) {
    scanned_bytes_ = buffer_.size();
    return false;
  }
  line.assign(buffer_, 0, newline);
  buffer_.erase(0, newline + 1);
  scanned_bytes_ = 0;
  return true;
}

// One poll and, when readable, one read into the buffer: nullopt when there may be more to look at
// (bytes arrived, or a signal interrupted the wait), else why reading stops.
std::optional<LineReader::Status> LineReader::fill(int fd, std::int64_t deadline_ns) {
  pollfd pfd{fd, POLLIN, 0};
  int ready = ::poll(&pfd, 1, remaining_ms(deadline_ns));
  if (ready < 0 && errno == EINTR) return std::nullopt;
  if (ready < 0) {
    error_number_ = errno;
    return Status::kReadError;
  }
  if (ready == 0) return Status::kTimeout;
  char chunk[64 * 1024];
  ssize_t n = ::read(fd, chunk, sizeof chunk);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return std::nullopt;
  if (n < 0) {
    error_number_ = errno;
    return Status::kReadError;
  }
  if (n == 0) return Status::kEndOfFile;
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return std::nullopt;
}

LineReader::Status LineReader::read_line(int fd, std::int64_t deadline_ns, std::string& line) {
  for (;;) {
    if (take_line(line)) return line.size() > max_line_bytes_ ? Status::kTooLong : Status::kLine;
    if (buffer_.size() > max_line_bytes_) return Status::kTooLong;
    if (std::optional<Status> stop = fill(fd, deadline_ns)) return *stop;
  }
}

}  // namespace memsoak::harness::internal
