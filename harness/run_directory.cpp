// Run directory creation and run.json helpers (see run_directory.h).
#include "harness/run_directory.h"

#include <fmt/format.h>
#include <gnu/libc-version.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <system_error>

#include "harness/errors.h"

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

// Makes `dir` (and missing parents); on failure removes whatever this call created.
void make_directory(const fs::path& dir) {
  fs::path existing = dir;
  while (!existing.empty() && !fs::exists(existing) && existing.has_parent_path() &&
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
    throw InputError(fmt::format("--out '{}': cannot create directory: {}", dir.string(), ec.message()));
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    throw InputError(fmt::format("--out '{}': directory is not writable", dir.string()));
  }
}

void point_latest_link(const fs::path& base, const std::string& name) {
  fs::path link = base / "latest";
  fs::path temp = base / ("latest.tmp." + std::to_string(::getpid()));
  std::error_code ec;
  fs::create_directory_symlink(name, temp, ec);
  if (!ec) fs::rename(temp, link, ec);
  if (ec) fs::remove(temp, ec);  // a missing "latest" link is not worth failing a run for
}

}  // namespace

fs::path create_run_directory(const std::optional<fs::path>& requested) {
  if (requested) {
    std::error_code ec;
    if (fs::exists(*requested, ec)) {
      if (!fs::is_directory(*requested, ec)) {
        throw InputError(fmt::format("--out '{}': exists and is not a directory", requested->string()));
      }
      if (!fs::is_empty(*requested, ec)) {
        throw InputError(fmt::format("--out '{}': directory is not empty", requested->string()));
      }
    }
    make_directory(*requested);
    return *requested;
  }
  fs::path base = "memsoak-out";
  std::string name = utc_timestamp();
  // Two runs in the same second get distinct directories.
  for (int suffix = 2; fs::exists(base / name); ++suffix)
    name = utc_timestamp() + "-" + std::to_string(suffix);
  make_directory(base / name);
  point_latest_link(base, name);
  return base / name;
}

void write_json_file(const fs::path& path, const nlohmann::json& value) {
  fs::path temp = path;
  temp += ".tmp";
  {
    std::ofstream out(temp);
    out << value.dump(2) << '\n';
    if (!out.flush()) throw std::system_error(errno, std::generic_category(), temp.string());
  }
  fs::rename(temp, path);
}

nlohmann::json read_json_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open", path.string()));
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: not valid JSON ({})", path.string(), e.what()));
  }
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
