// JSON file helpers (see json_file.h).
#include "harness/json_file.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "harness/errors.h"

namespace memsoak::harness {
namespace fs = std::filesystem;

namespace {

template <typename Json>
void write_json_atomically(const fs::path& path, const Json& value) {
  // Outside strings (symbols, module paths) need not be UTF-8: invalid bytes become U+FFFD.
  write_text_file(path, value.dump(2, ' ', false, Json::error_handler_t::replace) + '\n');
}

}  // namespace

void write_text_file(const fs::path& path, const std::string& text) {
  write_file_atomically(path, [&text](std::ostream& out) { out << text; });
}

void write_file_atomically(const fs::path& path, const std::function<void(std::ostream&)>& fill) {
  std::error_code ec;
  if (fs::is_directory(path, ec))
    throw InputError(fmt::format("{}: is a directory, where memsoak writes a file", path.string()));
  fs::path temp = path;
  temp += ".tmp";
  try {
    {
      std::ofstream out(temp);
      if (!out) throw std::system_error(errno, std::generic_category(), temp.string());
      fill(out);
      if (!out.flush()) throw std::system_error(errno, std::generic_category(), temp.string());
    }
    fs::rename(temp, path);
  } catch (const std::system_error& e) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    // The place is at fault, not memsoak: a full disk, a quota, a read-only or forbidden directory.
    const int code = e.code().value();
    if (e.code().category() == std::generic_category() &&
        (code == ENOSPC || code == EDQUOT || code == EROFS || code == EACCES || code == EPERM)) {
      throw InputError(fmt::format("{}: cannot write: {}", path.string(), std::strerror(code)));
    }
    throw;
  } catch (...) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw;
  }
}

void write_json_file(const fs::path& path, const nlohmann::json& value) {
  write_json_atomically(path, value);
}

void write_json_file(const fs::path& path, const nlohmann::ordered_json& value) {
  write_json_atomically(path, value);
}

nlohmann::json read_json_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw InputError(fmt::format("{}: cannot open (missing or not a file)", path.string()));
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open", path.string()));
  // Code that walks a document recursively (copying it, comparing it) needs a bounded depth; no
  // file memsoak reads comes near this one.
  auto bounded_depth = [&path](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > kMaxJsonDepth) {
      throw InputError(fmt::format("{}: nested more than {} levels deep", path.string(), kMaxJsonDepth));
    }
    return true;
  };
  try {
    return nlohmann::json::parse(in, bounded_depth);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: not valid JSON ({})", path.string(), e.what()));
  }
}

}  // namespace memsoak::harness
