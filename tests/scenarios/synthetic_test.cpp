// The synthetic workload: leak-mode parsing, and outputs that depend only on (seed, run).
#include "scenarios/synthetic.h"

#include <gtest/gtest.h>

#include "harness/errors.h"

namespace memsoak::scenarios {
namespace {

TEST(ParseSyntheticLeak, AcceptsEveryDocumentedMode) {
  EXPECT_EQ(parse_synthetic_leak("none").kind, SyntheticLeak::Kind::kNone);
  SyntheticLeak dropped = parse_synthetic_leak("dropped:4096");
  EXPECT_EQ(dropped.kind, SyntheticLeak::Kind::kDropped);
  EXPECT_EQ(dropped.size_bytes, 4096u);
  SyntheticLeak cache = parse_synthetic_leak("cache:1KiB");
  EXPECT_EQ(cache.kind, SyntheticLeak::Kind::kCache);
  EXPECT_EQ(cache.size_bytes, 1024u);
  SyntheticLeak bounded = parse_synthetic_leak("bounded:100x4096");
  EXPECT_EQ(bounded.kind, SyntheticLeak::Kind::kBounded);
  EXPECT_EQ(bounded.count, 100u);
  EXPECT_EQ(bounded.size_bytes, 4096u);
}

TEST(ParseSyntheticLeak, RejectsBadModesNamingThem) {
  for (const char* text : {"leaky", "dropped", "dropped:", "dropped:abc", "dropped:0", "cache:-1",
                           "bounded:100", "bounded:0x4096", "bounded:x4096", "dropped:2GiB", ""}) {
    try {
      parse_synthetic_leak(text);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + text + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(SyntheticWorkload, OutputDependsOnlyOnSeedAndRun) {
  auto plain = make_synthetic_workload({}, 7)();
  auto leaky = make_synthetic_workload(parse_synthetic_leak("cache:512"), 7)();
  auto other_seed = make_synthetic_workload({}, 8)();
  plain->setup();
  leaky->setup();
  other_seed->setup();
  for (std::uint64_t i = 0; i < 20; ++i) EXPECT_EQ(plain->run(i), leaky->run(i)) << i;
  EXPECT_NE(plain->run(3), plain->run(4));
  EXPECT_NE(plain->run(3), other_seed->run(3));
  EXPECT_EQ(plain->run(5), plain->run(5)) << "a repeated run gives the same output";
}

}  // namespace
}  // namespace memsoak::scenarios
