// The counting allocator (linked into this test binary): every allocation function is counted,
// frees uncount, and realloc keeps the books straight.
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "harness/heap_counters.h"

namespace memsoak::harness {
namespace {

// Keeps the optimizer from removing an allocation paired with its free.
void* volatile g_sink = nullptr;

TEST(CountingMalloc, IsLinkedIntoThisBinary) { EXPECT_TRUE(heap_counters_available()); }

TEST(CountingMalloc, MallocAndFreeMoveLiveBytesByTheUsableSize) {
  HeapCounters before = read_heap_counters();
  void* p = std::malloc(4096);
  g_sink = p;
  HeapCounters during = read_heap_counters();
  EXPECT_EQ(during.live_bytes - before.live_bytes, static_cast<std::int64_t>(malloc_usable_size(p)));
  EXPECT_EQ(during.live_blocks - before.live_blocks, 1);
  std::free(p);
  HeapCounters after = read_heap_counters();
  EXPECT_EQ(after.live_bytes, before.live_bytes);
  EXPECT_EQ(after.live_blocks, before.live_blocks);
}

TEST(CountingMalloc, EveryEntryPointIsBalanced) {
  HeapCounters before = read_heap_counters();
  void* aligned = nullptr;
  ASSERT_EQ(posix_memalign(&aligned, 256, 3000), 0);
  void* grown = std::malloc(16);
  grown = std::realloc(grown, 100000);  // moves to an mmapped block
  // A plain array: a std::vector's own storage would still be live when the books are checked.
  void* blocks[] = {
      std::calloc(10, 100), std::aligned_alloc(64, 640), memalign(128, 1000), aligned, valloc(100), grown};
  auto object = std::make_unique<std::vector<int>>(1000);
  EXPECT_GT(read_heap_counters().live_bytes - before.live_bytes, 100000 + 4000 + 3000);
  object.reset();
  for (void* b : blocks) std::free(b);
  HeapCounters after = read_heap_counters();
  EXPECT_EQ(after.live_bytes, before.live_bytes);
  EXPECT_EQ(after.live_blocks, before.live_blocks);
}

// A failed realloc leaves the block live (C standard); g++ can't know it failed and warns.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuse-after-free"
TEST(CountingMalloc, FailedReallocKeepsTheBlockCounted) {
  HeapCounters before = read_heap_counters();
  void* p = std::malloc(100);
  void* huge = std::realloc(p, static_cast<std::size_t>(1) << 62);  // fails; p is still live
  EXPECT_EQ(huge, nullptr);
  EXPECT_EQ(read_heap_counters().live_blocks, before.live_blocks + 1);
  std::free(p);
  EXPECT_EQ(read_heap_counters().live_bytes, before.live_bytes);
}
#pragma GCC diagnostic pop

TEST(CountingMalloc, ReallocToZeroFrees) {
  HeapCounters before = read_heap_counters();
  void* p = std::malloc(100);
  g_sink = std::realloc(p, 0);  // glibc frees and returns NULL
  EXPECT_EQ(g_sink, nullptr);
  EXPECT_EQ(read_heap_counters().live_blocks, before.live_blocks);
}

// Each thread counts into its own delta: a thread that exits must not take its counts with it.
TEST(CountingMalloc, AThreadsAllocationsCountAfterItExits) {
  std::thread([] {}).join();  // the process's first thread allocates once (TLS); not our subject
  HeapCounters before = read_heap_counters();
  static void* kept[10];
  std::thread worker([] {
    for (void*& block : kept) block = std::malloc(1000);  // fewer calls than a flush needs
  });
  worker.join();
  HeapCounters after = read_heap_counters();
  EXPECT_EQ(after.live_blocks - before.live_blocks, 10) << "the exited thread's delta was flushed";
  std::int64_t bytes = 0;
  for (void* block : kept) bytes += static_cast<std::int64_t>(malloc_usable_size(block));
  EXPECT_EQ(after.live_bytes - before.live_bytes, bytes);
  for (void* block : kept) std::free(block);
  EXPECT_EQ(read_heap_counters().live_bytes, before.live_bytes);
}

// A thread per run that allocates what the caller frees (fewer calls than a flush needs): the
// books balance only if every exiting thread hands its counts over.
TEST(CountingMalloc, ThreadChurnLeavesNoDrift) {
  std::thread([] {}).join();
  HeapCounters before = read_heap_counters();
  for (int t = 0; t < 50; ++t) {
    static void* made[30];
    std::thread([] {
      for (int i = 0; i < 30; ++i) made[i] = std::malloc(64 + static_cast<std::size_t>(i));
    }).join();
    for (void* block : made) std::free(block);
  }
  HeapCounters after = read_heap_counters();
  EXPECT_EQ(after.live_bytes, before.live_bytes);
  EXPECT_EQ(after.live_blocks, before.live_blocks);
}

TEST(CountingMalloc, InvalidAlignmentIsRefusedAndNotCounted) {
  HeapCounters before = read_heap_counters();
  void* p = nullptr;
  EXPECT_EQ(posix_memalign(&p, 3, 100), EINVAL);
  EXPECT_EQ(read_heap_counters().live_blocks, before.live_blocks);
}

}  // namespace
}  // namespace memsoak::harness
