// samples.bin writer and reader (layout in sample_file.h).
#include "harness/sample_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "harness/errors.h"

namespace memsoak::harness {
namespace {

void write_all(int fd, const void* data, std::size_t size, const char* what) {
  const auto* bytes = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, bytes, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category(), what);
    bytes += n;
    size -= static_cast<std::size_t>(n);
  }
}

// Version 1's record, for reading old run directories.
struct RunRecordV1 {
  std::uint32_t strategy_index;
  std::uint32_t flags;
  std::uint64_t run_index;
  std::uint64_t digest;
  std::int64_t latency_ns, work_ns, setup_ns, worker_peak_rss_bytes, harness_rss_bytes;
  std::int64_t rss_bytes, anon_rss_bytes, heap_live_bytes, heap_live_blocks, open_fds, threads, minor_faults,
      major_faults, cpu_user_ns, cpu_system_ns;
};
static_assert(sizeof(RunRecordV1) == 144);

// Appends up to `count` version 1 records read from `in` to `records`, converted.
void read_v1_records(std::istream& in, std::size_t count, std::vector<RunRecord>& records) {
  RunRecordV1 old{};
  for (std::size_t i = 0; i < count && in.read(reinterpret_cast<char*>(&old), sizeof old); ++i) {
    RunRecord r;
    r.strategy_index = old.strategy_index;
    r.flags = old.flags;
    r.run_index = old.run_index;
    r.digest = old.digest;
    r.latency_ns = old.latency_ns;
    r.work_ns = old.work_ns;
    r.setup_ns = old.setup_ns;
    r.worker_peak_rss_bytes = old.worker_peak_rss_bytes;
    r.harness_rss_bytes = old.harness_rss_bytes;
    r.worker = {old.rss_bytes,   old.anon_rss_bytes, old.heap_live_bytes, old.heap_live_blocks,
                old.open_fds,    old.threads,        old.minor_faults,    old.major_faults,
                old.cpu_user_ns, old.cpu_system_ns,  kNotMeasured,        kNotMeasured};
    records.push_back(r);
  }
}

// Appends up to `count` records of a file of `version` to `records`; fewer at the file's end.
void read_records(std::istream& in, std::uint32_t version, std::size_t count,
                  std::vector<RunRecord>& records) {
  if (version == 1) return read_v1_records(in, count, records);
  const std::size_t first = records.size();
  records.resize(first + count);
  in.read(reinterpret_cast<char*>(records.data() + first),
          static_cast<std::streamsize>(count * sizeof(RunRecord)));
  records.resize(first + static_cast<std::size_t>(in.gcount()) / sizeof(RunRecord));
}

struct OpenedSampleFile {
  std::ifstream in;  // at the first record
  std::uint32_t version = 0;
  std::size_t records = 0;  // complete records the file holds
};

OpenedSampleFile open_sample_file(const std::filesystem::path& path) {
  OpenedSampleFile file{std::ifstream(path, std::ios::binary)};
  std::ifstream& in = file.in;
  std::error_code ec;
  if (!in || !std::filesystem::is_regular_file(path, ec)) {
    throw InputError(fmt::format("{}: cannot open (missing or not a file)", path.string()));
  }
  char header[kSampleFileHeaderBytes] = {};
  if (!in.read(header, sizeof header) || std::memcmp(header, kSampleFileMagic, 8) != 0) {
    throw InputError(fmt::format("{}: not a memsoak samples file (bad magic)", path.string()));
  }
  std::uint32_t version = 0;
  std::uint32_t record_bytes = 0;
  std::memcpy(&version, header + 8, 4);
  std::memcpy(&record_bytes, header + 12, 4);
  if (version > kSampleFileVersion) {
    throw InputError(fmt::format("{}: format version {} is newer than this memsoak reads ({})", path.string(),
                                 version, kSampleFileVersion));
  }
  if (version == 0) throw InputError(fmt::format("{}: format version 0 does not exist", path.string()));
  const std::size_t expected_bytes = version == 1 ? sizeof(RunRecordV1) : sizeof(RunRecord);
  if (record_bytes != expected_bytes) {
    throw InputError(fmt::format("{}: record size {} does not match version {} ({})", path.string(),
                                 record_bytes, version, expected_bytes));
  }
  std::uintmax_t file_bytes = std::filesystem::file_size(path, ec);
  file.version = version;
  file.records = ec ? 0 : (file_bytes - kSampleFileHeaderBytes) / expected_bytes;
  return file;
}

}  // namespace

SampleWriter::SampleWriter(const std::filesystem::path& path, Mode mode)
    : path_(std::filesystem::absolute(path)) {
  int flags = mode == Mode::kCreate ? O_WRONLY | O_CREAT | O_EXCL : O_WRONLY | O_APPEND;
  fd_ = ::open(path_.c_str(), flags | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), path.string());
  struct stat info {};
  if (::fstat(fd_, &info) == 0) {
    device_ = info.st_dev;
    inode_ = info.st_ino;
  }
  if (mode == Mode::kAppend) return;
  char header[kSampleFileHeaderBytes] = {};
  std::memcpy(header, kSampleFileMagic, sizeof kSampleFileMagic);
  std::uint32_t version = kSampleFileVersion;
  std::uint32_t record_bytes = sizeof(RunRecord);
  std::memcpy(header + 8, &version, 4);
  std::memcpy(header + 12, &record_bytes, 4);
  try {
    write_all(fd_, header, sizeof header, "samples.bin header");
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

SampleWriter::~SampleWriter() { ::close(fd_); }

void SampleWriter::append(const RunRecord& record) {
  // An in-process workload shares this process's descriptors: one that closed ours, or put
  // another file on its number (dup2, or an open that reused it), must not get the records.
  struct stat info {};
  if (::fstat(fd_, &info) != 0 || info.st_dev != device_ || info.st_ino != inode_) {
    // The number is no longer ours: not closed here, it may be the workload's now.
    fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), path_.string());
  }
  write_all(fd_, &record, sizeof record, "samples.bin");
}

std::vector<RunRecord> read_sample_file(const std::filesystem::path& path) {
  OpenedSampleFile file = open_sample_file(path);
  std::vector<RunRecord> records;
  records.reserve(file.records);
  read_records(file.in, file.version, file.records, records);
  return records;
}

void read_sample_file_in_batches(const std::filesystem::path& path, std::size_t batch_records,
                                 const std::function<void(std::span<const RunRecord>)>& visit) {
  OpenedSampleFile file = open_sample_file(path);
  std::vector<RunRecord> batch;
  batch.reserve(std::min(batch_records, file.records));
  for (std::size_t left = file.records; left > 0;) {
    batch.clear();
    const std::size_t wanted = std::min(batch_records, left);
    read_records(file.in, file.version, wanted, batch);
    if (batch.empty()) break;
    visit(batch);
    if (batch.size() < wanted) break;
    left -= wanted;
  }
}

}  // namespace memsoak::harness
