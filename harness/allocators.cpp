// The allocator axis (see allocators.h).
#include "harness/allocators.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>

#include "harness/errors.h"

namespace memsoak::harness {
namespace {

struct AllocatorInfo {
  Allocator allocator;
  std::string_view name;
  std::string_view library;  // empty: glibc's own malloc
  std::string_view package;
};

constexpr AllocatorInfo kAllocators[] = {
    {Allocator::kGlibc, "glibc", "", "libc6"},
    {Allocator::kGlibcArena2, "glibc-arena2", "", "libc6"},
    {Allocator::kJemalloc, "jemalloc", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "libjemalloc2"},
    {Allocator::kTcmalloc, "tcmalloc", "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4",
     "libtcmalloc-minimal4"},
    {Allocator::kMimalloc, "mimalloc", "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2", "libmimalloc2.0"},
};

const AllocatorInfo& info(Allocator allocator) {
  return *std::find_if(std::begin(kAllocators), std::end(kAllocators),
                       [&](const AllocatorInfo& a) { return a.allocator == allocator; });
}

bool installed(const AllocatorInfo& a) {
  return a.library.empty() || ::access(std::string(a.library).c_str(), R_OK) == 0;
}

}  // namespace

std::string_view allocator_name(Allocator allocator) { return info(allocator).name; }

std::vector<Allocator> parse_allocator_list(std::string_view list) {
  std::vector<Allocator> allocators;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = std::min(list.find(',', start), list.size());
    std::string_view name = list.substr(start, comma - start);
    auto known = std::find_if(std::begin(kAllocators), std::end(kAllocators),
                              [&](const AllocatorInfo& a) { return a.name == name; });
    if (known == std::end(kAllocators)) {
      std::vector<std::string_view> names;
      for (const auto& a : kAllocators) names.push_back(a.name);
      throw InputError(
          fmt::format("--allocator '{}': unknown allocator (known: {})", name, fmt::join(names, ", ")));
    }
    if (!installed(*known)) {
      throw InputError(fmt::format("--allocator '{}': {} is not installed (apt-get install {})", name,
                                   known->library, known->package));
    }
    if (std::find(allocators.begin(), allocators.end(), known->allocator) != allocators.end()) {
      throw InputError(fmt::format("--allocator '{}': listed twice", name));
    }
    allocators.push_back(known->allocator);
    start = comma + 1;
  }
  return allocators;
}

std::vector<std::string> allocator_environment(Allocator allocator) {
  if (allocator == Allocator::kGlibc) return {};
  if (allocator == Allocator::kGlibcArena2) return {"MALLOC_ARENA_MAX=2"};
  return {fmt::format("LD_PRELOAD={}", info(allocator).library)};
}

std::vector<std::string> describe_allocators() {
  std::vector<std::string> lines;
  for (const auto& a : kAllocators) {
    std::string where =
        a.library.empty()
            ? (a.allocator == Allocator::kGlibc ? "glibc's malloc" : "glibc's malloc with MALLOC_ARENA_MAX=2")
            : std::string(a.library);
    lines.push_back(
        fmt::format("{:<13} {}{}", a.name, where,
                    installed(a) ? "" : fmt::format("  (not installed: apt-get install {})", a.package)));
  }
  return lines;
}

}  // namespace memsoak::harness
