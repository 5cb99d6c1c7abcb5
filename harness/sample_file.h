// samples.bin: the append-only file of run records, written as runs finish and read by reports.
//
// Layout (version 2), native byte order (x86-64: little-endian):
//
//   offset  size  field
//   0       8     magic "MSOAKSMP"
//   8       4     u32 format version (kSampleFileVersion)
//   12      4     u32 record size in bytes (sizeof(RunRecord) = 176)
//   16      16    reserved, zero
//   32      176   RunRecord 0 (harness/sample.h, fields in declaration order, no padding)
//   208     176   RunRecord 1 ...
//
// Version 1 is still read: the same header with version 1 and record size 144, and records that
// lack worker_id, footprint_pss_bytes, worker.pss_bytes and worker.uss_bytes, which come back as
// 0, kNotMeasured, kNotMeasured, kNotMeasured. A version-1 record:
//
//   offset  size  field
//   0       4     u32 strategy_index
//   4       4     u32 flags
//   8       8     u64 run_index
//   16      8     u64 digest
//   24      40    i64 latency_ns, work_ns, setup_ns, worker_peak_rss_bytes, harness_rss_bytes
//   64      80    i64 worker.rss_bytes, anon_rss_bytes, heap_live_bytes, heap_live_blocks,
//                 open_fds, threads, minor_faults, major_faults, cpu_user_ns, cpu_system_ns
//
// Each record is written with one write() as its run finishes, so a crash of memsoak loses no
// finished run; a reader ignores a trailing partial record (a write cut short by a crash).
// Strategies run one after another, each in its own process, appending to the same file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "harness/sample.h"

namespace memsoak::harness {

inline constexpr char kSampleFileMagic[8] = {'M', 'S', 'O', 'A', 'K', 'S', 'M', 'P'};
inline constexpr std::uint32_t kSampleFileVersion = 2;
inline constexpr std::size_t kSampleFileHeaderBytes = 32;

class SampleWriter {
 public:
  enum class Mode {
    kCreate,  // `path` must not exist; the header is written
    kAppend,  // `path` was created before (by kCreate); records are appended after it
  };
  // Throws std::system_error when the file can't be opened or the header written.
  SampleWriter(const std::filesystem::path& path, Mode mode);
  ~SampleWriter();
  SampleWriter(const SampleWriter&) = delete;
  SampleWriter& operator=(const SampleWriter&) = delete;

  // Writes the record (one write(), no allocation; the page cache keeps it if memsoak crashes,
  // no fsync). Throws std::system_error when the write fails.
  void append(const RunRecord& record);

 private:
  int fd_ = -1;
};

// Reads every complete record. Throws InputError naming the file when it is not a samples file,
// has a newer version than this memsoak reads, or a record size that does not match.
std::vector<RunRecord> read_sample_file(const std::filesystem::path& path);

}  // namespace memsoak::harness
