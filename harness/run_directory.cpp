// Run directory creation and run.json helpers (see run_directory.h).
#include "harness/run_directory.h"

#include <elf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <ctime>
#include <fstream>
#include <system_error>

#include "harness/errors.h"
#include "harness/posix.h"
#include "harness/tracker/internal/build_id_note.h"

namespace memsoak::harness {
namespace fs = std::filesystem;
namespace {

std::string utc_timestamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &tm);
  return text;
}

// Makes `dir` (and missing parents); on failure removes whatever this call created. `label`
// names the directory in errors: "--out 'x'", or the default run directory.
void make_directory(const fs::path& dir, const std::string& label) {
  // Checked here rather than left to mkdir, whose ENAMETOOLONG names no component.
  for (const fs::path& component : dir) {
    if (component.native().size() > NAME_MAX) {
      throw InputError(
          fmt::format("{}: a path component is {} bytes, longer than the {} a file name may have", label,
                      component.native().size(), NAME_MAX));
    }
  }
  // The files inside take up to kInnerPathBytes more (artifacts/<entry>/<pid>-<seq>.<kind>), and
  // the soak uses the directory by its absolute path.
  constexpr std::size_t kInnerPathBytes = 128;
  std::error_code absolute_ec;
  const std::size_t length = fs::absolute(dir, absolute_ec).native().size();
  if (length + kInnerPathBytes >= PATH_MAX)
    throw InputError(
        fmt::format("{}: the path is {} bytes as an absolute path, at most {} (the files inside "
                    "need up to {} more)",
                    label, length, PATH_MAX - 1 - kInnerPathBytes, kInnerPathBytes));
  fs::path existing = dir;
  std::error_code exists_ec;
  while (!existing.empty() && !fs::exists(existing, exists_ec) && existing.has_parent_path() &&
         existing.parent_path() != existing) {
    existing = existing.parent_path();
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    // Undo the part of the chain that was created before the failure.
    for (fs::path p = dir; !p.empty() && p != existing && p.has_parent_path(); p = p.parent_path()) {
      std::error_code ignored;
      fs::remove(p, ignored);
    }
    throw InputError(fmt::format("{}: cannot create directory: {}", label, ec.message()));
  }
  if (::access(dir.c_str(), W_OK) != 0) throw InputError(fmt::format("{}: directory is not writable", label));
}

void point_latest_link(const fs::path& base, const std::string& name) {
  fs::path link = base / "latest";
  fs::path temp = base / ("latest.tmp." + std::to_string(::getpid()));
  std::error_code ec;
  fs::create_directory_symlink(name, temp, ec);
  if (!ec) fs::rename(temp, link, ec);
  if (ec) fs::remove(temp, ec);  // a missing "latest" link is not worth failing a run for
}

// A lock on the run directory held until this process ends (the descriptor is close-on-exec, so
// only memsoak's own forked processes share it): a second memsoak given the same --out is refused
// instead of writing over the first one's files.
void claim(const fs::path& dir, const std::string& label) {
  static UniqueFd held;
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid())
    throw InputError(fmt::format("{}: cannot open directory: {}", label, std::strerror(errno)));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) throw InputError(label + ": another memsoak is writing to this directory");
    return;  // a file system without locks: nothing to guard with
  }
  held = std::move(fd);
}

// "a/b/" as "a/b", so that walking up by parent_path() leaves the directory at the first step.
fs::path without_trailing_slash(const fs::path& dir) {
  fs::path normal = dir.lexically_normal();
  return normal.has_filename() || !normal.has_parent_path() ? normal : normal.parent_path();
}

// A full disk (or quota) found now is bad input with one line and nothing left behind, rather than
// an internal error at the first record: writes the first 64 KiB a soak needs, then removes them.
// `created_top`: the topmost directory this call created (empty: none); on failure every directory
// from `dir` up to it is removed again (only while empty).
void probe_space(const fs::path& dir, const std::string& label, const fs::path& created_top) {
  const fs::path probe = dir / ".memsoak-space-probe";
  UniqueFd fd(::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  int error = fd.valid() ? 0 : errno;
  static const char kZeros[64 * 1024] = {};
  if (error == 0) {
    const ssize_t written = ::write(fd.get(), kZeros, sizeof kZeros);
    // A short write sets no errno: the disk had room for part of the 64 KiB only.
    if (written < 0)
      error = errno;
    else if (static_cast<std::size_t>(written) != sizeof kZeros)
      error = ENOSPC;
  }
  fd.reset();
  std::error_code ignored;
  fs::remove(probe, ignored);
  if (error == 0) return;
  if (!created_top.empty()) {
    for (fs::path p = without_trailing_slash(dir);; p = p.parent_path()) {
      if (!fs::remove(p, ignored) || p == created_top || !p.has_parent_path() || p.parent_path() == p) break;
    }
  }
  throw InputError(fmt::format("{}: cannot write there: {}", label, std::strerror(error)));
}

// The topmost directory of `dir` that does not exist yet (what make_directory will create first);
// empty when `dir` exists.
fs::path first_missing(const fs::path& dir) {
  fs::path top;
  std::error_code ec;
  for (fs::path p = without_trailing_slash(dir); !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    top = p;
    if (!p.has_parent_path() || p.parent_path() == p) break;
  }
  return top;
}

}  // namespace

