// An example protocol-v1 worker in C++ (docs/worker-protocol.md), with leak and fault injection for tests.
//
//   memsoak_example_worker [--leak BYTES] [--setup-bytes BYTES] [--crash-on N] [--hang-on N]
//                          [--garbage-on N] [--err-on N]
//
// Each run hashes its run index into a text and answers `OK <text>`, so the digest depends on the
// run index alone. --leak keeps BYTES (touched) per run for ever; --setup-bytes touches BYTES once
// before READY (a "model"). The fault flags act on run N: SIGSEGV, sleep for ever, a line that is
// not protocol, or `ERR <text>`. Stand-alone on purpose: a user's worker links nothing of memsoak.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

constexpr std::int64_t kNever = -1;

struct Options {
  std::int64_t leak_bytes = 0;
  std::int64_t setup_bytes = 0;
  std::int64_t crash_on = kNever;
  std::int64_t hang_on = kNever;
  std::int64_t garbage_on = kNever;
  std::int64_t err_on = kNever;
};

[[noreturn]] void usage(const char* bad) {
  std::fprintf(stderr, "memsoak_example_worker: bad argument '%s'\n", bad);
  std::exit(2);
}

// Every flag takes one non-negative number.
Options parse_options(int argc, char** argv) {
  const std::pair<std::string_view, std::int64_t Options::*> flags[] = {
      {"--leak", &Options::leak_bytes},       {"--setup-bytes", &Options::setup_bytes},
      {"--crash-on", &Options::crash_on},     {"--hang-on", &Options::hang_on},
      {"--garbage-on", &Options::garbage_on}, {"--err-on", &Options::err_on},
  };
  Options o;
  for (int i = 1; i < argc; i += 2) {
    auto flag =
        std::find_if(std::begin(flags), std::end(flags), [&](const auto& f) { return f.first == argv[i]; });
    if (flag == std::end(flags) || i + 1 >= argc) usage(argv[i]);
    char* end = nullptr;
    long long value = std::strtoll(argv[i + 1], &end, 10);
    if (*end != '\0' || end == argv[i + 1] || value < 0) usage(argv[i + 1]);
    o.*(flag->second) = value;
  }
  return o;
}

// splitmix64 of the run index, as 16 hex digits: the run's "output".
std::string run_output(std::uint64_t run_index) {
  std::uint64_t z = run_index + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(z));
  return std::string("result-") + hex;
}

std::unique_ptr<char[]> touched_block(std::size_t bytes) {
  auto block = std::make_unique<char[]>(bytes);
  std::memset(block.get(), 0x5a, bytes);
  return block;
}

// Answers one RUN line; faults end the process or never return.
void answer(const Options& o, std::int64_t run, std::vector<std::unique_ptr<char[]>>& leaked) {
  if (run == o.crash_on) ::raise(SIGSEGV);
  if (run == o.hang_on) {
    for (;;) ::pause();
  }
  if (run == o.garbage_on) {
    std::cout << "this is not a protocol line \x01\n" << std::flush;
    return;
  }
  if (run == o.err_on) {
    std::cout << "ERR injected error on run " << run << "\n" << std::flush;
    return;
  }
  if (o.leak_bytes > 0) leaked.push_back(touched_block(static_cast<std::size_t>(o.leak_bytes)));
  std::cout << "OK " << run_output(static_cast<std::uint64_t>(run)) << "\n" << std::flush;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  std::unique_ptr<char[]> model =
      options.setup_bytes > 0 ? touched_block(static_cast<std::size_t>(options.setup_bytes)) : nullptr;
  std::vector<std::unique_ptr<char[]>> leaked;  // what --leak keeps, for ever
  std::cout << "READY\n" << std::flush;
  std::string line;
  while (std::getline(std::cin, line)) {
    const char* digits = line.c_str() + 4;
    char* end = nullptr;
    long long run = line.starts_with("RUN ") ? std::strtoll(digits, &end, 10) : -1;
    if (run < 0 || end == digits || *end != '\0') {
      std::cout << "ERR unknown command\n" << std::flush;
      continue;
    }
    answer(options, run, leaked);
  }
  return 0;  // stdin closed: the protocol's way to say stop
}
