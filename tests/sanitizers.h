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

// The sanitizer's runtime needs descriptors of its own: UBSan's vptr check writes an object to a
// pipe to learn whether its memory is readable, and reports an "invalid vptr" when it cannot open
// one. Tests that leave a process almost no descriptors cannot run under a sanitizer.
inline constexpr const char* kNoDescriptorLimitUnderSanitizer =
    "the sanitizer's runtime needs free descriptors (UBSan's vptr check opens a pipe)";

// Whether this binary runs under AddressSanitizer.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kUnderAsan = true;
#else
inline constexpr bool kUnderAsan = false;
#endif

// GCC 12's AddressSanitizer takes no lock of its allocator around fork(): a fork while other
// threads allocate can leave the child waiting for ever on a size-class lock one of them held
// (seen in SizeClassAllocator64::GetFromAllocator, called from the child's first malloc).
inline constexpr const char* kNoForkWhileThreadsAllocateUnderAsan =
    "ASan's allocator (GCC 12) is not fork-safe while other threads allocate: the child can deadlock on its "
    "lock";

// AddressSanitizer reserves terabytes of address space for its shadow memory when a process
// starts: an ASan-built program under an address-space limit (RLIMIT_AS) cannot start at all.
inline constexpr const char* kNoAddressSpaceLimitUnderAsan =
    "an ASan-built program reserves terabytes of shadow address space and cannot start under RLIMIT_AS";

// malloc_trim and mallinfo2 act on glibc's heap, which ASan and TSan replace with their own.
inline constexpr const char* kNoGlibcHeapUnderSanitizer = "ASan and TSan replace glibc's heap (malloc_trim)";

}  // namespace memsoak::testing
