// Pure parsers of /proc text (see proc_parsers.h).
#include "harness/proc_parsers.h"

#include <charconv>

namespace memsoak::harness {
namespace {

// Reads the next space-separated unsigned number from `text`, advancing it.
bool next_number(std::string_view& text, std::uint64_t& out) noexcept {
  std::size_t start = text.find_first_not_of(' ');
  if (start == std::string_view::npos) return false;
  text.remove_prefix(start);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || ptr == text.data()) return false;
  text.remove_prefix(static_cast<std::size_t>(ptr - text.data()));
  return text.empty() || text.front() == ' ' || text.front() == '\n';
}

bool skip_fields(std::string_view& text, int count) noexcept {
  for (int i = 0; i < count; ++i) {
    std::size_t start = text.find_first_not_of(' ');
    if (start == std::string_view::npos) return false;
    std::size_t end = text.find(' ', start);
    if (end == std::string_view::npos) return false;
    text.remove_prefix(end);
  }
  return true;
}

}  // namespace

std::optional<StatmPages> parse_statm(std::string_view text) noexcept {
  StatmPages pages;
  if (!next_number(text, pages.size) || !next_number(text, pages.resident) ||
      !next_number(text, pages.shared)) {
    return std::nullopt;
  }
  return pages;
}

std::optional<StatFields> parse_stat(std::string_view text) noexcept {
  // Field 2 is the command name in parentheses and may itself hold spaces and ')': fields resume
  // after the last ')'.
  std::size_t close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  text.remove_prefix(close + 1);
  StatFields f;
  std::uint64_t ignored = 0;
  // Now at field 3 (state, a letter), then 4 (ppid), then 5..9.
  if (!skip_fields(text, 1) || !next_number(text, f.ppid) || !skip_fields(text, 5)) return std::nullopt;
  if (!next_number(text, f.minor_faults) || !next_number(text, ignored) ||
      !next_number(text, f.major_faults) || !next_number(text, ignored) ||
      !next_number(text, f.utime_ticks) || !next_number(text, f.stime_ticks)) {
    return std::nullopt;
  }
  // Fields 16..19 (cutime, cstime, priority, nice; the last two may be negative), then 20.
  if (!skip_fields(text, 4) || !next_number(text, f.num_threads)) return std::nullopt;
  return f;
}

std::optional<SmapsRollup> parse_smaps_rollup(std::string_view text) noexcept {
  SmapsRollup rollup;
  int found = 0;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    std::uint64_t* target = key == "Pss"             ? &rollup.pss_bytes
                            : key == "Private_Clean" ? &rollup.private_clean_bytes
                            : key == "Private_Dirty" ? &rollup.private_dirty_bytes
                                                     : nullptr;
    if (target == nullptr) continue;
    std::string_view rest = line.substr(colon + 1);
    std::uint64_t kib = 0;
    if (!next_number(rest, kib)) return std::nullopt;
    *target = kib * 1024;
    ++found;
  }
  if (found < 3) return std::nullopt;
  return rollup;
}

bool parse_pid_list(std::string_view text, std::vector<std::uint64_t>& out) {
  std::size_t old_size = out.size();
  while (text.find_first_not_of(" \n") != std::string_view::npos) {
    std::uint64_t pid = 0;
    if (!next_number(text, pid)) {
      out.resize(old_size);
      return false;
    }
    out.push_back(pid);
  }
  return true;
}

}  // namespace memsoak::harness
