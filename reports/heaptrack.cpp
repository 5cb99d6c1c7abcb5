// heaptrack's folded stacks in the report (see heaptrack.h).
#include "reports/heaptrack.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "harness/errors.h"
#include "harness/heaptrack_pass.h"

namespace memsoak::reports {
namespace fs = std::filesystem;

namespace {

// A folded file larger than this is not heaptrack_print's output for a bounded pass.
constexpr std::uintmax_t kMaxFoldedBytes = std::uintmax_t{256} << 20;

[[noreturn]] void malformed(std::string_view file_name, std::size_t line, std::string_view problem) {
  throw InputError(fmt::format("{}: line {}: {}", file_name, line, problem));
}

std::uint64_t parse_count(std::string_view text, std::string_view file_name, std::size_t line) {
  if (text.empty()) malformed(file_name, line, "no count after the last space");
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') malformed(file_name, line, fmt::format("count '{}' is not a number", text));
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
      malformed(file_name, line, fmt::format("count '{}' is too large", text));
    }
    value = value * 10 + digit;
  }
  return value;
}

FoldedStack parse_line(std::string_view text, std::string_view file_name, std::size_t line) {
  if (text.empty()) malformed(file_name, line, "blank line");
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) malformed(file_name, line, "control character");
  }
  const std::size_t space = text.rfind(' ');
  if (space == std::string_view::npos)
    malformed(file_name, line, "no count (expected 'frame;...;frame COUNT')");
  FoldedStack stack;
  stack.count = parse_count(text.substr(space + 1), file_name, line);
  std::string_view frames = text.substr(0, space);
  if (frames.ends_with(';')) frames.remove_suffix(1);  // heaptrack's own ending
  if (frames.empty()) malformed(file_name, line, "no frames before the count");
  while (true) {
    const std::size_t semicolon = frames.find(';');
    std::string_view frame = frames.substr(0, semicolon);
    if (frame.empty()) malformed(file_name, line, "empty frame");
    stack.frames.emplace_back(frame);
    if (semicolon == std::string_view::npos) break;
    frames.remove_prefix(semicolon + 1);
  }
  return stack;
}

constexpr std::array<std::string_view, 11> kAllocatorFunctions = {
    "malloc", "calloc",        "realloc", "reallocarray",   "free",  "memalign",
    "valloc", "aligned_alloc", "pvalloc", "posix_memalign", "strdup"};

constexpr std::array<std::string_view, 10> kAllocatorPrefixes = {
    "operator new",         "operator delete",          "heaptrack_",
    "std::__new_allocator", "__gnu_cxx::new_allocator", "std::allocator_traits",
    "std::allocator<",      "std::__allocated_ptr",     "__libc_malloc",
    "__libc_calloc"};

constexpr std::array<std::string_view, 3> kLibraryNamespaces = {"std::", "__gnu_cxx::", "__cxxabiv1::"};

// "void std::vector<>::_M_realloc_insert<>(...)" -> "std::vector<>::_M_realloc_insert<>": the
// qualified name, without a template's return type or the parameters.
std::string_view qualified_name(std::string_view function) {
  constexpr std::string_view kAnonymous = "(anonymous namespace)";
  std::size_t start = 0;
  std::size_t end = function.size();
  int depth = 0;
  for (std::size_t i = 0; i < function.size(); ++i) {
    const char c = function[i];
    if (c == '<') {
      ++depth;
    } else if (c == '>' && depth > 0) {
      --depth;
    } else if (depth == 0 && c == ' ') {
      start = i + 1;
    } else if (depth == 0 && c == '(') {
      if (function.substr(i).starts_with(kAnonymous)) {
        i += kAnonymous.size() - 1;
      } else if (function.substr(0, i).ends_with("operator") && function.substr(i).starts_with("()")) {
        ++i;
      } else if (function.substr(0, i).ends_with("decltype ") ||
                 function.substr(0, i).ends_with("decltype")) {
        // A return type "decltype (...)": skip its balanced parentheses.
        for (int parens = 0; i < function.size(); ++i) {
          if (function[i] == '(') ++parens;
          if (function[i] == ')' && --parens == 0) break;
        }
      } else {
        end = i;
        break;
      }
    }
  }
  return function.substr(start, end > start ? end - start : 0);
}

}  // namespace

bool is_library_frame(std::string_view frame) {
  const std::string_view name = qualified_name(frame_function(frame));
  for (std::string_view ns : kLibraryNamespaces) {
    if (name.starts_with(ns)) return true;
  }
  return false;
}

