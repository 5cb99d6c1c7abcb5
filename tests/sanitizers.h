// Whether this test binary was built under a sanitizer (MEMSOAK_SANITIZE), for the tests that
// cannot run under one: each skips with its reason. Whole suites are left out by their labels
// instead (tests/sanitizer_labels.cmake).
#pragma once

namespace memsoak::testing {

// ASan and TSan replace malloc and must come first in a process's library list, so a process
// started with an allocator or malloc hooks in LD_PRELOAD (jemalloc, the exec tracker) aborts.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitizerOwnsMalloc = true;
#else
inline constexpr bool kSanitizerOwnsMalloc = false;
#endif

// ThreadSanitizer's runtime runs a background thread of its own in every process, forked
// children included: a process's thread count is one more than its code started.
#if defined(__SANITIZE_THREAD__)
inline constexpr int kSanitizerRuntimeThreads = 1;
#else
inline constexpr int kSanitizerRuntimeThreads = 0;
#endif

inline constexpr const char* kNoPreloadUnderSanitizer =
    "LD_PRELOAD of an allocator or malloc hooks cannot run under ASan or TSan, which own malloc";

}  // namespace memsoak::testing
