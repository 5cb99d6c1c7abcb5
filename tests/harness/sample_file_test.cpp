// samples.bin: records round-trip, partial trailing records are ignored, version-1 files are still
// read, foreign and newer files are refused by name.
#include "harness/sample_file.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <fstream>
#include <string>

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

// Files built byte by byte from the layouts documented in sample_file.h, not by a writer of this
// memsoak: native byte order, which the layout documents as little-endian on x86-64.
static_assert(std::endian::native == std::endian::little, "the byte-by-byte files below are little-endian");

void put_u32(std::string& out, std::uint32_t value) {
  for (int byte = 0; byte < 4; ++byte) out += static_cast<char>((value >> (8 * byte)) & 0xFF);
}
void put_u64(std::string& out, std::uint64_t value) {
  for (int byte = 0; byte < 8; ++byte) out += static_cast<char>((value >> (8 * byte)) & 0xFF);
}
void put_i64(std::string& out, std::int64_t value) { put_u64(out, static_cast<std::uint64_t>(value)); }

std::string header(std::uint32_t version, std::uint32_t record_bytes) {
  std::string out = "MSOAKSMP";
  put_u32(out, version);
  put_u32(out, record_bytes);
  out.append(16, '\0');  // reserved
  return out;
}

// The 19 fields of version 1's record i, in file order: every value distinct, some negative.
std::int64_t v1_field(std::uint64_t i, int field) {
  return static_cast<std::int64_t>(i * 1000 + static_cast<std::uint64_t>(field)) * (field % 5 == 4 ? -1 : 1);
}

std::string v1_record(std::uint64_t i) {
  std::string out;
  put_u32(out, static_cast<std::uint32_t>(v1_field(i, 0)));  // strategy_index
  put_u32(out, static_cast<std::uint32_t>(v1_field(i, 1)));  // flags
  put_u64(out, static_cast<std::uint64_t>(v1_field(i, 2)));  // run_index
  put_u64(out, static_cast<std::uint64_t>(v1_field(i, 3)));  // digest
  for (int field = 4; field < 19; ++field) put_i64(out, v1_field(i, field));
  return out;
}

// Batches in file order, the last one short, a partial trailing record ignored: the same
// records as one read, for version 2 and version 1 files alike.
TEST_F(SampleFileTest, BatchesHoldTheSameRecordsAsOneRead) {
  {
    SampleWriter writer(dir_ / "samples.bin", SampleWriter::Mode::kCreate);
    for (std::uint64_t i = 0; i < 10; ++i) writer.append(record(i));
  }
  fs::resize_file(dir_ / "samples.bin", fs::file_size(dir_ / "samples.bin") - 10);
  std::string v1 = header(1, 144);
  for (std::uint64_t i = 0; i < 11; ++i) v1 += v1_record(i);
  std::ofstream(dir_ / "v1.bin", std::ios::binary) << v1;
  for (const char* name : {"samples.bin", "v1.bin"}) {
    std::vector<std::size_t> sizes;
    std::vector<RunRecord> batched;
    read_sample_file_in_batches(dir_ / name, 4, [&](std::span<const RunRecord> batch) {
      sizes.push_back(batch.size());
      batched.insert(batched.end(), batch.begin(), batch.end());
    });
    const std::vector<RunRecord> whole = read_sample_file(dir_ / name);
    ASSERT_EQ(batched.size(), whole.size()) << name;
    EXPECT_EQ(sizes, (std::vector<std::size_t>{4, 4, whole.size() - 8})) << name;
    for (std::size_t i = 0; i < whole.size(); ++i)
      EXPECT_EQ(std::memcmp(&batched[i], &whole[i], sizeof(RunRecord)), 0) << name << " record " << i;
  }
}

TEST_F(SampleFileTest, ReadsVersion1Files) {
  std::string bytes = header(1, 144);
  for (std::uint64_t i = 0; i < 3; ++i) bytes += v1_record(i);
  ASSERT_EQ(bytes.size(), 32u + 3 * 144);
  bytes += v1_record(3).substr(0, 100);  // a write cut short by a crash
  std::ofstream(dir_ / "samples.bin", std::ios::binary) << bytes;

  auto records = read_sample_file(dir_ / "samples.bin");
  ASSERT_EQ(records.size(), 3u);
  for (std::uint64_t i = 0; i < 3; ++i) {
    SCOPED_TRACE("record " + std::to_string(i));
    const RunRecord& r = records[i];
    EXPECT_EQ(r.strategy_index, static_cast<std::uint32_t>(v1_field(i, 0)));
    EXPECT_EQ(r.flags, static_cast<std::uint32_t>(v1_field(i, 1)));
    EXPECT_EQ(r.run_index, static_cast<std::uint64_t>(v1_field(i, 2)));
    EXPECT_EQ(r.digest, static_cast<std::uint64_t>(v1_field(i, 3)));
    EXPECT_EQ(r.latency_ns, v1_field(i, 4));
    EXPECT_EQ(r.work_ns, v1_field(i, 5));
    EXPECT_EQ(r.setup_ns, v1_field(i, 6));
    EXPECT_EQ(r.worker_peak_rss_bytes, v1_field(i, 7));
    EXPECT_EQ(r.harness_rss_bytes, v1_field(i, 8));
    EXPECT_EQ(r.worker.rss_bytes, v1_field(i, 9));
    EXPECT_EQ(r.worker.anon_rss_bytes, v1_field(i, 10));
    EXPECT_EQ(r.worker.heap_live_bytes, v1_field(i, 11));
    EXPECT_EQ(r.worker.heap_live_blocks, v1_field(i, 12));
    EXPECT_EQ(r.worker.open_fds, v1_field(i, 13));
    EXPECT_EQ(r.worker.threads, v1_field(i, 14));
    EXPECT_EQ(r.worker.minor_faults, v1_field(i, 15));
    EXPECT_EQ(r.worker.major_faults, v1_field(i, 16));
    EXPECT_EQ(r.worker.cpu_user_ns, v1_field(i, 17));
    EXPECT_EQ(r.worker.cpu_system_ns, v1_field(i, 18));
    // What version 1 did not have.
    EXPECT_EQ(r.worker_id, 0u);
    EXPECT_EQ(r.footprint_pss_bytes, kNotMeasured);
    EXPECT_EQ(r.worker.pss_bytes, kNotMeasured);
    EXPECT_EQ(r.worker.uss_bytes, kNotMeasured);
  }
}

TEST_F(SampleFileTest, RefusesNewerVersionByName) {
  const std::uint32_t newer = kSampleFileVersion + 1;
  std::string bytes = header(newer, 176);
  bytes.append(176, '\0');
  std::ofstream(dir_ / "samples.bin", std::ios::binary) << bytes;
  try {
    read_sample_file(dir_ / "samples.bin");
    FAIL() << "accepted a newer version";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find((dir_ / "samples.bin").string()), std::string::npos) << message;
    EXPECT_NE(message.find("format version " + std::to_string(newer) + " is newer than this memsoak reads (" +
                           std::to_string(kSampleFileVersion) + ")"),
              std::string::npos)
        << message;
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