void check_no_soak_running(const fs::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return;  // reading it says what is wrong
  // A soak killed a moment ago may still have processes on their way out (they die with it): the
  // lock is waited for a little before the directory counts as in use.
  for (int attempt = 0; attempt < 40; ++attempt) {
    if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK) return;
    ::usleep(50'000);
  }
  throw InputError(
      fmt::format("'{}': a memsoak run is still writing to this directory; its report is "
                  "written when it ends (or stop it, and run memsoak report again)",
                  dir.string()));
}

fs::path create_run_directory(const std::optional<fs::path>& requested) {
  if (requested) {
    const std::string label = fmt::format("--out '{}'", requested->string());
    if (requested->empty()) throw InputError("--out '': empty path");
    std::error_code ec;
    if (fs::exists(*requested, ec)) {
      if (!fs::is_directory(*requested, ec)) throw InputError(label + ": exists and is not a directory");
      if (!fs::is_empty(*requested, ec)) throw InputError(label + ": directory is not empty");
    }
    const fs::path created_top = first_missing(*requested);
    make_directory(*requested, label);
    claim(*requested, label);
    probe_space(*requested, label, created_top);
    // Checked again now that no other memsoak can take it: one that started at the same moment
    // may have passed the check above too, and written its run.json since.
    if (!fs::is_empty(*requested, ec)) throw InputError(label + ": directory is not empty");
    return *requested;
  }
  fs::path base = "memsoak-out";
  make_directory(base, "default run directory 'memsoak-out'");
  // mkdir fails with EEXIST when another memsoak took the name first (two runs in one second,
  // or in parallel): the next suffix is tried, so concurrent runs never share a directory.
  std::string stamp = utc_timestamp();
  for (int suffix = 1;; ++suffix) {
    std::string name = suffix == 1 ? stamp : stamp + "-" + std::to_string(suffix);
    if (::mkdir((base / name).c_str(), 0755) == 0) {
      probe_space(base / name, fmt::format("default run directory '{}'", (base / name).string()),
                  base / name);
      point_latest_link(base, name);
      return base / name;
    }
    if (errno != EEXIST) {
      throw InputError(fmt::format("default run directory '{}': cannot create: {}", (base / name).string(),
                                   std::strerror(errno)));
    }
  }
}

void append_run_log(const fs::path& run_dir, std::string_view line) {
  const fs::path path = run_dir / "run.log";
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) throw std::system_error(errno, std::generic_category(), path.string());
  std::string text(line);
  text += '\n';
  // One write() with O_APPEND: lines of concurrent writers never interleave.
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    throw std::system_error(errno, std::generic_category(), path.string());
  }
}

std::string executable_build_id() {
  std::string id;
  // The first object dl_iterate_phdr reports is the executable itself.
  ::dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* out) -> int {
        auto& hex = *static_cast<std::string*>(out);
        for (int i = 0; i < info->dlpi_phnum && hex.empty(); ++i) {
          if (info->dlpi_phdr[i].p_type != PT_NOTE) continue;
          const internal::BuildIdNote note = internal::find_build_id_note(info, info->dlpi_phdr[i]);
          for (std::uint32_t b = 0; b < note.size; ++b) hex += fmt::format("{:02x}", note.bytes[b]);
        }
        return 1;  // stop after the executable
      },
      &id);
  return id;
}

nlohmann::json describe_environment() {
  nlohmann::json env;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  env["hostname"] = host;
  env["cpus"] = ::sysconf(_SC_NPROCESSORS_ONLN);
  env["memory_bytes"] = static_cast<std::int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGESIZE);
  env["page_bytes"] = ::sysconf(_SC_PAGESIZE);
  utsname uts{};
  if (::uname(&uts) == 0) env["kernel"] = fmt::format("{} {} {}", uts.sysname, uts.release, uts.machine);
  env["glibc"] = gnu_get_libc_version();
  env["compiler"] = fmt::format("g++ {}", __VERSION__);
  std::ifstream os_release("/etc/os-release");
  for (std::string line; std::getline(os_release, line);) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::string value = line.substr(12);
      if (value.size() >= 2 && value.front() == '"') value = value.substr(1, value.size() - 2);
      env["os"] = value;
    }
  }
  return env;
}

}  // namespace memsoak::harness
