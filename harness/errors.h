// Error types that decide memsoak's exit code: bad input from outside (2) versus a harness failure (3).
#pragma once

#include <stdexcept>
#include <string>

namespace memsoak {

// Bad input from outside memsoak: a CLI value, a model or scenario file, worker output, a run
// directory. The message is one line that names the bad value; the CLI prints it and exits 2.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace memsoak
