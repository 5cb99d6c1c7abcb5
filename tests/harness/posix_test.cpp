// Descriptor ownership on error paths: strategies that fail to get their pipes, or to start a
// worker, leave exactly as many descriptors open as before.
#include "harness/posix.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <system_error>

#include "harness/external_worker.h"
#include "harness/strategy.h"
#include "tests/harness/descriptors.h"
#include "tests/sanitizers.h"

namespace memsoak::harness {
namespace {

using testing::DescriptorLimit;
using testing::open_descriptors;

class NoopWorkload final : public Workload {
 public:
  void setup() override {}
  std::uint64_t run(std::uint64_t i) override { return i; }
};

StrategyContext native_context() {
  StrategyContext context;
  context.workload = WorkloadSource::native([] { return std::make_unique<NoopWorkload>(); });
  return context;
}

TEST(UniqueFd, ClosesOnceAndMoves) {
  const int before = open_descriptors();
  {
    PipePair pipe = make_pipe();
    EXPECT_EQ(open_descriptors(), before + 2);
    UniqueFd moved = std::move(pipe.read_end);
    EXPECT_FALSE(pipe.read_end.valid());
    EXPECT_TRUE(moved.valid());
  }
  EXPECT_EQ(open_descriptors(), before);
}

TEST(MakePipe, FailsWithoutLeavingAnEndOpen) {
  if (memsoak::testing::kSanitizerOwnsMalloc)
    GTEST_SKIP() << memsoak::testing::kNoDescriptorLimitUnderSanitizer;
  const int before = open_descriptors();
  {
    DescriptorLimit limit(1);  // a pipe needs two
    PipePair pipe;
    EXPECT_EQ(try_make_pipe(pipe), EMFILE);
    EXPECT_THROW(make_pipe(), std::system_error);
  }
  EXPECT_EQ(open_descriptors(), before);
}

// For each strategy, with room for 0..5 new descriptors: the run fails with a reason (or
// succeeds), and no descriptor is left behind either way. Three descriptors let the first pipe
// of a two-pipe strategy succeed and the second fail: the path that used to leak the first.
TEST(Strategies, ForcedDescriptorFailuresLeakNothing) {
  if (memsoak::testing::kSanitizerOwnsMalloc)
    GTEST_SKIP() << memsoak::testing::kNoDescriptorLimitUnderSanitizer;
  ::signal(SIGPIPE, SIG_IGN);  // as in an entry process: a dead worker's pipe fails a write
  for (const char* name : {"fork", "zygote", "recycle:2"}) {
    for (int free_fds = 0; free_fds <= 5; ++free_fds) {
      const int before = open_descriptors();
      {
        auto strategy = make_strategy(parse_strategy(name), native_context());
        DescriptorLimit limit(free_fds);
        try {
          strategy->start();
          RunOutcome outcome = strategy->run(0);
          if (!outcome.ok) {
            EXPECT_FALSE(outcome.failure.empty()) << name;
          }
        } catch (const std::exception& e) {
          EXPECT_NE(std::string(e.what()), "") << name;  // zygote's start throws when it has no template
        }
        strategy->stop();
      }
      EXPECT_EQ(open_descriptors(), before) << name << " with " << free_fds << " free descriptors";
    }
  }
}

TEST(ExternalWorker, ForcedDescriptorFailuresLeakNothing) {
  if (memsoak::testing::kSanitizerOwnsMalloc)
    GTEST_SKIP() << memsoak::testing::kNoDescriptorLimitUnderSanitizer;
  for (int free_fds = 0; free_fds <= 4; ++free_fds) {
    const int before = open_descriptors();
    {
      ExternalWorkerOptions options;
      options.command = "echo READY; cat >/dev/null";
      ExternalWorker worker(options);
      DescriptorLimit limit(free_fds);
      try {
        worker.start();
      } catch (const std::system_error&) {
        // pipe2 or open failed: expected with few descriptors
      }
      worker.stop();
    }
    EXPECT_EQ(open_descriptors(), before) << free_fds << " free descriptors";
  }
}

}  // namespace
}  // namespace memsoak::harness
