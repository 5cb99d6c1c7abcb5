// Counting allocator, interposition layer: malloc and friends and operator new/delete, forwarded.
//
// The memsoak executable (and the tests that link this object library) defines malloc, free,
// calloc, realloc, memalign, aligned_alloc, posix_memalign, valloc, pvalloc and operator
// new/delete, and forwards each to the next allocator in symbol lookup order (glibc, or
// jemalloc/tcmalloc/mimalloc when one is LD_PRELOADed: the executable's own definitions come
// first, a preloaded library next). Each block's size goes to the counters (tracker/counters.cpp,
// per-thread deltas flushed into process totals), which harness/heap_counters.h reads.
//
// Why not mallinfo2(): it walks the free lists, O(free chunks), milliseconds on a fragmented heap
// (see tests/bench/sampler_bench.cpp); counting here costs a malloc_usable_size() call and a few
// thread-local stores per call.
// Contract of every function here: noexcept (operator new aside: it throws std::bad_alloc as the
// standard says), no allocation of its own, no locks, safe after fork. Sizes are the next
// allocator's malloc_usable_size(), so a 4096-byte request counts as glibc's 4104-byte block.
//
// Bootstrap: the next allocator's functions are found with dlsym(RTLD_NEXT) on the first call,
// and dlsym may itself allocate; those few allocations come from a small static buffer and are
// never freed back to anyone.
#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

#include "harness/tracker/internal/counters.h"
#include "harness/tracker/internal/preload.h"
#include "harness/tracker/internal/stacks.h"

