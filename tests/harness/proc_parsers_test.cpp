// Table-driven tests of the /proc text parsers with canned input.
#include "harness/proc_parsers.h"

#include <gtest/gtest.h>

#include <vector>

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
  EXPECT_EQ(f->ppid, 1u);
  EXPECT_EQ(f->minor_faults, 5123u);
  EXPECT_EQ(f->major_faults, 3u);
  EXPECT_EQ(f->utime_ticks, 150u);
  EXPECT_EQ(f->stime_ticks, 25u);
  EXPECT_EQ(f->num_threads, 3u);
}

TEST(ParseStat, ReadsTheParentProcessId) {
  struct Case {
    const char* text;
    std::uint64_t ppid;
  };
  for (const Case& c : {
           Case{kStat, 1},
           Case{"1 (init) S 0 1 1 0 -1 4194560 900 0 10 0 30 40 0 0 20 0 1 0 5", 0},
           Case{"31337 (sh -c (x)) Z 29661 31337 29661 0 -1 4227084 96 0 0 0 0 0 0 0 20 0 1 0 9", 29661},
           Case{"2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 2", 0},
       }) {
    auto f = parse_stat(c.text);
    ASSERT_TRUE(f) << c.text;
    EXPECT_EQ(f->ppid, c.ppid) << c.text;
  }
}

TEST(ParseStat, RejectsANegativeOrMissingParent) {
  for (const char* text : {"5 (x) S -1 5 5 0 -1 0 1 0 0 0 1 1 0 0 20 0 1 0 1", "5 (x) S"}) {
    EXPECT_FALSE(parse_stat(text)) << "'" << text << "'";
  }
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

TEST(ParsePidList, ReadsTheChildrenFileFormat) {
  struct Case {
    const char* text;
    std::vector<std::uint64_t> pids;
  };
  for (const Case& c : {
           Case{"", {}},
           Case{"\n", {}},
           Case{"4242 ", {4242}},
           Case{"12 13 4194303 ", {12, 13, 4194303}},
           Case{"7 8\n", {7, 8}},
       }) {
    std::vector<std::uint64_t> out = {1};  // appended to, not replaced
    std::vector<std::uint64_t> expected = {1};
    expected.insert(expected.end(), c.pids.begin(), c.pids.end());
    EXPECT_TRUE(parse_pid_list(c.text, out)) << "'" << c.text << "'";
    EXPECT_EQ(out, expected) << "'" << c.text << "'";
  }
}

TEST(ParsePidList, RejectsAnythingElseAndLeavesTheOutputAlone) {
  for (const char* text : {"12 x ", "-3 ", "12,13", "1 2 3a"}) {
    std::vector<std::uint64_t> out = {9};
    EXPECT_FALSE(parse_pid_list(text, out)) << "'" << text << "'";
    EXPECT_EQ(out, std::vector<std::uint64_t>{9});
  }
}

}  // namespace
}  // namespace memsoak::harness
