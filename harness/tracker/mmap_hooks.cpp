// The preload's anonymous-mapping category: mmap, mmap64, munmap and mremap, forwarded.
//
// Counted: private anonymous mappings (MAP_PRIVATE | MAP_ANONYMOUS) made through the PLT, i.e. by
// the program and its libraries, outside the next allocator (interpose.cpp's NextScope). That is
// where CPython's small-object allocator takes its arenas. Not counted: file mappings (their pages
// can be dropped and read back), MAP_SHARED anonymous ones (shared with forked children, they would
// count once per process), and the mappings that glibc makes for itself (malloc's large blocks,
// thread stacks, the loader's): those use glibc's internal mmap, not the PLT, so large malloc
// blocks are in the heap once, not twice.
//
// Each counted mapping is remembered in a lock-free open-addressed table (start -> length, in a
// private anonymous mapping of its own made with the raw system call). munmap subtracts what it
// removes of remembered mappings: the whole mapping, its head, its tail or a hole in the middle
// (the tail and middle cases scan the table: rare, allocators trim with them when aligning). A
// mapping that the table could not take is not counted, so its unmap is not subtracted either.
// MAP_FIXED over a counted range first uncounts what it replaces.
//
// Hooks: noexcept, no allocation, no lock, errno preserved as the forwarded call left it.
#include <dlfcn.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstddef>
#include <cstdint>

#include "harness/tracker/internal/preload.h"

