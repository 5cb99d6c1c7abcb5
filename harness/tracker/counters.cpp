// The counting allocator's counters: per-thread deltas flushed into process totals, and their read.
//
// Why per-thread deltas: a lock-prefixed atomic add on every malloc and free tripled the cost of
// an allocation-only loop (tools/bench_tracker.sh); a delta in thread-local storage costs a few
// plain stores, and the totals see two relaxed atomic adds only on a flush (every kFlushCalls
// calls, sooner when the delta passes kFlushBytes).
//
// Signal safety: a read (memsoak_heap_counters) flushes the calling thread's delta, a
// read-modify-write of thread-local fields. A signal handler that did that while the thread it
// interrupted was halfway through changing its delta would count part of it twice. So every change
// of a delta runs with the delta's `busy` flag set, and a read that finds the flag set leaves the
// delta alone. Only the thread itself and its signal handlers touch a delta, so the flag needs no
// atomic read-modify-write, only compiler ordering (std::atomic_signal_fence).
#include "harness/tracker/internal/counters.h"

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <type_traits>

namespace memsoak::harness::internal {
namespace {

// The process-wide totals. Lock-free, so that a signal handler may read them.
std::atomic<std::int64_t> g_live_bytes{0};
std::atomic<std::int64_t> g_live_blocks{0};
static_assert(std::atomic<std::int64_t>::is_always_lock_free);

struct ThreadDelta {
  std::int64_t bytes = 0;
  std::int64_t blocks = 0;
  std::int32_t calls = 0;
  bool registered = false;        // for the exit-time flush
  std::atomic<bool> busy{false};  // set while the delta changes (see the top of this file)
};
static_assert(std::atomic<bool>::is_always_lock_free);
// A thread_local with a destructor would be registered with __cxa_thread_atexit, which allocates.
static_assert(std::is_trivially_destructible_v<ThreadDelta>);

// constinit: no dynamic initialization, so no TLS wrapper call on the hot path.
constinit thread_local ThreadDelta t_delta;

std::atomic<const HeapMirror*> g_mirror{nullptr};

pthread_key_t g_flush_key;
std::atomic<bool> g_flush_key_ready{false};

// Marks the delta busy for the scope. The signal fences keep the compiler from moving the delta's
// accesses out of the scope; a signal handler runs on the same thread, so nothing more is needed.
class BusyScope {
 public:
  explicit BusyScope(ThreadDelta& delta) noexcept : delta_(delta) {
    delta_.busy.store(true, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }
  ~BusyScope() {
    std::atomic_signal_fence(std::memory_order_seq_cst);
    delta_.busy.store(false, std::memory_order_relaxed);
  }
  BusyScope(const BusyScope&) = delete;
  BusyScope& operator=(const BusyScope&) = delete;

 private:
  ThreadDelta& delta_;
};

// Call inside a BusyScope.
void flush(ThreadDelta& delta) noexcept {
  if (delta.bytes != 0) g_live_bytes.fetch_add(delta.bytes, std::memory_order_relaxed);
  if (delta.blocks != 0) g_live_blocks.fetch_add(delta.blocks, std::memory_order_relaxed);
  if (const HeapMirror* mirror = g_mirror.load(std::memory_order_acquire)) {
    mirror->bytes->fetch_add(delta.bytes, std::memory_order_relaxed);
    mirror->blocks->fetch_add(delta.blocks, std::memory_order_relaxed);
  }
  delta.bytes = delta.blocks = 0;
  delta.calls = 0;
}

// The pthread key's destructor: runs at thread exit, while the thread's TLS is still there.
void flush_at_thread_exit(void* arg) noexcept {
  ThreadDelta& delta = *static_cast<ThreadDelta*>(arg);
  BusyScope busy(delta);
  flush(delta);
}

// Registers the thread's delta for the exit-time flush. pthread_setspecific of one of the first
// 32 keys uses storage inside the thread descriptor: no allocation, so it is safe in here.
void register_thread(ThreadDelta& delta) noexcept {
  delta.registered = true;
  if (g_flush_key_ready.load(std::memory_order_acquire)) pthread_setspecific(g_flush_key, &delta);
}

}  // namespace

void start_thread_exit_flush() noexcept {
  if (pthread_key_create(&g_flush_key, flush_at_thread_exit) == 0) {
    g_flush_key_ready.store(true, std::memory_order_release);
  }
}

void count_heap_change(std::int64_t bytes, std::int64_t blocks) noexcept {
  ThreadDelta& delta = t_delta;
  BusyScope busy(delta);
  if (!delta.registered) register_thread(delta);
  delta.bytes += bytes;
  delta.blocks += blocks;
  if (++delta.calls >= kFlushCalls || delta.bytes > kFlushBytes || delta.bytes < -kFlushBytes) flush(delta);
}

void set_heap_mirror(const HeapMirror* mirror) noexcept {
  g_mirror.store(nullptr, std::memory_order_release);
  ThreadDelta& delta = t_delta;
  if (!delta.busy.load(std::memory_order_relaxed)) {
    BusyScope busy(delta);
    flush(delta);
  }
  if (mirror == nullptr) return;
  mirror->bytes->store(g_live_bytes.load(std::memory_order_relaxed), std::memory_order_relaxed);
  mirror->blocks->store(g_live_blocks.load(std::memory_order_relaxed), std::memory_order_relaxed);
  g_mirror.store(mirror, std::memory_order_release);
}

// Read by harness/heap_counters.cpp through a weak reference; its header states the guarantees.
// Flushes the calling thread's delta first, unless a change of that delta (or another read) is
// under way on this thread, which only happens when this is a signal handler that interrupted it.
// (Declared in this namespace, the function still has C linkage and its plain name.)
extern "C" int memsoak_heap_counters(std::int64_t* live_bytes, std::int64_t* live_blocks) noexcept {
  ThreadDelta& delta = t_delta;
  if (!delta.busy.load(std::memory_order_relaxed)) {
    BusyScope busy(delta);
    flush(delta);
  }
  *live_bytes = g_live_bytes.load(std::memory_order_relaxed);
  *live_blocks = g_live_blocks.load(std::memory_order_relaxed);
  return 0;
}

}  // namespace memsoak::harness::internal
