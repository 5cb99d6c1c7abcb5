// Pure parsers of /proc text (statm, stat): text in, numbers out, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace memsoak::harness {

// /proc/PID/statm, in pages. `shared` is RssFile + RssShmem on Linux >= 4.5, so anonymous
// resident pages are `resident - shared`.
struct StatmPages {
  std::uint64_t size = 0;
  std::uint64_t resident = 0;
  std::uint64_t shared = 0;
};

// The fields memsoak uses from /proc/PID/stat (field numbers as in proc(5)).
struct StatFields {
  std::uint64_t ppid = 0;          // field 4: the parent's process id (0 for the kernel's roots)
  std::uint64_t minor_faults = 0;  // field 10
  std::uint64_t major_faults = 0;  // field 12
  std::uint64_t utime_ticks = 0;   // field 14
  std::uint64_t stime_ticks = 0;   // field 15
  std::uint64_t num_threads = 0;   // field 20
};

// The memory totals of /proc/PID/smaps_rollup, in bytes.
struct SmapsRollup {
  std::uint64_t pss_bytes = 0;
  std::uint64_t private_clean_bytes = 0;
  std::uint64_t private_dirty_bytes = 0;
};

// Both return nullopt on text that does not have the expected shape. Neither allocates, so both
// are safe after fork in a child and on the per-run sampling path.
std::optional<StatmPages> parse_statm(std::string_view text) noexcept;
std::optional<StatFields> parse_stat(std::string_view text) noexcept;
// Needs the Pss, Private_Clean and Private_Dirty lines ("Pss:   1234 kB"); nullopt without them.
std::optional<SmapsRollup> parse_smaps_rollup(std::string_view text) noexcept;

// /proc/PID/task/TID/children: process ids separated by spaces, usually with a trailing space;
// empty text is an empty list. Appends them to `out` and returns true, or returns false (leaving
// `out` as it was) on anything else. Allocates: for the process-tree scan, not for a forked child.
bool parse_pid_list(std::string_view text, std::vector<std::uint64_t>& out);

}  // namespace memsoak::harness
