// Counting allocator: replaces malloc and friends in the memsoak executable and forwards to glibc,
// keeping process-wide counts of live bytes and blocks so that every sample has the live heap.
//
// Why not mallinfo2(): it walks the free lists, O(free chunks), milliseconds on a fragmented heap
// (see tests/bench/sampler_bench.cpp); these counters cost two relaxed atomic adds per call.
// Contract of every function here: noexcept, no allocation, no locks, safe after fork.
// Sizes are malloc_usable_size(), so a 4096-byte request counts as glibc's 4104-byte block.
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>

extern "C" {
void* __libc_malloc(std::size_t size);
void __libc_free(void* ptr);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* ptr, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
}

namespace {

std::atomic<std::int64_t> g_live_bytes{0};
std::atomic<std::int64_t> g_live_blocks{0};

void count_alloc(void* ptr) noexcept {
  if (ptr == nullptr) return;
  g_live_bytes.fetch_add(static_cast<std::int64_t>(malloc_usable_size(ptr)), std::memory_order_relaxed);
  g_live_blocks.fetch_add(1, std::memory_order_relaxed);
}

// Counted before the block goes back to glibc, so that no other thread can be handed the same
// address (and count it) in between.
void count_free(void* ptr) noexcept {
  if (ptr == nullptr) return;
  g_live_bytes.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(ptr)), std::memory_order_relaxed);
  g_live_blocks.fetch_sub(1, std::memory_order_relaxed);
}

bool valid_alignment(std::size_t alignment) noexcept {
  return alignment != 0 && (alignment & (alignment - 1)) == 0;
}

}  // namespace

extern "C" {

// Read by harness/heap_counters.cpp through a weak reference.
int memsoak_heap_counters(std::int64_t* live_bytes, std::int64_t* live_blocks) noexcept {
  *live_bytes = g_live_bytes.load(std::memory_order_relaxed);
  *live_blocks = g_live_blocks.load(std::memory_order_relaxed);
  return 0;
}

void* malloc(std::size_t size) noexcept {
  void* ptr = __libc_malloc(size);
  count_alloc(ptr);
  return ptr;
}

void free(void* ptr) noexcept {
  count_free(ptr);
  __libc_free(ptr);
}

void* calloc(std::size_t count, std::size_t size) noexcept {
  void* ptr = __libc_calloc(count, size);
  count_alloc(ptr);
  return ptr;
}

void* realloc(void* ptr, std::size_t size) noexcept {
  // glibc may move or free the block; uncount it first and count whatever comes back. When
  // realloc fails the old block is still live, so it is counted again.
  count_free(ptr);
  void* moved = __libc_realloc(ptr, size);
  if (moved != nullptr) {
    count_alloc(moved);
  } else if (ptr != nullptr && size != 0) {
    count_alloc(ptr);
  }
  return moved;
}

void* memalign(std::size_t alignment, std::size_t size) noexcept {
  void* ptr = __libc_memalign(alignment, size);
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