namespace {

using memsoak::harness::internal::count_heap_change;
using memsoak::harness::internal::start_thread_exit_flush;

struct NextAllocator {
  void* (*malloc)(std::size_t) = nullptr;
  void (*free)(void*) = nullptr;
  void* (*calloc)(std::size_t, std::size_t) = nullptr;
  void* (*realloc)(void*, std::size_t) = nullptr;
  void* (*memalign)(std::size_t, std::size_t) = nullptr;
  std::size_t (*usable_size)(void*) = nullptr;
};

NextAllocator g_next;
// 0: not resolved, 1: resolving (dlsym running), 2: ready. Resolution happens on the first call,
// in the dynamic loader's single-threaded start-up.
std::atomic<int> g_state{0};

constexpr std::size_t kBootstrapBytes = 64 * 1024;
alignas(64) char g_bootstrap[kBootstrapBytes];
std::atomic<std::size_t> g_bootstrap_used{0};

bool from_bootstrap(const void* ptr) noexcept {
  auto* p = static_cast<const char*>(ptr);
  return p >= g_bootstrap && p < g_bootstrap + kBootstrapBytes;
}

// Bump allocation with 64-byte alignment; calloc's zeroing is free (static storage, never reused).
void* bootstrap_alloc(std::size_t size) noexcept {
  std::size_t rounded = (size + 63) & ~std::size_t{63};
  std::size_t offset = g_bootstrap_used.fetch_add(rounded, std::memory_order_relaxed);
  if (offset + rounded > kBootstrapBytes) return nullptr;
  return g_bootstrap + offset;
}

template <typename Fn>
Fn next_symbol(const char* name) noexcept {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

// True when the next allocator is usable; false while dlsym itself is allocating.
bool ready() noexcept {
  int state = g_state.load(std::memory_order_acquire);
  if (state == 2) return true;
  if (state == 1) return false;
  g_state.store(1, std::memory_order_release);
  g_next.malloc = next_symbol<decltype(g_next.malloc)>("malloc");
  g_next.free = next_symbol<decltype(g_next.free)>("free");
  g_next.calloc = next_symbol<decltype(g_next.calloc)>("calloc");
  g_next.realloc = next_symbol<decltype(g_next.realloc)>("realloc");
  g_next.memalign = next_symbol<decltype(g_next.memalign)>("memalign");
  g_next.usable_size = next_symbol<decltype(g_next.usable_size)>("malloc_usable_size");
  g_state.store(2, std::memory_order_release);
  // After the allocator is known, in case creating the key allocates.
  start_thread_exit_flush();
  return true;
}

// Recursion guard, set while this thread counts a block: the next allocator's malloc_usable_size
// may itself allocate (tcmalloc's does, once, for a singleton), and that must not recurse into
// counting. Blocks allocated under the guard are not counted (a one-time singleton in practice).
constinit thread_local bool t_counting = false;

// Bytes this thread may still allocate before its next stack sample (internal/stacks.h): the
// only cost of sampling on the hot path is this subtraction and test.
constinit thread_local std::int64_t t_until_sample = 0;
// The sampling plan this thread's countdown was drawn under (stacks::g_sampling_epoch): a new
// thread (0) or a new plan (another mean) draws its distance afresh before it may sample.
constinit thread_local std::uint32_t t_sampling_epoch = 0;

#ifdef MEMSOAK_TRACKER_PRELOAD
// The preload's mmap category (tracker/mmap_hooks.cpp) must not count the mappings that the next
// allocator makes for its own blocks (jemalloc, tcmalloc and mimalloc call mmap through the PLT;
// glibc's malloc does not): those blocks are already in the heap. Set while this thread is in here.
constinit thread_local int t_in_next_allocator = 0;
struct NextScope {
  NextScope() noexcept { ++t_in_next_allocator; }
  ~NextScope() { --t_in_next_allocator; }
  NextScope(const NextScope&) = delete;
  NextScope& operator=(const NextScope&) = delete;
};
#else
struct NextScope {  // memsoak's own processes do not count mappings
  NextScope() noexcept {}
};
#endif

#ifdef MEMSOAK_COUNTING_UNDER_SANITIZER
// The sanitizer runtime's allocator interface (sanitizer/allocator_interface.h, not in GCC 12).
extern "C" int __sanitizer_get_ownership(const volatile void* ptr);
#endif

// Whether ptr is a block of the next allocator, whose usable size may be asked for. Under a
// sanitizer (MEMSOAK_SANITIZE) the next allocator is its runtime, which hands out blocks of its
// own internal allocator while it starts (its dlsym calls allocate) and fails on a
// malloc_usable_size of them: those few blocks are left uncounted, on allocation and on free.
bool countable(const void* ptr) noexcept {
#ifdef MEMSOAK_COUNTING_UNDER_SANITIZER
  return __sanitizer_get_ownership(ptr) != 0;
#else
  return ptr != nullptr;
#endif
}

void count_alloc(void* ptr) noexcept {
  if (ptr == nullptr || t_counting || !countable(ptr)) return;
  t_counting = true;
  const std::size_t usable = g_next.usable_size(ptr);
  count_heap_change(static_cast<std::int64_t>(usable), 1);
  t_counting = false;
  namespace stacks = memsoak::harness::internal::stacks;
  t_until_sample -= static_cast<std::int64_t>(usable);
  if (t_until_sample <= 0 || t_sampling_epoch != stacks::g_sampling_epoch.load(std::memory_order_relaxed))
    stacks::on_countdown(ptr, usable, t_until_sample, t_sampling_epoch);
}

// Counted while the block is still this thread's: usable_size must not read a freed block.
void count_free(void* ptr) noexcept {
  if (ptr == nullptr || t_counting || !countable(ptr)) return;
  t_counting = true;
  const std::size_t usable = g_next.usable_size(ptr);
  count_heap_change(-static_cast<std::int64_t>(usable), -1);
  t_counting = false;
  memsoak::harness::internal::stacks::on_free(ptr, usable);
}

bool valid_alignment(std::size_t alignment) noexcept {
  return alignment != 0 && (alignment & (alignment - 1)) == 0;
}

}  // namespace

#ifdef MEMSOAK_TRACKER_PRELOAD
bool memsoak::harness::internal::inside_next_allocator() noexcept { return t_in_next_allocator > 0; }
#endif

void memsoak::harness::internal::stacks::set_countdown(std::int64_t bytes) noexcept {
  t_until_sample = bytes;
}

extern "C" {

void* malloc(std::size_t size) noexcept {
  if (!ready()) return bootstrap_alloc(size);
  NextScope scope;
  void* ptr = g_next.malloc(size);
  count_alloc(ptr);
  return ptr;
}

void free(void* ptr) noexcept {
  if (ptr == nullptr || from_bootstrap(ptr) || !ready()) return;
  NextScope scope;
  count_free(ptr);
  g_next.free(ptr);
}

void* calloc(std::size_t count, std::size_t size) noexcept {
  if (!ready()) {
    if (size != 0 && count > static_cast<std::size_t>(-1) / size) return nullptr;
    return bootstrap_alloc(count * size);
  }
  NextScope scope;
  void* ptr = g_next.calloc(count, size);
  count_alloc(ptr);
  return ptr;
}

void* realloc(void* ptr, std::size_t size) noexcept {
  if (!ready()) return nullptr;  // dlsym does not realloc; nothing to support here
  if (from_bootstrap(ptr)) {
    // The block's size is unknown: copy what can be read without leaving the buffer.
    void* moved = malloc(size);
    if (moved != nullptr) {
      std::size_t available =
          static_cast<std::size_t>(g_bootstrap + kBootstrapBytes - static_cast<char*>(ptr));
      std::memcpy(moved, ptr, size < available ? size : available);
    }
    return moved;
  }
  // glibc may move or free the block; uncount it first and count whatever comes back. When
  // realloc fails the old block is still live, so it is counted again.
  NextScope scope;
  count_free(ptr);
  void* moved = g_next.realloc(ptr, size);
  if (moved != nullptr) {
    count_alloc(moved);
  } else if (ptr != nullptr && size != 0) {
    count_alloc(ptr);
  }
  return moved;
}

void* memalign(std::size_t alignment, std::size_t size) noexcept {
  if (!ready()) return alignment <= 64 ? bootstrap_alloc(size) : nullptr;
  NextScope scope;
  void* ptr = g_next.memalign(alignment, size);
  count_alloc(ptr);
  return ptr;
}

void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  if (!valid_alignment(alignment)) {
    errno = EINVAL;
    return nullptr;
  }
  return memalign(alignment, size);
}

int posix_memalign(void** out, std::size_t alignment, std::size_t size) noexcept {
  if (!valid_alignment(alignment) || alignment % sizeof(void*) != 0) return EINVAL;
  void* ptr = memalign(alignment, size);
  if (ptr == nullptr) return ENOMEM;
  *out = ptr;
  return 0;
}

void* valloc(std::size_t size) noexcept {
  return memalign(static_cast<std::size_t>(sysconf(_SC_PAGESIZE)), size);
}

void* pvalloc(std::size_t size) noexcept {
  auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return memalign(page, (size + page - 1) / page * page);
}

}  // extern "C"