namespace memsoak::harness::internal {
namespace {

constexpr std::uint32_t kSlots = 1u << 14;  // counted mappings at once (CPython: 1 MiB arenas)
constexpr std::uint32_t kProbes = 64;
constexpr std::uintptr_t kEmpty = 0;
constexpr std::uintptr_t kTombstone = 1;

struct Slot {
  std::atomic<std::uintptr_t> start;
  std::atomic<std::size_t> length;
};

std::atomic<Slot*> g_table{nullptr};
std::atomic<std::int64_t> g_bytes{0};
std::atomic<std::int64_t> g_count{0};
std::atomic<std::atomic<std::int64_t>*> g_mirror_bytes{nullptr};
std::atomic<std::atomic<std::int64_t>*> g_mirror_count{nullptr};
// Every counted mapping lies within [g_low, g_high): an unmap outside needs no scan.
std::atomic<std::uintptr_t> g_low{~std::uintptr_t{0}};
std::atomic<std::uintptr_t> g_high{0};

using MmapFn = void* (*)(void*, std::size_t, int, int, int, off_t);
using MunmapFn = int (*)(void*, std::size_t);
using MremapFn = void* (*)(void*, std::size_t, std::size_t, int, ...);
std::atomic<MmapFn> g_next_mmap{nullptr};
std::atomic<MunmapFn> g_next_munmap{nullptr};
std::atomic<MremapFn> g_next_mremap{nullptr};

std::size_t page_round(std::size_t length) noexcept {
  const std::size_t page = 4096;
  return (length + page - 1) & ~(page - 1);
}

void* raw_mmap(void* addr, std::size_t length, int prot, int flags, int fd, off_t offset) noexcept {
  long result = syscall(SYS_mmap, addr, length, prot, flags, fd, offset);
  return result == -1 ? MAP_FAILED : reinterpret_cast<void*>(result);
}

// The next definitions (glibc's), resolved at start-up (start_mapping_table) or on first use;
// null, so the raw system call, while this thread is inside dlsym (it may map).
constinit thread_local bool t_resolving = false;

template <typename Fn>
Fn next(std::atomic<Fn>& cache, const char* name) noexcept {
  Fn fn = cache.load(std::memory_order_acquire);
  if (fn != nullptr || t_resolving) return fn;
  t_resolving = true;
  fn = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
  t_resolving = false;
  if (fn != nullptr) cache.store(fn, std::memory_order_release);
  return fn;
}

void add(std::int64_t bytes, std::int64_t count) noexcept {
  g_bytes.fetch_add(bytes, std::memory_order_relaxed);
  g_count.fetch_add(count, std::memory_order_relaxed);
  if (auto* mirror = g_mirror_bytes.load(std::memory_order_acquire)) {
    mirror->fetch_add(bytes, std::memory_order_relaxed);
  }
  if (auto* mirror = g_mirror_count.load(std::memory_order_acquire)) {
    mirror->fetch_add(count, std::memory_order_relaxed);
  }
}

std::uint32_t home(std::uintptr_t start) noexcept {
  return static_cast<std::uint32_t>(((start >> 12) * 0x9e3779b97f4a7c15ull) >> 50) & (kSlots - 1);
}

// Remembers [start, start + length) and counts it; false (not counted) when the table is full.
bool remember(std::uintptr_t start, std::size_t length) noexcept {
  Slot* table = g_table.load(std::memory_order_acquire);
  if (table == nullptr || length == 0) return false;
  const std::uint32_t h = home(start);
  for (std::uint32_t probe = 0; probe < kProbes; ++probe) {
    Slot& slot = table[(h + probe) & (kSlots - 1)];
    std::uintptr_t key = slot.start.load(std::memory_order_relaxed);
    if (key != kEmpty && key != kTombstone) continue;
    slot.length.store(length, std::memory_order_relaxed);
    if (!slot.start.compare_exchange_strong(key, start, std::memory_order_acq_rel)) continue;
    add(static_cast<std::int64_t>(length), 1);
    std::uintptr_t low = g_low.load(std::memory_order_relaxed);
    while (start < low && !g_low.compare_exchange_weak(low, start, std::memory_order_relaxed)) {
    }
    std::uintptr_t high = g_high.load(std::memory_order_relaxed);
    while (start + length > high &&
           !g_high.compare_exchange_weak(high, start + length, std::memory_order_relaxed)) {
    }
    return true;
  }
  return false;
}

// Forgets what of the remembered mapping in `slot` lies within [from, to), keeping the rest.
void cut(Slot& slot, std::uintptr_t start, std::size_t length, std::uintptr_t from,
         std::uintptr_t to) noexcept {
  const std::uintptr_t end = start + length;
  const std::uintptr_t lo = from > start ? from : start;
  const std::uintptr_t hi = to < end ? to : end;
  if (lo >= hi) return;
  std::uintptr_t expected = start;
  if (!slot.start.compare_exchange_strong(expected, kTombstone, std::memory_order_acq_rel)) return;
  add(-static_cast<std::int64_t>(length), -1);
  // What is left before and after the cut is remembered again (counted anew).
  if (lo > start) remember(start, lo - start);
  if (hi < end) remember(hi, end - hi);
}

// Uncounts every remembered byte within [addr, addr + length); returns whether any was.
bool forget_range(std::uintptr_t addr, std::size_t length) noexcept {
  Slot* table = g_table.load(std::memory_order_acquire);
  if (table == nullptr || length == 0 || g_count.load(std::memory_order_relaxed) == 0) return false;
  const std::uintptr_t to = addr + length;
  const std::int64_t before = g_bytes.load(std::memory_order_relaxed);
  // The usual case: the whole of one mapping, found at its home.
  const std::uint32_t h = home(addr);
  for (std::uint32_t probe = 0; probe < kProbes; ++probe) {
    Slot& slot = table[(h + probe) & (kSlots - 1)];
    std::uintptr_t key = slot.start.load(std::memory_order_acquire);
    if (key == kEmpty) break;
    if (key != addr) continue;
    std::size_t mapped = slot.length.load(std::memory_order_relaxed);
    cut(slot, key, mapped, addr, to);
    if (mapped >= length) return true;
    break;
  }
  if (to <= g_low.load(std::memory_order_relaxed) || addr >= g_high.load(std::memory_order_relaxed)) {
    return g_bytes.load(std::memory_order_relaxed) != before;
  }
  for (std::uint32_t i = 0; i < kSlots; ++i) {
    Slot& slot = table[i];
    std::uintptr_t key = slot.start.load(std::memory_order_acquire);
    if (key == kEmpty || key == kTombstone) continue;
    std::size_t mapped = slot.length.load(std::memory_order_relaxed);
    if (key < to && key + mapped > addr) cut(slot, key, mapped, addr, to);
  }
  return g_bytes.load(std::memory_order_relaxed) != before;
}

bool counted_kind(int flags) noexcept {
  return (flags & MAP_ANONYMOUS) != 0 && (flags & MAP_SHARED) == 0 && (flags & MAP_PRIVATE) != 0;
}

void on_mapped(void* result, std::size_t length, int flags) noexcept {
  if (result == MAP_FAILED || g_table.load(std::memory_order_relaxed) == nullptr) return;
  const auto start = reinterpret_cast<std::uintptr_t>(result);
  // MAP_FIXED replaces whatever was there, counted or not.
  if ((flags & MAP_FIXED) != 0) forget_range(start, page_round(length));
  if (counted_kind(flags) && !inside_next_allocator()) remember(start, page_round(length));
}

}  // namespace

bool start_mapping_table() noexcept {
  if (g_table.load(std::memory_order_acquire) != nullptr) return true;
  next(g_next_mmap, "mmap");
  next(g_next_munmap, "munmap");
  next(g_next_mremap, "mremap");
  void* table = raw_mmap(nullptr, sizeof(Slot) * kSlots, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (table == MAP_FAILED) return false;
  g_table.store(static_cast<Slot*>(table), std::memory_order_release);
  return true;
}

void set_mapping_mirror(std::atomic<std::int64_t>* bytes, std::atomic<std::int64_t>* count) noexcept {
  g_mirror_bytes.store(nullptr, std::memory_order_release);
  g_mirror_count.store(nullptr, std::memory_order_release);
  if (bytes == nullptr || count == nullptr) return;
  bytes->store(g_bytes.load(std::memory_order_relaxed), std::memory_order_relaxed);
  count->store(g_count.load(std::memory_order_relaxed), std::memory_order_relaxed);
  g_mirror_bytes.store(bytes, std::memory_order_release);
  g_mirror_count.store(count, std::memory_order_release);
}

}  // namespace memsoak::harness::internal

namespace internal = memsoak::harness::internal;

extern "C" {

void* mmap(void* addr, std::size_t length, int prot, int flags, int fd, off_t offset) noexcept {
  internal::MmapFn fn = internal::next(internal::g_next_mmap, "mmap");
  void* result = fn != nullptr ? fn(addr, length, prot, flags, fd, offset)
                               : internal::raw_mmap(addr, length, prot, flags, fd, offset);
  const int saved = errno;
  internal::on_mapped(result, length, flags);
  errno = saved;
  return result;
}

// x86-64: the same call (off_t is 64 bits); programs built with _FILE_OFFSET_BITS=64 (CPython)
// call it by this name.
void* mmap64(void* addr, std::size_t length, int prot, int flags, int fd, off_t offset) noexcept {
  return mmap(addr, length, prot, flags, fd, offset);
}

int munmap(void* addr, std::size_t length) noexcept {
  internal::MunmapFn fn = internal::next(internal::g_next_munmap, "munmap");
  int rc = fn != nullptr ? fn(addr, length) : static_cast<int>(syscall(SYS_munmap, addr, length));
  if (rc == 0) {
    const int saved = errno;
    internal::forget_range(reinterpret_cast<std::uintptr_t>(addr), internal::page_round(length));
    errno = saved;
  }
  return rc;
}

void* mremap(void* old_address, std::size_t old_size, std::size_t new_size, int flags, ...) noexcept {
  void* new_address = nullptr;
  if ((flags & MREMAP_FIXED) != 0) {
    va_list args;
    va_start(args, flags);
    new_address = va_arg(args, void*);
    va_end(args);
  }
  internal::MremapFn fn = internal::next(internal::g_next_mremap, "mremap");
  void* result =
      fn != nullptr
          ? fn(old_address, old_size, new_size, flags, new_address)
          : reinterpret_cast<void*>(syscall(SYS_mremap, old_address, old_size, new_size, flags, new_address));
  if (result == MAP_FAILED || old_size == 0) return result;  // old_size 0 duplicates a shared mapping
  const int saved = errno;
  const auto to = reinterpret_cast<std::uintptr_t>(result);
  if ((flags & MREMAP_FIXED) != 0) internal::forget_range(to, internal::page_round(new_size));
  // Counted again at its new place only if the old range was counted.
  if (internal::forget_range(reinterpret_cast<std::uintptr_t>(old_address), internal::page_round(old_size)) &&
      !internal::inside_next_allocator()) {
    internal::remember(to, internal::page_round(new_size));
  }
  errno = saved;
  return result;
}

}  // extern "C"
