// samples.bin: the append-only file of run records, written as runs finish and read by reports.
// Its layout (version 2, and version 1 which is still read) is documented in
// docs/run-directory.md; sizeof(RunRecord) is pinned in harness/sample.h.
//
// Each record is written with one write() as its run finishes, so a crash of memsoak loses no
// finished run; a reader ignores a trailing partial record (a write cut short by a crash).
// Strategies run one after another, each in its own process, appending to the same file.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
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
  // no fsync). When the descriptor no longer refers to the file it opened (an in-process workload
  // closed or replaced it), reopens the file by its absolute path first. Throws
  // std::system_error when the write fails.
  void append(const RunRecord& record);

 private:
  std::filesystem::path path_;  // absolute
  int fd_ = -1;
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

// Reads every complete record. Throws InputError naming the file when it is not a samples file,
// has a newer version than this memsoak reads, or a record size that does not match.
std::vector<RunRecord> read_sample_file(const std::filesystem::path& path);

// The same records, `batch_records` at a time (at least 1), for a reader that need not hold the
// whole file (samples.csv): `visit` gets each batch in file order. Same checks and errors.
void read_sample_file_in_batches(const std::filesystem::path& path, std::size_t batch_records,
                                 const std::function<void(std::span<const RunRecord>)>& visit);

}  // namespace memsoak::harness
