// The artifact channel: variable-size data (allocation stacks per epoch, a profiler's file) that
// a process of a soak leaves in the run directory, since the reports on the pipes are fixed-size.
//
// Files go to DIR/artifacts/<entry index>/<pid>-<sequence>.<kind>, each with a 64-byte header
// (magic "MSOAKART", format version, payload size, pid, sequence, kind) and then the payload;
// docs/run-directory.md draws the header. A file is written as "<name>.partial" and linked into place when
// committed, so a process that dies mid-write leaves at worst one ".partial" file, which readers
// skip.
//
// Guarantees: the writer side (set_artifact_directory excepted) never allocates and never
// throws: a forked child or a preloaded tracker may use it. Not thread-safe per writer; the
// sequence counter is atomic. The reader is cold code and throws InputError.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace memsoak::harness {

inline constexpr std::uint32_t kArtifactVersion = 1;
inline constexpr std::size_t kArtifactHeaderBytes = 64;
inline constexpr std::size_t kArtifactKindMax = 15;

// Where this process's artifacts go: `run_dir`/artifacts/<entry_index> (made on first use).
// Inherited by forked children. Cold: call before the runs.
void set_artifact_directory(const std::filesystem::path& run_dir, std::uint32_t entry_index);

// Artifacts this process (and, before its fork, its parent) committed so far.
std::uint64_t artifacts_committed() noexcept;

// Writes one artifact. Usage: open(kind), append()..., commit(). A writer destroyed before
// commit() removes its partial file.
class ArtifactWriter {
 public:
  ArtifactWriter() noexcept = default;
  ArtifactWriter(const ArtifactWriter&) = delete;
  ArtifactWriter& operator=(const ArtifactWriter&) = delete;
  ~ArtifactWriter();

  // False when no directory is set, `kind` is not valid, or the file cannot be created.
  bool open(std::string_view kind) noexcept;
  bool append(const void* data, std::size_t size) noexcept;
  // Completes the header and links the file under its final name (never replacing a file). False
  // on any I/O failure (the partial file is then removed).
  bool commit() noexcept;

 private:
  void abandon() noexcept;
  int fd_ = -1;
  std::uint64_t payload_bytes_ = 0;
  bool failed_ = false;
  char partial_path_[4096] = {};
};

struct ArtifactInfo {
  std::filesystem::path path;
  std::uint32_t entry_index = 0;
  pid_t pid = 0;
  std::uint32_t sequence = 0;
  std::string kind;
  std::uint64_t payload_bytes = 0;
};

struct ArtifactListing {
  std::vector<ArtifactInfo> complete;  // sorted by entry, pid, sequence
  // Files and folders under artifacts/ that are not complete artifacts: partial or truncated ones
  // (a process died writing them), or anything not in memsoak's layout.
  std::vector<std::filesystem::path> skipped;
};

// Every artifact of a run directory (none when it has no artifacts/ folder). Throws InputError
// naming a file of a newer format version, or a folder that cannot be listed.
ArtifactListing list_artifacts(const std::filesystem::path& run_dir);

// The payload of a listed artifact. Throws InputError when it cannot be read whole.
std::string read_artifact_payload(const ArtifactInfo& artifact);

}  // namespace memsoak::harness
