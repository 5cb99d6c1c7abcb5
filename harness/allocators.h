// The allocator axis: which malloc a strategy's processes use, and how it gets there.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace memsoak::harness {

enum class Allocator { kGlibc, kGlibcArena2, kJemalloc, kTcmalloc, kMimalloc };

std::string_view allocator_name(Allocator allocator);

// Parses "glibc,jemalloc". Throws InputError naming an unknown allocator, or one whose library
// is not installed (with the Debian package that provides it).
std::vector<Allocator> parse_allocator_list(std::string_view list);

// The environment an executed process needs for `allocator`: {"LD_PRELOAD=/usr/lib/...so"},
// {"MALLOC_ARENA_MAX=2"}, or nothing for glibc.
std::vector<std::string> allocator_environment(Allocator allocator);

// For `memsoak list`: every allocator with its library and whether it is installed.
std::vector<std::string> describe_allocators();

}  // namespace memsoak::harness
