// The re-execution command lines: what the harness writes, tools/ parses back.
#include "harness/invocation.h"

#include <gtest/gtest.h>

#include "harness/errors.h"

namespace memsoak::harness {
namespace {

std::vector<std::string> after_command(std::vector<std::string> argv) {
  return {argv.begin() + 2, argv.end()};
}

TEST(Invocation, EntryRoundTrips) {
  EntryInvocation entry{"/runs/a b", 3, 120, 7, true};
  std::vector<std::string> argv = entry.to_argv();
  EXPECT_EQ(argv[0], "/proc/self/exe") << "re-executes the running binary, not a path that may change";
  EXPECT_EQ(argv[1], "_entry");
  EntryInvocation parsed = EntryInvocation::parse(after_command(argv));
  EXPECT_EQ(parsed.run_dir, entry.run_dir);
  EXPECT_EQ(parsed.entry_index, 3u);
  EXPECT_EQ(parsed.first_run, 120u);
  EXPECT_EQ(parsed.failures_before, 7u);
  EXPECT_TRUE(parsed.show_progress);
  EXPECT_EQ(parsed.deadline_ns, 0) << "no --duration, no deadline";
  entry.show_progress = false;
  EXPECT_FALSE(EntryInvocation::parse(after_command(entry.to_argv())).show_progress);
  entry.deadline_ns = 123'456'789'012;
  EXPECT_EQ(EntryInvocation::parse(after_command(entry.to_argv())).deadline_ns, 123'456'789'012);
}

TEST(Invocation, EntryRefusesABadDeadline) {
  using Words = std::vector<std::string>;
  const Words base = {"dir", "--entry", "1", "--first-run", "0", "--failures-before", "0", "--deadline-ns"};
  for (const char* bad : {"0", "-1", "x", "9223372036854775808"}) {
    Words words = base;
    words.push_back(bad);
    EXPECT_THROW(EntryInvocation::parse(words), InputError) << bad;
  }
}

TEST(Invocation, SpawnRoundTrips) {
  SpawnInvocation run{"/runs/x", 1, 99};
  SpawnInvocation parsed = SpawnInvocation::parse(after_command(run.to_argv()));
  EXPECT_EQ(parsed.run_dir, "/runs/x");
  EXPECT_EQ(parsed.entry_index, 1u);
  EXPECT_EQ(parsed.run_index, 99u);
}

TEST(Invocation, RefusesMissingOrBadWords) {
  using Words = std::vector<std::string>;
  for (const Words& bad : {Words{}, Words{"--entry", "1"}, Words{"dir", "--entry", "x", "--run", "1"},
                           Words{"dir", "--entry", "1"}, Words{"dir", "--entry", "1", "--run", "1", "extra"},
                           Words{"dir", "--entry", "99999999999", "--run", "1"}}) {
    EXPECT_THROW(SpawnInvocation::parse(bad), InputError) << ::testing::PrintToString(bad);
  }
  EXPECT_THROW(EntryInvocation::parse(Words{"dir", "--entry", "1", "--first-run", "0"}), InputError);
  EXPECT_THROW(SpawnInvocation::parse(Words{"dir", "--entry", "1", "--run", "1", "--bogus", "1"}),
               InputError);
  EXPECT_THROW(EntryInvocation::parse(
                   Words{"dir", "--entry", "1", "--first-run", "0", "--failures-before", "0", "--run", "1"}),
               InputError);
}

}  // namespace
}  // namespace memsoak::harness
