// The artifact channel's writer and reader (see artifacts.h for the layout).
#include "harness/artifacts.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>

#include "harness/errors.h"

namespace memsoak::harness {
namespace fs = std::filesystem;
namespace {

constexpr char kMagic[8] = {'M', 'S', 'O', 'A', 'K', 'A', 'R', 'T'};
constexpr const char* kPartialSuffix = ".partial";

// Set once before the runs; read by writers in this process and its forked children.
char g_base_dir[2048] = {};   // DIR/artifacts
char g_entry_dir[4096] = {};  // DIR/artifacts/<entry>
std::atomic<std::uint32_t> g_sequence{0};
std::atomic<std::uint64_t> g_committed{0};

struct Header {
  char magic[8];
  std::uint32_t version;
  std::uint32_t header_bytes;
  std::uint64_t payload_bytes;
  std::int32_t pid;
  std::uint32_t sequence;
  char kind[16];
  char reserved[16];
};
static_assert(sizeof(Header) == kArtifactHeaderBytes);

bool valid_kind(std::string_view kind) noexcept {
  if (kind.empty() || kind.size() > kArtifactKindMax) return false;
  return std::all_of(kind.begin(), kind.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool write_all(int fd, const void* data, std::size_t size) noexcept {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Appends decimal `value` to `out` (no allocation).
char* append_number(char* out, char* end, std::uint64_t value) noexcept {
  auto result = std::to_chars(out, end, value);
  return result.ec == std::errc() ? result.ptr : end;
}

char* append_text(char* out, char* end, std::string_view text) noexcept {
  std::size_t n = std::min(text.size(), static_cast<std::size_t>(end - out));
  std::memcpy(out, text.data(), n);
  return out + n;
}

}  // namespace

void set_artifact_directory(const fs::path& run_dir, std::uint32_t entry_index) {
  std::string base = (run_dir / "artifacts").string();
  std::string entry = (run_dir / "artifacts" / std::to_string(entry_index)).string();
  if (entry.size() >= sizeof g_entry_dir - 64 || base.size() >= sizeof g_base_dir) {
    throw InputError(fmt::format("'{}': run directory path too long for artifacts", run_dir.string()));
  }
  std::memset(g_base_dir, 0, sizeof g_base_dir);
  std::memset(g_entry_dir, 0, sizeof g_entry_dir);
  std::memcpy(g_base_dir, base.data(), base.size());
  std::memcpy(g_entry_dir, entry.data(), entry.size());
}

std::uint64_t artifacts_committed() noexcept { return g_committed.load(std::memory_order_relaxed); }

ArtifactWriter::~ArtifactWriter() { abandon(); }

void ArtifactWriter::abandon() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(partial_path_);
  }
  fd_ = -1;
}

namespace {

// Writes DIR/<pid>-<sequence>.<kind> into `out`, with `suffix` (NUL-terminated, no allocation).
void artifact_path(char* out, std::size_t size, pid_t pid, std::uint32_t sequence, std::string_view kind,
                   std::string_view suffix) noexcept {
  char* end = out + size - 1;
  char* p = append_text(out, end, g_entry_dir);
  p = append_text(p, end, "/");
  p = append_number(p, end, static_cast<std::uint64_t>(pid));
  p = append_text(p, end, "-");
  p = append_number(p, end, sequence);
  p = append_text(p, end, ".");
  p = append_text(p, end, kind);
  p = append_text(p, end, suffix);
  *p = '\0';
}

}  // namespace

bool ArtifactWriter::open(std::string_view kind) noexcept {
  abandon();
  if (g_entry_dir[0] == '\0' || !valid_kind(kind)) return false;
  ::mkdir(g_base_dir, 0755);  // EEXIST is fine; a real failure shows at open()
  ::mkdir(g_entry_dir, 0755);
  const pid_t pid = ::getpid();
  // A forked child starts from its parent's counter, and a pid can come back during a long soak:
  // take the first sequence whose final and partial names are both free. Only a dead process can
  // have used this pid, so nobody else can take a name meanwhile; commit() still refuses to
  // replace a file.
  std::uint32_t sequence = 0;
  char final_path[sizeof partial_path_];
  for (int attempt = 0; attempt < 100'000 && fd_ < 0; ++attempt) {
    sequence = g_sequence.fetch_add(1, std::memory_order_relaxed);
    artifact_path(final_path, sizeof final_path, pid, sequence, kind, "");
    if (::access(final_path, F_OK) == 0) continue;  // committed by an earlier process
    artifact_path(partial_path_, sizeof partial_path_, pid, sequence, kind, kPartialSuffix);
    fd_ = ::open(partial_path_, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0 && errno != EEXIST) return false;  // left by an earlier process that died: next
  }
  if (fd_ < 0) return false;
  Header header{};
  std::memcpy(header.magic, kMagic, sizeof kMagic);
  header.version = kArtifactVersion;
  header.header_bytes = kArtifactHeaderBytes;
  header.pid = pid;
  header.sequence = sequence;
  std::memcpy(header.kind, kind.data(), kind.size());
  payload_bytes_ = 0;
  failed_ = !write_all(fd_, &header, sizeof header);
  return !failed_;
}

bool ArtifactWriter::append(const void* data, std::size_t size) noexcept {
  if (fd_ < 0 || failed_) return false;
  failed_ = !write_all(fd_, data, size);
  if (!failed_) payload_bytes_ += size;
  return !failed_;
}

bool ArtifactWriter::commit() noexcept {
  if (fd_ < 0) return false;
  bool ok =
      !failed_ && ::pwrite(fd_, &payload_bytes_, sizeof payload_bytes_, offsetof(Header, payload_bytes)) ==
                      static_cast<ssize_t>(sizeof payload_bytes_);
  if (!ok) {
    abandon();
    return false;
  }
  char final_path[sizeof partial_path_];
  std::size_t length = std::strlen(partial_path_) - std::strlen(kPartialSuffix);
  std::memcpy(final_path, partial_path_, length);
  final_path[length] = '\0';
  ::close(fd_);
  fd_ = -1;
  // link() fails with EEXIST instead of replacing a file, as rename() would.
  const bool linked = ::link(partial_path_, final_path) == 0;
  ::unlink(partial_path_);
  if (!linked) return false;
  g_committed.fetch_add(1, std::memory_order_relaxed);
  return true;
}

namespace {

// "<pid>-<sequence>.<kind>" → info; false for any other name.
bool parse_name(const std::string& name, ArtifactInfo& info) {
  std::size_t dash = name.find('-');
  std::size_t dot = name.find('.');
  if (dash == std::string::npos || dot == std::string::npos || dash > dot) return false;
  std::uint64_t pid = 0, sequence = 0;
  auto a = std::from_chars(name.data(), name.data() + dash, pid);
  auto b = std::from_chars(name.data() + dash + 1, name.data() + dot, sequence);
  if (a.ec != std::errc() || a.ptr != name.data() + dash || b.ec != std::errc() || b.ptr != name.data() + dot)
    return false;
  info.pid = static_cast<pid_t>(pid);
  info.sequence = static_cast<std::uint32_t>(sequence);
  info.kind = name.substr(dot + 1);
  return valid_kind(info.kind);
}

// Reads and checks the header; false when the file is not a complete artifact of a version this
// memsoak knows (truncated, foreign, or an impossible version 0). Throws InputError naming a
// newer version.
bool check_header(const fs::path& path, ArtifactInfo& info) {
  std::ifstream in(path, std::ios::binary);
  Header header{};
  if (!in.read(reinterpret_cast<char*>(&header), sizeof header)) return false;
  if (std::memcmp(header.magic, kMagic, sizeof kMagic) != 0 || header.version == 0) return false;
  if (header.version > kArtifactVersion) {
    throw InputError(fmt::format("{}: artifact format version {} is newer than this memsoak reads ({})",
                                 path.string(), header.version, kArtifactVersion));
  }
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(path, ec);
  // Version 1's header is exactly 64 bytes; a payload that is not all there was cut short.
  if (ec || header.header_bytes != kArtifactHeaderBytes || size < kArtifactHeaderBytes ||
      header.payload_bytes != size - kArtifactHeaderBytes) {
    return false;
  }
  info.payload_bytes = header.payload_bytes;
  return info.pid == header.pid && info.sequence == header.sequence;
}

// The entry index a folder's name gives, or false for a name that is not one.
bool entry_folder(const fs::directory_entry& folder, std::uint32_t& entry) {
  std::error_code ec;
  const std::string name = folder.path().filename().string();
  auto parsed = std::from_chars(name.data(), name.data() + name.size(), entry);
  return folder.is_directory(ec) && !folder.is_symlink(ec) && parsed.ec == std::errc() &&
         parsed.ptr == name.data() + name.size();
}

void list_entry_folder(const fs::path& folder, std::uint32_t entry, ArtifactListing& listing) {
  for (const fs::directory_entry& file : fs::directory_iterator(folder)) {
    ArtifactInfo info;
    info.path = file.path();
    info.entry_index = entry;
    const std::string file_name = file.path().filename().string();
    std::error_code ec;
    // Only regular files are opened: a FIFO would block the reader.
    if (!file.is_regular_file(ec) || file.is_symlink(ec) || file_name.ends_with(kPartialSuffix) ||
        !parse_name(file_name, info) || !check_header(info.path, info)) {
      listing.skipped.push_back(file.path());
      continue;
    }
    listing.complete.push_back(std::move(info));
  }
}

}  // namespace

ArtifactListing list_artifacts(const fs::path& run_dir) {
  ArtifactListing listing;
  const fs::path base = run_dir / "artifacts";
  std::error_code ec;
  if (!fs::is_directory(base, ec)) return listing;
  try {
    for (const fs::directory_entry& folder : fs::directory_iterator(base)) {
      std::uint32_t entry = 0;
      if (entry_folder(folder, entry)) {
        list_entry_folder(folder.path(), entry, listing);
      } else {
        listing.skipped.push_back(folder.path());  // not memsoak's layout
      }
    }
  } catch (const fs::filesystem_error& e) {
    throw InputError(fmt::format("{}: cannot list ({})", e.path1().string(), e.code().message()));
  }
  std::sort(listing.complete.begin(), listing.complete.end(),
            [](const ArtifactInfo& a, const ArtifactInfo& b) {
              return std::tie(a.entry_index, a.pid, a.sequence) < std::tie(b.entry_index, b.pid, b.sequence);
            });
  std::sort(listing.skipped.begin(), listing.skipped.end());
  return listing;
}

std::string read_artifact_payload(const ArtifactInfo& artifact) {
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(artifact.path, ec);
  if (ec || size != kArtifactHeaderBytes + artifact.payload_bytes) {
    throw InputError(fmt::format("{}: changed since it was listed (expected {} payload bytes)",
                                 artifact.path.string(), artifact.payload_bytes));
  }
  std::ifstream in(artifact.path, std::ios::binary);
  std::string payload(artifact.payload_bytes, '\0');
  in.seekg(static_cast<std::streamoff>(kArtifactHeaderBytes));
  if (!in || !in.read(payload.data(), static_cast<std::streamsize>(payload.size()))) {
    throw InputError(
        fmt::format("{}: cannot read its {} payload bytes", artifact.path.string(), artifact.payload_bytes));
  }
  return payload;
}

}  // namespace memsoak::harness