// operator new and delete, defined here too: jemalloc, tcmalloc and mimalloc each define their
// own, which would take C++ allocations straight to the allocator, past the counters. These
// follow the standard's contract (new_handler loop, std::bad_alloc) on top of the functions
// above.
namespace {

void* new_or_throw(std::size_t size, std::size_t alignment) {
  if (size == 0) size = 1;
  for (;;) {
    void* ptr = alignment <= alignof(std::max_align_t) ? malloc(size) : memalign(alignment, size);
    if (ptr != nullptr) return ptr;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void* new_or_null(std::size_t size, std::size_t alignment) noexcept {
  try {
    return new_or_throw(size, alignment);
  } catch (...) {
    return nullptr;
  }
}

}  // namespace

void* operator new(std::size_t size) { return new_or_throw(size, 0); }
void* operator new[](std::size_t size) { return new_or_throw(size, 0); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return new_or_null(size, 0); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return new_or_null(size, 0); }
void* operator new(std::size_t size, std::align_val_t alignment) {
  return new_or_throw(size, static_cast<std::size_t>(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return new_or_throw(size, static_cast<std::size_t>(alignment));
}
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return new_or_null(size, static_cast<std::size_t>(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return new_or_null(size, static_cast<std::size_t>(alignment));
}
void operator delete(void* ptr) noexcept { free(ptr); }
void operator delete[](void* ptr) noexcept { free(ptr); }
void operator delete(void* ptr, std::size_t) noexcept { free(ptr); }
void operator delete[](void* ptr, std::size_t) noexcept { free(ptr); }
void operator delete(void* ptr, const std::nothrow_t&) noexcept { free(ptr); }
void operator delete[](void* ptr, const std::nothrow_t&) noexcept { free(ptr); }
void operator delete(void* ptr, std::align_val_t) noexcept { free(ptr); }
void operator delete[](void* ptr, std::align_val_t) noexcept { free(ptr); }
void operator delete(void* ptr, std::size_t, std::align_val_t) noexcept { free(ptr); }
void operator delete[](void* ptr, std::size_t, std::align_val_t) noexcept { free(ptr); }
void operator delete(void* ptr, std::align_val_t, const std::nothrow_t&) noexcept { free(ptr); }
void operator delete[](void* ptr, std::align_val_t, const std::nothrow_t&) noexcept { free(ptr); }
