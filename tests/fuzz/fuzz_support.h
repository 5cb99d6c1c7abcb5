// What every fuzz target shares: the rule that a parser of outside input throws only InputError,
// and a scratch directory for the parsers that read a path rather than bytes.
#pragma once

#include <cxxabi.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <typeinfo>

#include "harness/errors.h"

namespace memsoak::fuzz {

// The fuzzer's bytes as text.
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs `parse`. Bad input must come out as InputError, which the CLI prints as one line and exits
// 2 for (tools/memsoak_main.cpp). Any other exception would become "internal error" and exit 3,
// so it is a finding: printed with its type and aborted on, which makes libFuzzer keep the input.
template <typename Parse>
void expect_only_input_errors(Parse&& parse) {
  try {
    parse();
  } catch (const InputError& e) {
    if (std::string_view(e.what()).find('\n') != std::string_view::npos) {
      std::fprintf(stderr, "fuzz: an InputError of more than one line: %s\n", e.what());
      std::abort();
    }
  } catch (const std::exception& e) {
    int status = 0;
    char* type = abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status);
    std::fprintf(stderr, "fuzz: %s escaped a parser of outside input (exit 3, not 2): %s\n",
                 status == 0 ? type : typeid(e).name(), e.what());
    std::free(type);
    std::abort();
  }
}

// A directory of this process's own under $TMPDIR (or /tmp), made on first use, reused by every
// input and removed at exit, for parsers that take a path. Two fuzzers never share one.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::string pattern = (std::filesystem::temp_directory_path() / "memsoak-fuzz-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("fuzz: mkdtemp");
      std::abort();
    }
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return std::filesystem::path(pattern);
  }();
  return dir;
}

// Replaces `path` with exactly these bytes.
inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
}

}  // namespace memsoak::fuzz
