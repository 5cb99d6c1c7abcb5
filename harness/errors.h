// Error types that decide memsoak's exit code: bad input from outside (2) versus a harness failure (3).
#pragma once

#include <stdexcept>
#include <string>

namespace memsoak {

// `text` with every control character (newline, tab, NUL, ...) replaced by a space: for messages
// that quote input, such as a JSON parser's "last read: ..." excerpt, so they stay one line.
inline std::string one_line(std::string text) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return text;
}

// Bad input from outside memsoak: a CLI value, a model or scenario file, worker output, a run
// directory. The message is one line that names the bad value (control characters that the input
// smuggled in are replaced by spaces); the CLI prints it and exits 2.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(one_line(message)) {}
};

}  // namespace memsoak
