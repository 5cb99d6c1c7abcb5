// samples.bin: records round-trip, partial trailing records are ignored, foreign and newer files
// are refused by name.
#include "harness/sample_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "harness/errors.h"

namespace memsoak::harness {
namespace {
namespace fs = std::filesystem;

class SampleFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("memsoak-sample-file-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

RunRecord record(std::uint64_t i) {
  RunRecord r;
  r.strategy_index = static_cast<std::uint32_t>(i % 2);
  r.run_index = i;
  r.digest = i * 7919;
  r.worker.rss_bytes = static_cast<std::int64_t>(1000 + i);
  return r;
}

TEST_F(SampleFileTest, RecordsRoundTripInOrder) {
  {
    SampleWriter writer(dir_ / "samples.bin", SampleWriter::Mode::kCreate);
    for (std::uint64_t i = 0; i < 1000; ++i) writer.append(record(i));
  }
  auto records = read_sample_file(dir_ / "samples.bin");
  ASSERT_EQ(records.size(), 1000u);
  for (std::uint64_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(records[i].run_index, i);
    EXPECT_EQ(records[i].digest, i * 7919);
    EXPECT_EQ(records[i].worker.rss_bytes, static_cast<std::int64_t>(1000 + i));
    EXPECT_EQ(records[i].worker.heap_live_bytes, kNotMeasured);
  }
}

TEST_F(SampleFileTest, EachRecordReachesTheFileAsItIsAppended) {
  SampleWriter writer(dir_ / "samples.bin", SampleWriter::Mode::kCreate);
  writer.append(record(0));
  EXPECT_EQ(read_sample_file(dir_ / "samples.bin").size(), 1u) << "a crash now must not lose run 0";
}

TEST_F(SampleFileTest, AppendModeContinuesAfterEarlierRecords) {
  {
    SampleWriter first(dir_ / "samples.bin", SampleWriter::Mode::kCreate);
    first.append(record(0));
  }
  {
    SampleWriter second(dir_ / "samples.bin", SampleWriter::Mode::kAppend);
    second.append(record(1));
  }
  auto records = read_sample_file(dir_ / "samples.bin");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].run_index, 1u);
}

TEST_F(SampleFileTest, TrailingPartialRecordFromACrashIsIgnored) {
  {
    SampleWriter writer(dir_ / "samples.bin", SampleWriter::Mode::kCreate);
    for (std::uint64_t i = 0; i < 3; ++i) writer.append(record(i));
  }
  fs::resize_file(dir_ / "samples.bin", fs::file_size(dir_ / "samples.bin") - 10);
  EXPECT_EQ(read_sample_file(dir_ / "samples.bin").size(), 2u);
}

TEST_F(SampleFileTest, RefusesNewerVersionByName) {
  { SampleWriter writer(dir_ / "samples.bin", SampleWriter::Mode::kCreate); }
  std::fstream f(dir_ / "samples.bin", std::ios::in | std::ios::out | std::ios::binary);
  std::uint32_t version = kSampleFileVersion + 1;
  f.seekp(8);
  f.write(reinterpret_cast<const char*>(&version), 4);
  f.close();
  try {
    read_sample_file(dir_ / "samples.bin");
    FAIL() << "accepted a newer version";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST_F(SampleFileTest, RefusesVersionZero) {
  { SampleWriter writer(dir_ / "samples.bin", SampleWriter::Mode::kCreate); }
  std::fstream f(dir_ / "samples.bin", std::ios::in | std::ios::out | std::ios::binary);
  std::uint32_t version = 0;
  f.seekp(8);
  f.write(reinterpret_cast<const char*>(&version), 4);
  f.close();
  EXPECT_THROW(read_sample_file(dir_ / "samples.bin"), InputError);
}

TEST_F(SampleFileTest, RefusesFilesThatAreNotSamples) {
  std::ofstream(dir_ / "samples.bin") << "hello, this is not a samples file at all";
  EXPECT_THROW(read_sample_file(dir_ / "samples.bin"), InputError);
  EXPECT_THROW(read_sample_file(dir_ / "missing.bin"), InputError);
  EXPECT_THROW(read_sample_file(dir_), InputError) << "a directory";
}

TEST_F(SampleFileTest, WriterDoesNotOverwriteAnExistingFile) {
  { SampleWriter writer(dir_ / "samples.bin", SampleWriter::Mode::kCreate); }
  EXPECT_THROW(SampleWriter(dir_ / "samples.bin", SampleWriter::Mode::kCreate), std::system_error);
}

}  // namespace
}  // namespace memsoak::harness
