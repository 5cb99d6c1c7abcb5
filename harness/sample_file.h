// samples.bin: the append-only file of run records, written as runs finish and read by reports.
//
// Layout (version 1), native byte order (x86-64: little-endian):
//
//   offset  size  field
//   0       8     magic "MSOAKSMP"
//   8       4     u32 format version (kSampleFileVersion)
//   12      4     u32 record size in bytes (sizeof(RunRecord) = 144)
//   16      16    reserved, zero
//   32      144   RunRecord 0 (harness/sample.h, fields in declaration order, no padding)
//   176     144   RunRecord 1 ...
//
// A writer flushes at least once a second, so a crash loses at most the last second of runs;
// a reader ignores a trailing partial record (a write cut short by the crash).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "harness/sample.h"

namespace memsoak::harness {

inline constexpr char kSampleFileMagic[8] = {'M', 'S', 'O', 'A', 'K', 'S', 'M', 'P'};
inline constexpr std::uint32_t kSampleFileVersion = 1;
inline constexpr std::size_t kSampleFileHeaderBytes = 32;

class SampleWriter {
 public:
  // Creates `path` (it must not exist) and writes the header. Throws std::system_error.
  explicit SampleWriter(const std::filesystem::path& path);
  ~SampleWriter();
  SampleWriter(const SampleWriter&) = delete;
  SampleWriter& operator=(const SampleWriter&) = delete;

  // Buffers the record; writes the buffer when it is full or a second has passed since the last
  // write. No allocation. Throws std::system_error when the disk write fails.
  void append(const RunRecord& record);
  // Writes what is buffered and fsyncs nothing (the page cache survives a crash of memsoak).
  void flush();

 private:
  int fd_ = -1;
  std::vector<RunRecord> buffer_;
  std::chrono::steady_clock::time_point last_flush_;
};

// Reads every complete record. Throws InputError naming the file when it is not a samples file,
// has a newer version than this memsoak reads, or a record size that does not match.
std::vector<RunRecord> read_sample_file(const std::filesystem::path& path);

}  // namespace memsoak::harness
