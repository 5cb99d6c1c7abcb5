// samples.bin writer and reader (layout in sample_file.h).
#include "harness/sample_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <system_error>

#include "harness/errors.h"

namespace memsoak::harness {
namespace {

constexpr std::size_t kBufferedRecords = 256;

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

}  // namespace

SampleWriter::SampleWriter(const std::filesystem::path& path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), path.string());
  char header[kSampleFileHeaderBytes] = {};
  std::memcpy(header, kSampleFileMagic, sizeof kSampleFileMagic);
  std::uint32_t version = kSampleFileVersion;
  std::uint32_t record_bytes = sizeof(RunRecord);
  std::memcpy(header + 8, &version, 4);
  std::memcpy(header + 12, &record_bytes, 4);
  write_all(fd_, header, sizeof header, "samples.bin header");
  buffer_.reserve(kBufferedRecords);
  last_flush_ = std::chrono::steady_clock::now();
}

SampleWriter::~SampleWriter() {
  try {
    flush();
  } catch (...) {
    // Destructors must not throw; the caller that cares calls flush() itself.
  }
  ::close(fd_);
}

void SampleWriter::append(const RunRecord& record) {
  buffer_.push_back(record);
  auto now = std::chrono::steady_clock::now();
  if (buffer_.size() == kBufferedRecords || now - last_flush_ >= std::chrono::seconds(1)) flush();
}

void SampleWriter::flush() {
  if (!buffer_.empty()) write_all(fd_, buffer_.data(), buffer_.size() * sizeof(RunRecord), "samples.bin");
  buffer_.clear();
  last_flush_ = std::chrono::steady_clock::now();
}

std::vector<RunRecord> read_sample_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open", path.string()));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < kSampleFileHeaderBytes || std::memcmp(bytes.data(), kSampleFileMagic, 8) != 0) {
    throw InputError(fmt::format("{}: not a memsoak samples file (bad magic)", path.string()));
  }
  std::uint32_t version = 0;
  std::uint32_t record_bytes = 0;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&record_bytes, bytes.data() + 12, 4);
  if (version > kSampleFileVersion) {
    throw InputError(fmt::format("{}: format version {} is newer than this memsoak reads ({})", path.string(),
                                 version, kSampleFileVersion));
  }
  if (record_bytes != sizeof(RunRecord)) {
    throw InputError(fmt::format("{}: record size {} does not match version {} ({})", path.string(),
                                 record_bytes, version, sizeof(RunRecord)));
  }
  std::size_t count = (bytes.size() - kSampleFileHeaderBytes) / sizeof(RunRecord);
  std::vector<RunRecord> records(count);
  if (count > 0)
    std::memcpy(records.data(), bytes.data() + kSampleFileHeaderBytes, count * sizeof(RunRecord));
  return records;
}

}  // namespace memsoak::harness
