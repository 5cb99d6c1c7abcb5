// heaptrack's folded stacks: strict parsing, allocator frames, the summary, and the pass's record.
#include "reports/heaptrack.h"

#include <gtest/gtest.h>

#include <fstream>

#include "harness/errors.h"
#include "harness/heaptrack_pass.h"
#include "reports/report_json.h"
#include "tests/scratch_dir.h"

namespace memsoak::reports {
namespace {

std::string error_of(std::string_view text) {
  try {
    parse_folded_stacks(text, "leaked.folded");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(HeaptrackFolded, ParsesHeaptrackLinesRootFirst) {
  auto stacks = parse_folded_stacks(
      "main (t.cpp);leaky_function() (t.cpp); 5000\n"
      "_start;main (t.cpp); 0\n",
      "f");
  ASSERT_EQ(stacks.size(), 2u);
  EXPECT_EQ(stacks[0].frames, (std::vector<std::string>{"main (t.cpp)", "leaky_function() (t.cpp)"}));
  EXPECT_EQ(stacks[0].count, 5000u);
  EXPECT_EQ(stacks[1].count, 0u);
}

TEST(HeaptrackFolded, AcceptsTheFlamegraphFormWithoutTrailingSemicolonOrNewline) {
  auto stacks = parse_folded_stacks("a;b 7", "f");
  ASSERT_EQ(stacks.size(), 1u);
  EXPECT_EQ(stacks[0].frames, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(stacks[0].count, 7u);
  EXPECT_TRUE(parse_folded_stacks("", "f").empty());
}

TEST(HeaptrackFolded, FramesKeepSpacesAnglesAmpersandsAndQuotes) {
  const std::string frame =
      R"(std::map<int, std::string>::operator[](int const&) "quoted" & more (stl map.h))";
  auto stacks = parse_folded_stacks("main (m.cpp);" + frame + "; 123456789012\n", "f");
  ASSERT_EQ(stacks.size(), 1u);
  ASSERT_EQ(stacks[0].frames.size(), 2u);
  EXPECT_EQ(stacks[0].frames[1], frame);
  EXPECT_EQ(stacks[0].count, 123456789012u);
}

TEST(HeaptrackFolded, MalformedLinesNameTheFileAndLine) {
  EXPECT_EQ(error_of("a;b 1\nno-count-here\n"),
            "leaked.folded: line 2: no count (expected 'frame;...;frame COUNT')");
  EXPECT_NE(error_of("a;b 12x\n").find("line 1: count '12x' is not a number"), std::string::npos);
  EXPECT_NE(error_of("a;b -3\n").find("count '-3'"), std::string::npos);
  EXPECT_NE(error_of("a;b 99999999999999999999\n").find("too large"), std::string::npos);
  EXPECT_NE(error_of("a;b \n").find("no count after the last space"), std::string::npos);
  EXPECT_NE(error_of("a;;b 4\n").find("empty frame"), std::string::npos);
  EXPECT_NE(error_of(" 4\n").find("no frames"), std::string::npos);
  EXPECT_NE(error_of("; 4\n").find("no frames"), std::string::npos);
  EXPECT_NE(error_of("a 1\n\nb 2\n").find("line 2: blank line"), std::string::npos);
  EXPECT_NE(error_of("a\tb 1\n").find("control character"), std::string::npos);
  EXPECT_NE(error_of("a 1\r\n").find("control character"), std::string::npos);
  // The message stays one line whatever the input held.
  EXPECT_EQ(error_of("x 1\ny\x01z 2\n").find('\n'), std::string::npos);
}

TEST(HeaptrackFolded, FrameFunctionDropsOnlyAFileSuffix) {
  EXPECT_EQ(frame_function("leaky_function() (t.cpp)"), "leaky_function()");
  EXPECT_EQ(frame_function("f(int) (my file.cpp)"), "f(int)");
  EXPECT_EQ(frame_function("std::function<void (int)>::operator()(int) const"),
            "std::function<void (int)>::operator()(int) const");
  EXPECT_EQ(frame_function("0x7f504dea57b9"), "0x7f504dea57b9");
}

TEST(HeaptrackFolded, AllocatorFramesAreRecognised) {
  for (const char* frame :
       {"malloc (interpose.cpp)", "malloc", "operator new[](unsigned long) (interpose.cpp)",
        "(anonymous namespace)::new_or_throw(unsigned long, unsigned long) (interpose.cpp)",
        "operator new(unsigned long)", "calloc (interpose.cpp)",
        "std::__new_allocator<>::allocate(unsigned long, void const*) (new_allocator.h)",
        "std::allocator_traits<>::allocate(std::allocator<>&, unsigned long) (alloc_traits.h)"}) {
    EXPECT_TRUE(is_allocator_frame(frame)) << frame;
  }
  for (const char* frame :
       {"main (t.cpp)", "mallocate_things() (x.cpp)", "0x7f504dea57b9",
        "memsoak::scenarios::(anonymous namespace)::SyntheticWorkload::run(unsigned long)"}) {
    EXPECT_FALSE(is_allocator_frame(frame)) << frame;
  }
}

TEST(HeaptrackFolded, LibraryFramesAreRecognisedBehindReturnTypes) {
  for (const char* frame :
       {"std::vector<>::_M_default_append(unsigned long) (vector.tcc)",
        "void std::vector<>::_M_realloc_insert<>(__gnu_cxx::__normal_iterator<>, int&&) (vector.tcc)",
        "std::pair<> std::_Hashtable<>::emplace<>(std::__cxx11::basic_string<>&, int&&) (hashtable.h)",
        "decltype (::new ((void*)(0)) std::pair<>((declval<>)(), (declval<>)())) "
        "std::construct_at<>(std::pair<>*) "
        "(stl_construct.h)",
        "__gnu_cxx::__normal_iterator<>::operator++()"}) {
    EXPECT_TRUE(is_library_frame(frame)) << frame;
  }
  for (const char* frame :
       {"memsoak::scenarios::reranker::Vocab::load(std::filesystem::__cxx11::path const&) (x.cpp)",
        "std::vector<> mylib::make<>(int) (m.cpp)", "run (synthetic.cpp)",
        "(anonymous namespace)::helper(std::string const&)", "Foo::operator()(std::vector<>&) const",
        "0x7fddb2aa57b9"}) {
    EXPECT_FALSE(is_library_frame(frame)) << frame;
  }
}

TEST(HeaptrackFolded, SummaryNamesTheFirstFrameOutsideAllocatorsAndTheStandardLibrary) {
  HeaptrackSummary summary;
  summarize_folded_stacks(
      {{{"main (m.cpp)", "Model::load() (m.cpp)", "std::vector<>::_M_default_append(unsigned long)",
         "operator new(unsigned long) (interpose.cpp)", "malloc (interpose.cpp)"},
        64},
       {{"std::thread::_M_start()", "malloc"}, 8}},
      summary);
  ASSERT_EQ(summary.top_stacks.size(), 2u);
  EXPECT_EQ(summary.top_stacks[0].function, "Model::load() (m.cpp)");
  EXPECT_EQ(summary.top_stacks[1].function, "std::thread::_M_start()")
      << "only library frames: the first of them";
}

TEST(HeaptrackFolded, SummaryMergesRanksAndSkipsAllocatorFrames) {
  std::vector<FoldedStack> stacks = {
      {{"main (m.cpp)", "small() (m.cpp)", "malloc (interpose.cpp)"}, 10},
      {{"main (m.cpp)", "big() (m.cpp)", "operator new[](unsigned long) (interpose.cpp)",
        "malloc (interpose.cpp)"},
       600},
      {{"main (m.cpp)", "small() (m.cpp)", "malloc (interpose.cpp)"}, 5},
      {{"main (m.cpp)", "freed() (m.cpp)"}, 0},
      {{"malloc"}, 1},
  };
  HeaptrackSummary summary;
  summarize_folded_stacks(stacks, summary, 2);
  EXPECT_EQ(summary.leaked_bytes, 616u);
  EXPECT_EQ(summary.leaking_stacks, 3u);
  ASSERT_EQ(summary.top_stacks.size(), 2u);
  EXPECT_EQ(summary.top_stacks[0].leaked_bytes, 600u);
  EXPECT_EQ(summary.top_stacks[0].function, "big() (m.cpp)");
  EXPECT_EQ(summary.top_stacks[0].frames.front(), "malloc (interpose.cpp)") << "leaf first";
  EXPECT_EQ(summary.top_stacks[0].frames.back(), "main (m.cpp)");
  EXPECT_EQ(summary.top_stacks[1].leaked_bytes, 15u);
  EXPECT_EQ(summary.top_stacks[1].function, "small() (m.cpp)");
}

class HeaptrackRecordTest : public testing::ScratchDirTest {
 protected:
  HeaptrackRecordTest() : ScratchDirTest("heaptrack-record") {}
  void write_record(const std::string& json) {
    std::filesystem::create_directories(dir_ / "heaptrack");
    std::ofstream(dir_ / "heaptrack" / "pass.json") << json;
  }
};

TEST_F(HeaptrackRecordTest, NoRecordMeansNoPass) { EXPECT_FALSE(read_heaptrack_summary(dir_)); }

TEST_F(HeaptrackRecordTest, RecordAndFoldedFileMakeTheSummary) {
  harness::HeaptrackRecord record;
  record.status = "ok";
  record.runs = 50;
  record.data_file = "heaptrack/heaptrack.zst";
  record.folded_file = "heaptrack/leaked.folded";
  record.write(dir_);
  std::ofstream(dir_ / "heaptrack" / "leaked.folded")
      << "main (m.cpp);leak() (m.cpp);malloc (interpose.cpp); 4096\n";
  auto summary = read_heaptrack_summary(dir_);
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->status, "ok");
  EXPECT_EQ(summary->runs, 50u);
  ASSERT_EQ(summary->top_stacks.size(), 1u);
  EXPECT_EQ(summary->top_stacks[0].function, "leak() (m.cpp)");
  Report report;
  report.heaptrack = summary;
  auto json = report_to_json(report)["heaptrack"];
  EXPECT_EQ(json["status"], "ok");
  EXPECT_EQ(json["data_file"], "heaptrack/heaptrack.zst");
  EXPECT_EQ(json["leaked_bytes"], 4096);
  EXPECT_EQ(json["top_leaked_stacks"][0]["frames"][0], "malloc (interpose.cpp)");
  EXPECT_TRUE(report_to_json(Report{})["heaptrack"].is_null());
}

TEST_F(HeaptrackRecordTest, AMalformedFoldedFileIsARecordedFailure) {
  write_record(R"({"schema": "memsoak.heaptrack/1", "status": "ok", "runs": 5,
                   "data_file": "heaptrack/heaptrack.zst", "folded_file": "heaptrack/leaked.folded"})");
  std::ofstream(dir_ / "heaptrack" / "leaked.folded") << "a;b 1\ngarbage\n";
  auto summary = read_heaptrack_summary(dir_);
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->status, "failed");
  EXPECT_NE(summary->reason->find("leaked.folded: line 2"), std::string::npos) << *summary->reason;
}

TEST_F(HeaptrackRecordTest, APassThatNeverFinishedReadsAsFailed) {
  write_record(R"({"schema": "memsoak.heaptrack/1", "status": "running", "runs": 5})");
  auto summary = read_heaptrack_summary(dir_);
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->status, "failed");
}

TEST_F(HeaptrackRecordTest, BadRecordsAreRefusedByName) {
  for (
      const auto& [json, named] : std::vector<std::pair<std::string, std::string>>{
          {"[]", "not a JSON object"},
          {R"({"schema": "memsoak.heaptrack/2", "status": "ok", "runs": 1})", "newer"},
          {R"({"schema": "other", "status": "ok", "runs": 1})", "'other'"},
          {R"({"schema": "memsoak.heaptrack/1", "status": "great", "runs": 1})", "'great'"},
          {R"({"schema": "memsoak.heaptrack/1", "status": "ok", "runs": -1})", "'runs'"},
          {R"({"schema": "memsoak.heaptrack/1", "status": "ok", "runs": 1, "folded_file": "/etc/passwd"})",
           "'/etc/passwd'"},
          {R"({"schema": "memsoak.heaptrack/1", "status": "ok", "runs": 1, "folded_file": "heaptrack/../x"})",
           "heaptrack/../x"}}) {
    write_record(json);
    try {
      read_heaptrack_summary(dir_);
      ADD_FAILURE() << "accepted " << json;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("pass.json"), std::string::npos) << e.what();
    }
  }
}

TEST(ProfileInvocation, RoundTripsAndRefusesBadWords) {
  harness::ProfileInvocation invocation{"/tmp/run dir", 42};
  std::vector<std::string> argv = invocation.to_argv("/proc/1/exe");
  ASSERT_EQ(argv.size(), 5u);
  auto parsed = harness::ProfileInvocation::parse(std::span(argv).subspan(2));
  EXPECT_EQ(parsed.run_dir, invocation.run_dir);
  EXPECT_EQ(parsed.runs, 42u);
  for (const std::vector<std::string>& bad : std::vector<std::vector<std::string>>{{},
                                                                                   {"dir"},
                                                                                   {"dir", "--runs"},
                                                                                   {"dir", "--runs", "x"},
                                                                                   {"dir", "--runs", "0"},
                                                                                   {"dir", "--walk", "3"}}) {
    EXPECT_THROW(harness::ProfileInvocation::parse(bad), InputError);
  }
}

}  // namespace
}  // namespace memsoak::reports
