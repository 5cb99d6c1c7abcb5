// Table-driven tests of the /proc text parsers with canned input.
#include "harness/proc_parsers.h"

#include <gtest/gtest.h>

namespace memsoak::harness {
namespace {

TEST(ParseStatm, ReadsSizeResidentAndShared) {
  auto pages = parse_statm("2789 1450 1024 188 0 397 0\n");
  ASSERT_TRUE(pages);
  EXPECT_EQ(pages->size, 2789u);
  EXPECT_EQ(pages->resident, 1450u);
  EXPECT_EQ(pages->shared, 1024u);
}

TEST(ParseStatm, RejectsMalformedText) {
  for (const char* text : {"", "12", "12 34", "a b c", "12 -3 4", "12 34x 5"}) {
    EXPECT_FALSE(parse_statm(text)) << "'" << text << "'";
  }
}

// A real /proc/PID/stat line, shortened after field 22.
constexpr const char* kStat =
    "4242 (memsoak) S 1 4242 4242 34816 4242 4194304 5123 77 3 0 150 25 0 0 20 0 3 0 12345";

TEST(ParseStat, ReadsFaultsTimesAndThreads) {
  auto f = parse_stat(kStat);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->minor_faults, 5123u);
  EXPECT_EQ(f->major_faults, 3u);
  EXPECT_EQ(f->utime_ticks, 150u);
  EXPECT_EQ(f->stime_ticks, 25u);
  EXPECT_EQ(f->num_threads, 3u);
}

TEST(ParseStat, CommandNameMayHoldSpacesAndParentheses) {
  auto f = parse_stat("77 (a (b) c) ) R 1 77 77 0 -1 0 9 0 1 0 4 5 0 0 20 0 7 0 1");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->minor_faults, 9u);
  EXPECT_EQ(f->major_faults, 1u);
  EXPECT_EQ(f->num_threads, 7u);
}

TEST(ParseStat, NegativePriorityAndNiceDoNotConfuseIt) {
  auto f = parse_stat("9 (rt) S 1 9 9 0 -1 0 1 0 0 0 2 3 0 0 -51 -20 4 0 1");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->num_threads, 4u);
}

TEST(ParseStat, RejectsTruncatedOrMalformedText) {
  for (const char* text :
       {"", "4242 memsoak S 1", "4242 (memsoak) S 1 2 3", "1 (x) S 1 1 1 0 -1 0 z 0 0 0 1 1 0 0 20 0 1"}) {
    EXPECT_FALSE(parse_stat(text)) << "'" << text << "'";
  }
}

}  // namespace
}  // namespace memsoak::harness
