// LineReader: newline-terminated lines from a pipe, with a deadline and a length limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace memsoak::harness::internal {

// Buffers what it reads from one descriptor and hands out whole lines. Bytes after a returned
// line stay buffered for the next call. Cold path: allocates, not for a forked child.
class LineReader {
 public:
  enum class Status {
    kLine,       // `line` holds the next line, without its '\n'
    kEndOfFile,  // the writer closed the pipe; pending() holds an unterminated tail, if any
    kTimeout,    // the deadline passed; pending() holds what arrived of the line
    kTooLong,    // a line of more than max_line_bytes (or that many bytes without a '\n')
    kReadError,  // read() failed; error_number() says why
  };

  explicit LineReader(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  // Waits until a whole line is buffered or `deadline_ns` (CLOCK_MONOTONIC, see clock.h) has
  // passed; a deadline already past still takes in whatever is readable without waiting.
  Status read_line(int fd, std::int64_t deadline_ns, std::string& line);

  std::string_view pending() const noexcept { return buffer_; }
  int error_number() const noexcept { return error_number_; }
  void clear() noexcept;

 private:
  bool take_line(std::string& line);
  std::optional<Status> fill(int fd, std::int64_t deadline_ns);

  std::size_t max_line_bytes_;
  std::string buffer_;
  std::size_t scanned_bytes_ = 0;  // prefix of buffer_ known to hold no '\n'
  int error_number_ = 0;
};

}  // namespace memsoak::harness::internal
