// The heaptrack pass (`memsoak run --profiler heaptrack`): after the soak's entries, the scenario's
// in-process strategy runs once more, for a bounded number of runs, under Debian's heaptrack, and
// heaptrack_print turns the recording into folded stacks of the bytes still live at the end.
//
// This file owns the pass's processes and its record, `heaptrack/pass.json` (schema
// "memsoak.heaptrack/1"), the way run_manifest.h owns run.json: the pass writes it, the analysis
// reads it back (reports/heaptrack.h parses the folded stacks it points to). Files and fields are
// documented in docs/run-directory.md.
//
//   memsoak _profile DIR --runs N      the process heaptrack profiles (ProfileInvocation)
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "harness/runner.h"

namespace memsoak::harness {

inline constexpr const char* kHeaptrackDir = "heaptrack";
inline constexpr const char* kHeaptrackRecordFile = "heaptrack/pass.json";
inline constexpr const char* kHeaptrackSchema = "memsoak.heaptrack/1";
inline constexpr int kHeaptrackSchemaVersion = 1;
inline constexpr const char* kHeaptrackFoldedFile = "heaptrack/leaked.folded";
inline constexpr const char* kHeaptrackLogFile = "heaptrack/heaptrack.log";
inline constexpr std::uint64_t kDefaultProfilerRuns = 200;

// What the pass did, as heaptrack/pass.json records it. Paths are relative to the run directory.
struct HeaptrackRecord {
  // "running" (written as the pass starts; still there means memsoak died during it), "ok",
  // "not-installed", "not-applicable" (an --exec worker) or "failed".
  std::string status = "running";
  std::optional<std::string> reason;     // why it is not "ok"
  std::uint64_t runs = 0;                // runs of the workload the pass was asked for
  std::optional<std::string> data_file;  // heaptrack's recording, heaptrack/heaptrack.zst (.gz without zstd)
  std::optional<std::string> folded_file;  // heaptrack_print's folded stacks of leaked bytes
  std::optional<std::int64_t> elapsed_ns;  // wall time of the profiled process under heaptrack

  // Reads `run_dir`/heaptrack/pass.json; nullopt when the soak ran no pass (no such file).
  // Throws InputError naming the file and the field when it is not memsoak's, newer, or malformed.
  static std::optional<HeaptrackRecord> read(const std::filesystem::path& run_dir);
  // Replaces `run_dir`/heaptrack/pass.json atomically (creating heaptrack/).
  void write(const std::filesystem::path& run_dir) const;
};

// `memsoak _profile DIR --runs N`: the workload recorded in DIR/run.json, set up once and run N
// times in this process, with no sampling, then left alive (not torn down) so that what it holds
// counts as still live when heaptrack stops.
struct ProfileInvocation {
  static constexpr const char* kCommand = "_profile";
  std::filesystem::path run_dir;
  std::uint64_t runs = 0;

  std::vector<std::string> to_argv(const std::string& executable) const;
  // `args` are the words after the command. Throws InputError naming a missing or bad word.
  static ProfileInvocation parse(std::span<const std::string> args);
};

// The body of `memsoak _profile`. Exits the process (it never returns normally): after the runs it
// stops heaptrack's recording (heaptrack_stop, when heaptrack is preloaded) and calls _exit, so that
// neither the workload's destructor nor static destructors free what the runs left live.
[[noreturn]] void run_profile_invocation(const ProfileInvocation& invocation, const SourceResolver& resolve);

struct HeaptrackPassOptions {
  std::uint64_t runs = kDefaultProfilerRuns;
  bool external_workload = false;   // --exec: the pass does not apply
  std::int64_t run_timeout_ms = 0;  // --run-timeout: bounds the pass too (0: no bound)
  bool quiet = false;               // no progress line on stderr
};

struct HeaptrackPassOutcome {
  HeaptrackRecord record;  // as written to heaptrack/pass.json
  int stop_signal = 0;     // SIGINT or SIGTERM when the pass was stopped by one (StopSignals)
};

// Runs the pass into `run_dir`/heaptrack/ and writes its record. Never throws for what heaptrack
// does (not installed, crashed, timed out: the record says so and the soak goes on); prints one
// line on stderr when heaptrack is not installed. A stop signal (StopSignals, installed by the
// soak) ends heaptrack's process group and the pass.
HeaptrackPassOutcome run_heaptrack_pass(const std::filesystem::path& run_dir,
                                        const HeaptrackPassOptions& options);

// The absolute path of `program` on $PATH, or nullopt (for tests and the pass).
std::optional<std::filesystem::path> find_on_path(const std::string& program);

}  // namespace memsoak::harness
