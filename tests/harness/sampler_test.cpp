// ProcessSampler against real processes: it sees memory being touched, descriptors opened and
// threads started, in this process and in another one.
#include "harness/sampler.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "tests/sanitizers.h"

namespace memsoak::harness {
namespace {

TEST(ProcessSampler, RssGrowsWhenAnonymousMemoryIsTouched) {
  ProcessSampler sampler;
  ProcessSample before = sampler.sample();
  constexpr std::size_t kBytes = 32u << 20;
  void* block = ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(block, MAP_FAILED);
  std::memset(block, 1, kBytes);
  ProcessSample after = sampler.sample();
  ::munmap(block, kBytes);
  EXPECT_GE(after.rss_bytes - before.rss_bytes, static_cast<std::int64_t>(kBytes * 9 / 10));
  EXPECT_GE(after.anon_rss_bytes - before.anon_rss_bytes, static_cast<std::int64_t>(kBytes * 9 / 10));
  EXPECT_LT(sampler.rss_bytes(), after.rss_bytes) << "the statm-only path sees the unmap too";
}

TEST(ProcessSampler, CountsOpenDescriptorsWithoutItsOwn) {
  ProcessSampler sampler;
  std::int64_t before = sampler.sample().open_fds;
  int fd = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(sampler.sample().open_fds, before + 1);
  ::close(fd);
  EXPECT_EQ(sampler.sample().open_fds, before);
}

TEST(ProcessSampler, CountsThreads) {
  ProcessSampler sampler;
  std::int64_t before = sampler.sample().threads;
  std::int64_t during = 0;
  std::thread worker([&] { during = sampler.sample().threads; });
  worker.join();
  EXPECT_EQ(during, before + 1);
}

TEST(ProcessSampler, SamplesAnotherProcess) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  if (child == 0) {
    constexpr std::size_t kBytes = 64u << 20;
    char* block = static_cast<char*>(
        ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    std::memset(block, 1, kBytes);
    char c = 'r';
    (void)::write(ready[1], &c, 1);
    ::pause();
    ::_exit(0);
  }
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  {
    ProcessSampler sampler(child);
    ProcessSample s = sampler.sample();
    EXPECT_GE(s.rss_bytes, 60 << 20);
    EXPECT_EQ(s.threads, 1 + memsoak::testing::kSanitizerRuntimeThreads);
    EXPECT_EQ(s.heap_live_bytes, kNotMeasured) << "heap counters are only read for this process";
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}

}  // namespace
}  // namespace memsoak::harness
