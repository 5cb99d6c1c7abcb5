// Stack artifacts and leak suspects: the payload reader refuses malformed input with one line
// naming the file, fingerprints ignore addresses and lines, and symbols full of '<', '&' and
// quotes reach report.json and stacks-growth.folded intact.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "harness/errors.h"
#include "reports/report_json.h"
#include "reports/stack_dump.h"
#include "reports/writer.h"
#include "tests/scratch_dir.h"

namespace memsoak::reports {
namespace {

// A payload as the tracker writes it (docs/run-directory.md, "stacks" artifacts).
class Payload {
 public:
  template <typename T>
  Payload& put(T value) {
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof value);
    return *this;
  }
  Payload& text(const std::string& s) {
    bytes_ += s;
    return *this;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

Payload one_stack_payload(std::uint32_t depth = 2, std::uint32_t module_of_frame = 0) {
  Payload p;
  p.put<std::uint32_t>(1).put<std::uint32_t>(1).put<std::uint64_t>(99).put<std::uint64_t>(100);
  p.put<std::uint64_t>(4096).put<std::uint64_t>(0).put<std::int64_t>(123456);
  p.put<std::uint32_t>(1).put<std::uint32_t>(1);
  p.put<std::uint16_t>(8).put<std::uint16_t>(2).text("/bin/app").text("\xab\x01");
  p.put<std::int64_t>(8192)
      .put<std::int64_t>(512)
      .put<std::uint64_t>(3)
      .put<std::uint32_t>(depth)
      .put<std::uint32_t>(0);
  for (std::uint32_t i = 0; i < depth; ++i)
    p.put<std::uint32_t>(module_of_frame).put<std::uint32_t>(0).put<std::uint64_t>(0x1000 + i);
  return p;
}

TEST(StackDump, ReadsWhatTheTrackerWrites) {
  StackDump d = parse_stack_dump(one_stack_payload().bytes(), "a.stacks");
  EXPECT_EQ(d.kind, StackDump::Kind::kEpoch);
  EXPECT_EQ(d.run_index, 99u);
  EXPECT_EQ(d.runs_in_process, 100u);
  EXPECT_EQ(d.mean_bytes, 4096u);
  EXPECT_EQ(d.heap_live_bytes, 123456);
  ASSERT_EQ(d.modules.size(), 1u);
  EXPECT_EQ(d.modules[0].path, "/bin/app");
  EXPECT_EQ(d.modules[0].build_id, "ab01");
  ASSERT_EQ(d.stacks.size(), 1u);
  EXPECT_EQ(d.stacks[0].bytes, 8192);
  ASSERT_EQ(d.stacks[0].frames.size(), 2u);
  EXPECT_EQ(d.stacks[0].frames[1].offset, 0x1001u);
}

void expect_refused(const std::string& payload, const std::string& why) {
  try {
    parse_stack_dump(payload, "dir/artifacts/0/7-1.stacks");
    ADD_FAILURE() << "accepted; expected: " << why;
  } catch (const InputError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("dir/artifacts/0/7-1.stacks"), std::string::npos) << message;
    EXPECT_NE(message.find(why), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(StackDump, RefusesMalformedPayloadsNamingTheFile) {
  const std::string good = one_stack_payload().bytes();
  for (std::size_t cut : {std::size_t{0}, std::size_t{10}, std::size_t{60}, good.size() - 1})
    expect_refused(good.substr(0, cut), "truncated");
  expect_refused(good + "x", "bytes after the last stack");
  std::string newer = good;
  newer[0] = 2;
  expect_refused(newer, "payload format 2");
  expect_refused(one_stack_payload(0).bytes(), "0 frames");
  expect_refused(one_stack_payload(65).bytes(), "65 frames");
  expect_refused(one_stack_payload(2, 5).bytes(), "names module 5");
}

TEST(StackFingerprint, DependsOnModulesAndFunctionsOnly) {
  std::vector<SymbolFrame> a = {{"leak()", "/src/a.cpp", 10, "app"}, {"main", "/src/main.cpp", 3, "app"}};
  std::vector<SymbolFrame> rebuilt = {{"leak()", "/elsewhere/a.cpp", 12, "app"},
                                      {"main", "/x/main.cpp", 4, "app"}};
  std::vector<SymbolFrame> other = {{"other()", "/src/a.cpp", 10, "app"},
                                    {"main", "/src/main.cpp", 3, "app"}};
  EXPECT_EQ(stack_fingerprint(a), stack_fingerprint(rebuilt));
  EXPECT_NE(stack_fingerprint(a), stack_fingerprint(other));
  EXPECT_EQ(stack_fingerprint(a).size(), 16u);
}

TEST(AllocatorFrames, AreTheAllocatorAndTheTrackerOnly) {
  EXPECT_TRUE(is_allocator_frame({"malloc", "", 0, "memsoak"}));
  EXPECT_TRUE(is_allocator_frame({"operator new(unsigned long)", "", 0, "memsoak"}));
  EXPECT_TRUE(is_allocator_frame(
      {"memsoak::harness::internal::stacks::on_countdown(void*, unsigned long, long&)", "", 0, "memsoak"}));
  EXPECT_TRUE(is_allocator_frame({"anything", "", 0, "libmemsoak_tracker.so"}));
  EXPECT_FALSE(is_allocator_frame({"malloc_like_but_mine()", "", 0, "app"}));
  EXPECT_FALSE(
      is_allocator_frame({"std::vector<int, std::allocator<int> >::reserve(unsigned long)", "", 0, "app"}));
}

class SuspectOutputs : public testing::ScratchDirTest {
 protected:
  SuspectOutputs() : ScratchDirTest("suspects") {}
};

TEST_F(SuspectOutputs, SymbolsWithMarkupAndQuotesSurviveIntact) {
  Report report;
  report.stacks_sampled = true;
  StrategyReport s;
  s.strategy = "in-process";
  report.strategies.push_back(s);
  LeakSuspect l;
  l.strategy = "in-process";
  l.allocator = "glibc";
  l.fingerprint = "0123456789abcdef";
  l.basis = "epochs";
  l.growth_bytes_per_run = 4096.4;
  const std::string odd = "std::map<int, \"quoted\" & 'single'>::insert<T&&>(a;b)";
  l.frames = {{odd, "/src/<dir>/a&b.cpp", 7, "app"}, {"main", "", 0, "app"}};
  report.leak_suspects.push_back(l);
  write_reports(report, {dir_, nullptr});

  std::ifstream json_in(dir_ / "report.json");
  nlohmann::json json = nlohmann::json::parse(json_in);
  ASSERT_EQ(json["leak_suspects"].size(), 1u);
  EXPECT_EQ(json["leak_suspects"][0]["frames"][0]["function"], odd);
  EXPECT_EQ(json["leak_suspects"][0]["frames"][0]["file"], "/src/<dir>/a&b.cpp");
  EXPECT_TRUE(json["stacks_sampled"].get<bool>());

  std::ifstream folded_in(dir_ / "stacks-growth.folded");
  std::stringstream folded;
  folded << folded_in.rdbuf();
  // Root first; ';' is the format's separator, so the one inside the symbol becomes ','.
  EXPECT_EQ(folded.str(), "in-process;main;std::map<int, \"quoted\" & 'single'>::insert<T&&>(a,b) 4096\n");
}

}  // namespace
}  // namespace memsoak::reports
