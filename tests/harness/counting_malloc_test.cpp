// The counting allocator (linked into this test binary): every allocation function is counted,
// frees uncount, realloc keeps the books straight, and the counters can be read from a signal
// handler.
#include <gtest/gtest.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "harness/artifacts.h"
#include "harness/heap_counters.h"
#include "harness/stack_sampling.h"
#include "harness/tracker/internal/stacks.h"
#include "reports/stack_dump.h"
#include "tests/sanitizers.h"

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

// What the signal handler below saw.
std::atomic<int> g_signals_handled{0};
std::atomic<std::int64_t> g_min_blocks_seen{0};
std::atomic<std::int64_t> g_max_blocks_seen{0};

void read_counters_in_handler(int) {
  std::int64_t blocks = read_heap_counters().live_blocks;
  if (blocks < g_min_blocks_seen.load(std::memory_order_relaxed)) g_min_blocks_seen.store(blocks);
  if (blocks > g_max_blocks_seen.load(std::memory_order_relaxed)) g_max_blocks_seen.store(blocks);
  g_signals_handled.fetch_add(1, std::memory_order_relaxed);
}

// read_heap_counters() is async-signal-safe: a handler that reads it while the thread it
// interrupted is halfway through counting a malloc or free must neither count that thread's
// delta twice (the books would not balance afterwards) nor see more than the documented offset.
TEST(CountingMalloc, ReadingFromASignalHandlerThatInterruptsTheAllocatorKeepsTheBooks) {
  std::thread([] {}).join();
  // SIGURG's default action is to ignore it, so one still pending after the test is harmless.
  struct sigaction action {};
  action.sa_handler = read_counters_in_handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  struct sigaction previous {};
  ASSERT_EQ(sigaction(SIGURG, &action, &previous), 0);

  constexpr int kLive = 100;  // blocks of the loop live at once, at most
  HeapCounters before = read_heap_counters();
  g_min_blocks_seen = g_max_blocks_seen = before.live_blocks;
  pthread_t target = pthread_self();
  std::atomic<bool> stop{false};
  std::thread sender([&] {  // its std::thread state: allocated here, freed by the sender
    while (!stop.load(std::memory_order_relaxed)) pthread_kill(target, SIGURG);
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  static void* blocks[kLive];
  for (int round = 0; g_signals_handled.load() < 5000 && std::chrono::steady_clock::now() < deadline;
       ++round) {
    for (int i = 0; i < kLive; ++i)
      blocks[i] = std::malloc(16 + static_cast<std::size_t>((round + i) % 200) * 8);
    for (void* block : blocks) std::free(block);
  }
  stop = true;
  sender.join();
  sched_yield();  // a system call: a signal still pending is handled on its return
  ASSERT_EQ(sigaction(SIGURG, &previous, nullptr), 0);

  EXPECT_GE(g_signals_handled.load(), 1000) << "too few signals to exercise the handler";
  HeapCounters after = read_heap_counters();
  EXPECT_EQ(after.live_bytes, before.live_bytes);
  EXPECT_EQ(after.live_blocks, before.live_blocks);
  // The live blocks were always in [before, before + kLive + 1] (the sender's state); a reading
  // in the handler may miss this thread's unflushed delta: fewer than 64 blocks and the one being
  // counted.
  EXPECT_GE(g_min_blocks_seen.load(), before.live_blocks - 64);
  EXPECT_LE(g_max_blocks_seen.load(), before.live_blocks + kLive + 1 + 64);
}

// Each new thread's first block is sampled like any other: neither always (it once was, with a
// weight that assumed it was unlikely) nor never. 2000 threads each keep one small block; the
// sampled estimate of what the run left live is within 25 % of the exact counters (about 600
// samples at this mean, so 4 standard errors). Starts the sampler, which stays on from here.
TEST(CountingMalloc, XANewThreadsFirstBlockIsSampledWithoutBias) {
  SoakConfig config;
  config.stacks.sample_bytes = 256;
  config.iterations = 1;
  config.warmup = 0;
  start_stack_sampling(config);
  static void* kept[2000];
  stack_run_begin(0, true);  // count what this "run" leaves live
  const HeapCounters before = read_heap_counters();
  for (void*& slot : kept) std::thread([&slot] { slot = std::malloc(64); }).join();
  const HeapCounters after = read_heap_counters();
  double estimate = 0;
  internal::stacks::Tables* t = internal::stacks::tables();
  ASSERT_NE(t, nullptr);
  const std::uint32_t n = std::min(t->record_count.load(), internal::stacks::kStackCapacity);
  for (std::uint32_t i = 0; i < n; ++i) estimate += static_cast<double>(t->records[i].run_bytes.load());
  const auto exact = static_cast<double>(after.live_bytes - before.live_bytes);
  EXPECT_NEAR(estimate, exact, 0.25 * exact);
  for (void* p : kept) std::free(p);
}

// What the tracker writes is what the report reads: a stack epoch artifact, parsed and symbolized,
// names the function that holds the bytes, with the bytes it holds. (Starts the sampler, which
// then stays on: the tests from here on run with it.)
[[gnu::noinline]] void* y_tracker_test_keeps(std::size_t bytes) {
  void* p = std::malloc(bytes);
  std::memset(p, 1, bytes);
  return p;
}

TEST(CountingMalloc, YTheTrackersEpochIsWhatTheReportReads) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("memsoak-tracker-epoch-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);  // a run directory exists before its artifacts
  set_artifact_directory(dir, 0);
  SoakConfig config;
  config.stacks.sample_bytes = 0;  // every allocation: exact
  config.iterations = 1;
  config.warmup = 0;
  start_stack_sampling(config);
  stack_run_begin(0, false);
  std::vector<void*> kept;
  for (int i = 0; i < 10; ++i) kept.push_back(y_tracker_test_keeps(10000));
  stack_run_end(0);  // the last run: an epoch
  ArtifactListing listing = list_artifacts(dir);
  ASSERT_EQ(listing.complete.size(), 1u);
  EXPECT_EQ(listing.complete[0].kind, "stacks");
  reports::StackDump dump = reports::parse_stack_dump(read_artifact_payload(listing.complete[0]),
                                                      listing.complete[0].path.string());
  reports::Symbolizer symbols;
  bool found = false;
  for (const reports::DumpedStack& s : dump.stacks) {
    for (const reports::DumpedFrame& f : s.frames) {
      if (f.module == reports::kNoModule) continue;
      for (const reports::SymbolFrame& frame : symbols.resolve(dump.modules[f.module], f.offset)) {
        if (frame.function.find("y_tracker_test_keeps") != std::string::npos) {
          found = true;
          EXPECT_EQ(s.bytes, 10 * static_cast<std::int64_t>(malloc_usable_size(kept[0])));
        }
      }
    }
  }
  EXPECT_TRUE(found) << "no stack names y_tracker_test_keeps";
  for (void* p : kept) std::free(p);
  std::filesystem::remove_all(dir);
}

// Every allocation's stack is taken (unwinding included) while three threads allocate, and the
// process forks meanwhile: each child allocates, unwinds and exits; none may hang on a lock a
// thread held at the fork. This test runs last in its binary.
TEST(CountingMalloc, ZForkWhileThreadsAllocateUnderStackSamplingNeitherCrashesNorHangs) {
  if (memsoak::testing::kUnderAsan) GTEST_SKIP() << memsoak::testing::kNoForkWhileThreadsAllocateUnderAsan;
  SoakConfig config;
  config.stacks.sample_bytes = 0;  // every allocation
  config.iterations = 100;
  config.warmup = 0;
  start_stack_sampling(config);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&stop] {
      while (!stop.load()) {
        std::vector<std::unique_ptr<std::string>> v;
        for (int i = 0; i < 64; ++i) v.push_back(std::make_unique<std::string>(100 + i, 'x'));
      }
    });
  }
  for (int i = 0; i < 100; ++i) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      alarm(10);  // a deadlock ends as SIGALRM, not as a hung test
      stack_run_begin(static_cast<std::uint64_t>(i), true);
      std::vector<std::unique_ptr<std::string>> v;
      for (int j = 0; j < 100; ++j) v.push_back(std::make_unique<std::string>(200, 'y'));
      stack_run_end(static_cast<std::uint64_t>(i));
      _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child " << i << " status " << status;
  }
  stop = true;
  for (auto& t : threads) t.join();
}

}  // namespace
}  // namespace memsoak::harness
