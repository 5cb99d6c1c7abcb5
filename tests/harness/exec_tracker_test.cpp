// The exec tracker: ExternalWorker with libmemsoak_tracker.so preloaded reads the live heap of the
// worker's tree (malloc bytes plus anonymous mappings) from the shared region, one slot per
// process; dead and zombie processes do not count; a tree that does not report gets no heap.
#include "harness/exec_tracker.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "harness/external_worker.h"

namespace memsoak::harness {
namespace {

std::string tracker_library() {
  auto library = find_tracker_library();
  EXPECT_TRUE(library.has_value()) << "libmemsoak_tracker.so not found";
  return library ? library->string() : std::string();
}

std::unique_ptr<ExternalWorker> started(const std::string& command, bool tracker = true) {
  ExternalWorkerOptions options;
  options.command = command;
  options.ready_timeout_ms = options.run_timeout_ms = 20'000;
  options.stop_grace_ms = 300;
  if (tracker) options.tracker_library = tracker_library();
  auto worker = std::make_unique<ExternalWorker>(options);
  WorkerStart start = worker->start();
  EXPECT_TRUE(start.ok) << start.failure;
  return worker;
}

std::string cpp_worker(const std::string& flags) {
  return std::string("exec '") + MEMSOAK_EXAMPLE_WORKER + "' " + flags;
}

std::string python(const std::string& script_or_flags) {
  return std::string("exec '") + MEMSOAK_PYTHON3 + "' " + script_or_flags;
}

TEST(ExecTracker, LibraryIsFoundBesideMemsoakOrWhereItWasBuilt) {
  auto library = find_tracker_library();
  ASSERT_TRUE(library.has_value());
  EXPECT_TRUE(library->is_absolute());
  EXPECT_EQ(library->filename(), kTrackerLibraryName);
}

TEST(ExecTracker, CppWorkerLeakIsSeenInTheHeapExactly) {
  auto worker = started(cpp_worker("--leak 65536"));
  RunOutcome first = worker->run(0);
  ASSERT_TRUE(first.ok) << first.failure;
  ASSERT_NE(first.worker.heap_live_bytes, kNotMeasured);
  RunOutcome last;
  for (std::uint64_t i = 1; i <= 20; ++i) last = worker->run(i);
  ASSERT_TRUE(last.ok) << last.failure;
  ASSERT_TRUE(worker->tracker_reading()->complete());
  EXPECT_EQ(worker->tracker_reading()->reporting, 1u);
  // 20 blocks of 65536 bytes (65552 usable each); the flush offset is under 64 blocks of the
  // worker's small strings. glibc maps none of them through the PLT: no mapping is counted twice.
  const std::int64_t growth = last.worker.heap_live_bytes - first.worker.heap_live_bytes;
  EXPECT_GE(growth, 20 * 65536);
  EXPECT_LT(growth, 20 * 65536 + 16 * 1024);
  EXPECT_EQ(worker->tracker_reading()->mmap_bytes, 0);
}

TEST(ExecTracker, LargeMallocBlocksAreCountedOnceNotAlsoAsMappings) {
  // 1 MiB blocks are above glibc's mmap threshold: glibc maps them itself, not through the PLT.
  auto worker = started(cpp_worker("--leak 1048576"));
  RunOutcome first = worker->run(0);
  RunOutcome last;
  for (std::uint64_t i = 1; i <= 4; ++i) last = worker->run(i);
  ASSERT_TRUE(last.ok) << last.failure;
  const std::int64_t growth = last.worker.heap_live_bytes - first.worker.heap_live_bytes;
  EXPECT_GE(growth, 4 * 1048576);
  EXPECT_LT(growth, 4 * 1048576 + 64 * 1024);
}

TEST(ExecTracker, OffMeansNoHeap) {
  auto worker = started(cpp_worker("--leak 4096"), false);
  RunOutcome outcome = worker->run(0);
  ASSERT_TRUE(outcome.ok) << outcome.failure;
  EXPECT_EQ(outcome.worker.heap_live_bytes, kNotMeasured);
  EXPECT_FALSE(worker->tracker_reading().has_value());
}

TEST(ExecTracker, AWorkerThatDropsThePreloadHasNoHeap) {
  auto worker = started("exec env -u LD_PRELOAD '" + std::string(MEMSOAK_EXAMPLE_WORKER) + "'");
  RunOutcome outcome = worker->run(0);
  ASSERT_TRUE(outcome.ok) << outcome.failure;
  EXPECT_EQ(outcome.worker.heap_live_bytes, kNotMeasured);
  ASSERT_TRUE(worker->tracker_reading().has_value());
  EXPECT_EQ(worker->tracker_reading()->reporting, 0u);
  EXPECT_EQ(worker->tracker_reading()->silent, 1u);
}

TEST(ExecTracker, PythonSmallObjectsAreSeenThroughPymallocArenas) {
  auto worker = started(python(std::string("'") + MEMSOAK_RERANKER_WORKER_PY + "' --leak-objects 20000"));
  RunOutcome first = worker->run(0);
  ASSERT_TRUE(first.ok) << first.failure;
  const std::int64_t arenas_before = worker->tracker_reading()->mmap_bytes;
  RunOutcome last;
  for (std::uint64_t i = 1; i <= 10; ++i) last = worker->run(i);
  ASSERT_TRUE(last.ok) << last.failure;
  // 200k tuples of two fresh ints: about 200k * (64 + 2 * 32) bytes, in pymalloc's arenas.
  const std::int64_t arena_growth = worker->tracker_reading()->mmap_bytes - arenas_before;
  EXPECT_GT(arena_growth, 16 << 20);
  EXPECT_GT(last.worker.heap_live_bytes - first.worker.heap_live_bytes, 16 << 20);
}

// A worker that forks a child holding 8 MiB and says READY once the child has it. RUN 1 makes the
// child exit and waits until it is a zombie; RUN 2 reaps it.
constexpr const char* kForkingWorker = R"py(import os, sys
go_r, go_w = os.pipe()
ready_r, ready_w = os.pipe()
child = os.fork()
if child == 0:
    os.close(go_w)
    block = bytearray(8 << 20)
    os.write(ready_w, b"x")
    os.read(go_r, 1)
    os._exit(0)
os.read(ready_r, 1)
print("READY", flush=True)
for line in sys.stdin:
    run = int(line.split()[1])
    if run == 1:
        os.close(go_w)
        while open(f"/proc/{child}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
            pass
    if run == 2:
        os.waitpid(child, 0)
    print("OK", flush=True)
)py";

TEST(ExecTracker, AForkedChildCountsWhileAliveAndNotOnceDead) {
  std::filesystem::path script = std::filesystem::temp_directory_path() /
                                 ("memsoak-forking-worker-" + std::to_string(::getpid()) + ".py");
  std::ofstream(script) << kForkingWorker;
  auto worker = started(python("'" + script.string() + "'"));
  RunOutcome alive = worker->run(0);
  ASSERT_TRUE(alive.ok) << alive.failure;
  EXPECT_EQ(worker->tracker_reading()->reporting, 2u);
  RunOutcome zombie = worker->run(1);
  ASSERT_TRUE(zombie.ok) << zombie.failure;
  EXPECT_EQ(worker->tracker_reading()->reporting, 1u);
  // The child counted its copy of the parent's heap and its own 8 MiB block.
  EXPECT_GT(alive.worker.heap_live_bytes - zombie.worker.heap_live_bytes, 8 << 20);
  RunOutcome reaped = worker->run(2);
  ASSERT_TRUE(reaped.ok) << reaped.failure;
  EXPECT_EQ(worker->tracker_reading()->reporting, 1u);
  EXPECT_LT(std::abs(reaped.worker.heap_live_bytes - zombie.worker.heap_live_bytes), 1 << 20);
  std::filesystem::remove(script);
}

}  // namespace
}  // namespace memsoak::harness
