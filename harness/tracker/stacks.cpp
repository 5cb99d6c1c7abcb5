// Allocation stacks sampled by bytes: decisions, unwinding and the lock-free tables (see
// internal/stacks.h for the model).
#include "harness/tracker/internal/stacks.h"

#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <cstring>

namespace memsoak::harness::internal::stacks {
namespace {

constexpr std::uintptr_t kTombstone = 1;

Tables g_tables_storage;
std::atomic<Tables*> g_tables{nullptr};
std::atomic<bool> g_enabled{false};
std::atomic<std::uint64_t> g_mean{512 * 1024};
std::atomic<std::uint32_t> g_depth{32};
std::atomic<std::uint32_t> g_generation{0};
constexpr std::int64_t kNever = std::int64_t{1} << 62;

// Set while this thread takes a sample: the unwinder may allocate, and those blocks are counted
// but never sampled (no recursion into the unwinder).
constinit thread_local bool t_in_sampler = false;
constinit thread_local std::uint64_t t_rng = 0;

void seed_random() noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  t_rng = reinterpret_cast<std::uintptr_t>(&t_rng) ^ static_cast<std::uint64_t>(now.tv_nsec) ^
          (static_cast<std::uint64_t>(now.tv_sec) << 32) ^ (static_cast<std::uint64_t>(getpid()) << 40);
}

std::uint64_t next_random() noexcept {
  if (t_rng == 0) seed_random();
  // splitmix64
  std::uint64_t z = (t_rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// An exponentially distributed distance with the given mean, at least 1 byte.
std::int64_t draw_distance(std::uint64_t mean) noexcept {
  double u = (static_cast<double>(next_random() >> 11) + 0.5) * 0x1.0p-53;  // (0, 1)
  double d = -std::log(u) * static_cast<double>(mean);
  if (d < 1) return 1;
  if (d > 0x1.0p62) return std::int64_t{1} << 62;
  return static_cast<std::int64_t>(d);
}

std::uint64_t hash_frames(void* const* frames, int depth) noexcept {
  std::uint64_t h = std::uint64_t{0xcbf29ce484222325u} ^ static_cast<std::uint32_t>(depth);
  for (int i = 0; i < depth; ++i) {
    h ^= reinterpret_cast<std::uintptr_t>(frames[i]);
    h *= 0x100000001b3ull;
    h ^= h >> 29;
  }
  return h == 0 ? 1 : h;
}

bool same_frames(const StackRecord& record, std::uint64_t hash, void* const* frames, int depth) noexcept {
  return record.hash == hash && record.depth == static_cast<std::uint32_t>(depth) &&
         std::memcmp(record.frames, frames, sizeof(void*) * static_cast<std::size_t>(depth)) == 0;
}

// The record of this stack, added when new. kNoStack when the table is full.
std::uint32_t intern(Tables& t, void* const* frames, int depth) noexcept {
  const std::uint64_t hash = hash_frames(frames, depth);
  std::uint32_t claimed = kNoStack;
  for (std::uint32_t probe = 0; probe < kStackIndexSlots; ++probe) {
    std::atomic<std::uint32_t>& slot = t.index[(hash + probe) & (kStackIndexSlots - 1)];
    std::uint32_t value = slot.load(std::memory_order_acquire);
    if (value == 0) {
      if (claimed == kNoStack) {
        claimed = t.record_count.fetch_add(1, std::memory_order_relaxed);
        if (claimed >= kStackCapacity) return kNoStack;
        StackRecord& r = t.records[claimed];
        r.hash = hash;
        r.depth = static_cast<std::uint32_t>(depth);
        std::memcpy(r.frames, frames, sizeof(void*) * static_cast<std::size_t>(depth));
      }
      if (slot.compare_exchange_strong(value, claimed + 1, std::memory_order_acq_rel)) {
        t.records[claimed].state.store(1, std::memory_order_release);
        return claimed;
      }
      // Another thread filled the slot first: `value` is now its record; look at it below.
    }
    if (same_frames(t.records[value - 1], hash, frames, depth)) {
      if (claimed != kNoStack) t.records[claimed].state.store(2, std::memory_order_release);
      return value - 1;
    }
  }
  if (claimed != kNoStack) t.records[claimed].state.store(2, std::memory_order_release);
  return kNoStack;
}

std::size_t pointer_home(const void* ptr) noexcept {
  // Keeps neighbouring blocks in neighbouring slots, so a heap touches few pages of the table.
  auto p = reinterpret_cast<std::uintptr_t>(ptr);
  return ((p >> 4) ^ (p >> 24)) & (kPointerSlots - 1);
}

bool remember(Tables& t, void* ptr, std::int64_t weight, std::uint32_t stack,
              std::uint32_t generation) noexcept {
  const std::size_t home = pointer_home(ptr);
  for (std::uint32_t probe = 0; probe < kPointerProbes; ++probe) {
    Tables::PointerSlot& slot = t.pointers[(home + probe) & (kPointerSlots - 1)];
    std::uintptr_t key = slot.key.load(std::memory_order_relaxed);
    if (key != 0 && key != kTombstone) continue;
    if (slot.key.compare_exchange_strong(key, reinterpret_cast<std::uintptr_t>(ptr),
                                         std::memory_order_acquire)) {
      slot.weight = weight;
      slot.stack = stack;
      slot.generation = generation;
      return true;
    }
  }
  return false;
}

// The raw system call: in the preload library mmap() is interposed, and the tracker's own tables
// are not the program's memory.
// `resident`: all pages at once (MAP_POPULATE), so that using the table never grows the RSS.
void* map_zeroed(std::size_t bytes, bool resident) noexcept {
  const long flags = MAP_PRIVATE | MAP_ANONYMOUS | (resident ? MAP_POPULATE : MAP_NORESERVE);
  long p = syscall(SYS_mmap, nullptr, bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
  return p == -1 ? nullptr : reinterpret_cast<void*>(p);
}

// libunwind. The memsoak executable links it (after libgcc_s, see harness/CMakeLists.txt). The
// preload library loads it privately (RTLD_LOCAL), so that its _Unwind_* functions never replace
// libgcc_s's for the worker's own C++ exceptions.
using BacktraceFn = int (*)(void**, int);
BacktraceFn g_backtrace = nullptr;

bool load_unwinder() noexcept {
#ifdef MEMSOAK_TRACKER_PRELOAD
  void* lib = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) return false;
  g_backtrace = reinterpret_cast<BacktraceFn>(dlsym(lib, "unw_backtrace"));
  auto set_policy = reinterpret_cast<int (*)(unw_addr_space_t, unw_caching_policy_t)>(
      dlsym(lib, "_ULx86_64_set_caching_policy"));
  auto* space = static_cast<unw_addr_space_t*>(dlsym(lib, "_ULx86_64_local_addr_space"));
  if (set_policy != nullptr && space != nullptr) set_policy(*space, UNW_CACHE_PER_THREAD);
#else
  g_backtrace = unw_backtrace;
  unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
#endif
  return g_backtrace != nullptr;
}

}  // namespace

std::atomic<std::uint32_t> g_sampling_epoch{1};

Tables* tables() noexcept { return g_tables.load(std::memory_order_acquire); }

bool configure_tables() noexcept {
  if (tables() != nullptr) return true;
  auto* records = static_cast<StackRecord*>(map_zeroed(sizeof(StackRecord) * kStackCapacity, false));
  auto* index =
      static_cast<std::atomic<std::uint32_t>*>(map_zeroed(sizeof(std::uint32_t) * kStackIndexSlots, true));
  auto* pointers =
      static_cast<Tables::PointerSlot*>(map_zeroed(sizeof(Tables::PointerSlot) * kPointerSlots, true));
  if (records == nullptr || index == nullptr || pointers == nullptr || !load_unwinder()) return false;
  g_tables_storage.records = records;
  g_tables_storage.index = index;
  g_tables_storage.pointers = pointers;
  g_tables.store(&g_tables_storage, std::memory_order_release);
  return true;
}

void set_sampling(bool enabled, std::uint64_t mean_bytes, std::uint32_t depth) noexcept {
  g_mean.store(mean_bytes, std::memory_order_relaxed);
  g_depth.store(depth < 1 ? 1 : depth > kMaxDepth ? kMaxDepth : depth, std::memory_order_relaxed);
  g_enabled.store(enabled && tables() != nullptr, std::memory_order_release);
  g_sampling_epoch.fetch_add(1, std::memory_order_release);  // every thread redraws its distance
}

void reseed_thread() noexcept {
  seed_random();
  const std::uint64_t mean = sampling_mean();
  set_countdown(mean == 0 ? 0 : draw_distance(mean));
}

bool sampling_enabled() noexcept { return g_enabled.load(std::memory_order_acquire); }
std::uint64_t sampling_mean() noexcept { return g_mean.load(std::memory_order_relaxed); }

void on_countdown(void* ptr, std::size_t usable, std::int64_t& countdown,
                  std::uint32_t& thread_epoch) noexcept {
  const std::uint32_t epoch = g_sampling_epoch.load(std::memory_order_acquire);
  const bool enabled = sampling_enabled();
  const std::uint64_t mean = sampling_mean();
  if (thread_epoch != epoch) {
    // A new thread, or a new plan: the distance to the next sample is drawn afresh (the process
    // is memoryless, so starting it here is unbiased), counting this allocation's bytes: it is
    // sampled when the distance falls within it, like any other.
    thread_epoch = epoch;
    if (!enabled) {
      countdown = kNever;
      return;
    }
    if (mean != 0) {
      countdown = draw_distance(mean) - static_cast<std::int64_t>(usable);
      if (countdown > 0) return;
    }
  }
  if (!enabled) {
    countdown = kNever;
    return;
  }
  if (t_in_sampler) {
    // An allocation of the unwinder's: never sampled. Drawing afresh keeps the process Poisson
    // (it is memoryless); only the unwinder's own bytes are left out.
    countdown = mean == 0 ? 0 : draw_distance(mean);
    return;
  }
  double weight = static_cast<double>(usable);
  if (mean == 0) {
    countdown = 0;
  } else {
    countdown = draw_distance(mean);
    weight /= -std::expm1(-static_cast<double>(usable) / static_cast<double>(mean));
  }
  if (ptr == nullptr || usable == 0) return;
  Tables& t = *tables();
  t_in_sampler = true;
  void* frames[kMaxDepth];
  int depth = g_backtrace(frames, static_cast<int>(g_depth.load(std::memory_order_relaxed)));
  std::uint32_t stack = depth > 0 ? intern(t, frames, depth) : kNoStack;
  const auto w = static_cast<std::int64_t>(std::llround(weight));
  const auto blocks = static_cast<std::int64_t>(std::llround(256.0 * weight / static_cast<double>(usable)));
  const std::uint32_t generation = g_generation.load(std::memory_order_relaxed);
  if (stack == kNoStack || !remember(t, ptr, w, stack, generation)) {
    t.dropped.fetch_add(1, std::memory_order_relaxed);
  } else {
    StackRecord& r = t.records[stack];
    r.live_bytes.fetch_add(w, std::memory_order_relaxed);
    r.live_blocks_x256.fetch_add(blocks, std::memory_order_relaxed);
    r.run_bytes.fetch_add(w, std::memory_order_relaxed);
    r.run_blocks_x256.fetch_add(blocks, std::memory_order_relaxed);
    r.samples.fetch_add(1, std::memory_order_relaxed);
  }
  t_in_sampler = false;
}

void on_free(void* ptr, std::size_t usable) noexcept {
  Tables* t = tables();
  if (t == nullptr || ptr == nullptr || usable == 0) return;
  const std::size_t home = pointer_home(ptr);
  const auto key = reinterpret_cast<std::uintptr_t>(ptr);
  for (std::uint32_t probe = 0; probe < kPointerProbes; ++probe) {
    Tables::PointerSlot& slot = t->pointers[(home + probe) & (kPointerSlots - 1)];
    std::uintptr_t found = slot.key.load(std::memory_order_relaxed);
    if (found == 0) return;
    if (found != key) continue;
    const std::int64_t weight = slot.weight;
    const std::uint32_t stack = slot.stack;
    const bool this_run = slot.generation == g_generation.load(std::memory_order_relaxed);
    slot.key.store(kTombstone, std::memory_order_release);
    StackRecord& r = t->records[stack];
    const auto blocks = static_cast<std::int64_t>(
        std::llround(256.0 * static_cast<double>(weight) / static_cast<double>(usable)));
    r.live_bytes.fetch_sub(weight, std::memory_order_relaxed);
    r.live_blocks_x256.fetch_sub(blocks, std::memory_order_relaxed);
    if (this_run) {
      r.run_bytes.fetch_sub(weight, std::memory_order_relaxed);
      r.run_blocks_x256.fetch_sub(blocks, std::memory_order_relaxed);
    }
    return;
  }
}

void begin_run_generation() noexcept {
  Tables* t = tables();
  if (t == nullptr) return;
  g_generation.fetch_add(1, std::memory_order_relaxed);
  reseed_thread();
  std::uint32_t n = t->record_count.load(std::memory_order_relaxed);
  if (n > kStackCapacity) n = kStackCapacity;
  for (std::uint32_t i = 0; i < n; ++i) {
    t->records[i].run_bytes.store(0, std::memory_order_relaxed);
    t->records[i].run_blocks_x256.store(0, std::memory_order_relaxed);
  }
}

}  // namespace memsoak::harness::internal::stacks