std::vector<FoldedStack> parse_folded_stacks(std::string_view text, std::string_view file_name) {
  std::vector<FoldedStack> stacks;
  std::size_t line = 0;
  while (!text.empty()) {
    ++line;
    const std::size_t newline = text.find('\n');
    stacks.push_back(parse_line(text.substr(0, newline), file_name, line));
    if (newline == std::string_view::npos) break;
    text.remove_prefix(newline + 1);
  }
  return stacks;
}

std::string_view frame_function(std::string_view frame) {
  if (!frame.ends_with(')')) return frame;
  const std::size_t open = frame.rfind(" (");
  if (open == std::string_view::npos || open == 0) return frame;
  const std::string_view inside = frame.substr(open + 2, frame.size() - open - 3);
  if (inside.empty() || inside.find_first_of("()<>") != std::string_view::npos) return frame;
  return frame.substr(0, open);
}

bool is_allocator_frame(std::string_view frame) {
  if (frame.ends_with(" (interpose.cpp)")) return true;  // memsoak's counting allocator
  const std::string_view function = frame_function(frame);
  for (std::string_view name : kAllocatorFunctions) {
    if (function == name) return true;
  }
  for (std::string_view prefix : kAllocatorPrefixes) {
    if (function.starts_with(prefix)) return true;
  }
  return false;
}

void summarize_folded_stacks(const std::vector<FoldedStack>& stacks, HeaptrackSummary& summary,
                             std::size_t top) {
  std::map<std::vector<std::string>, std::uint64_t> merged;
  std::uint64_t total = 0;
  for (const FoldedStack& stack : stacks) {
    if (stack.count == 0) continue;
    std::uint64_t& bytes = merged[stack.frames];
    const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max();
    bytes = bytes > limit - stack.count ? limit : bytes + stack.count;
    total = total > limit - stack.count ? limit : total + stack.count;
  }
  std::vector<std::pair<const std::vector<std::string>*, std::uint64_t>> ranked;
  for (const auto& [frames, bytes] : merged) ranked.emplace_back(&frames, bytes);
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  summary.leaked_bytes = total;
  summary.leaking_stacks = ranked.size();
  summary.top_stacks.clear();
  for (std::size_t i = 0; i < ranked.size() && i < top; ++i) {
    HeaptrackStack stack;
    stack.leaked_bytes = ranked[i].second;
    stack.frames.assign(ranked[i].first->rbegin(), ranked[i].first->rend());
    auto user = std::find_if(stack.frames.begin(), stack.frames.end(), [](const std::string& frame) {
      return !is_allocator_frame(frame) && !is_library_frame(frame);
    });
    if (user == stack.frames.end()) {
      user = std::find_if(stack.frames.begin(), stack.frames.end(),
                          [](const std::string& frame) { return !is_allocator_frame(frame); });
    }
    stack.function = user != stack.frames.end() ? *user : stack.frames.front();
    summary.top_stacks.push_back(std::move(stack));
  }
}

std::optional<HeaptrackSummary> read_heaptrack_summary(const fs::path& run_dir) {
  const std::optional<harness::HeaptrackRecord> record = harness::HeaptrackRecord::read(run_dir);
  if (!record) return std::nullopt;
  HeaptrackSummary summary;
  summary.status = record->status;
  summary.reason = record->reason;
  summary.runs = record->runs;
  summary.data_file = record->data_file;
  summary.folded_file = record->folded_file;
  if (summary.status == "running") {
    summary.status = "failed";
    summary.reason = "the pass did not finish (memsoak was stopped during it)";
  }
  if (!record->folded_file) return summary;
  const fs::path path = run_dir / *record->folded_file;
  std::error_code ec;
  try {
    if (!fs::is_regular_file(path, ec)) throw InputError(fmt::format("{}: missing", path.string()));
    if (fs::file_size(path, ec) > kMaxFoldedBytes) {
      throw InputError(fmt::format("{}: larger than {} bytes", path.string(), kMaxFoldedBytes));
    }
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) throw InputError(fmt::format("{}: cannot read", path.string()));
    summarize_folded_stacks(parse_folded_stacks(text.str(), path.string()), summary);
  } catch (const InputError& e) {
    summary.status = "failed";
    summary.reason = e.what();
  }
  return summary;
}

}  // namespace memsoak::reports
