// The heaptrack pass (see heaptrack_pass.h): its record, the profiled process, and the pass itself.
#include "harness/heaptrack_pass.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>

#include "harness/errors.h"
#include "harness/internal/tool_process.h"
#include "harness/json_file.h"
#include "harness/run_manifest.h"
#include "harness/units.h"

namespace memsoak::harness {
namespace fs = std::filesystem;

namespace {

constexpr const char* kStatuses[] = {"running", "ok", "not-installed", "not-applicable", "failed"};

// An optional string field: absent or null is nullopt; anything but a string is refused.
std::optional<std::string> optional_string(const nlohmann::json& json, const char* key,
                                           const fs::path& file) {
  if (!json.contains(key) || json[key].is_null()) return std::nullopt;
  if (!json[key].is_string()) throw InputError(fmt::format("{}: '{}' is not a string", file.string(), key));
  return json[key].get<std::string>();
}

// A path the record names must stay inside heaptrack/: the analysis opens it.
std::optional<std::string> contained_path(const nlohmann::json& json, const char* key, const fs::path& file) {
  std::optional<std::string> path = optional_string(json, key, file);
  if (path && (!path->starts_with("heaptrack/") || path->find("..") != std::string::npos)) {
    throw InputError(fmt::format("{}: '{}' is '{}', not a file under heaptrack/", file.string(), key, *path));
  }
  return path;
}

nlohmann::ordered_json or_null(const std::optional<std::string>& value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

}  // namespace

std::optional<HeaptrackRecord> HeaptrackRecord::read(const fs::path& run_dir) {
  const fs::path file = run_dir / kHeaptrackRecordFile;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(file, ec))) return std::nullopt;
  const nlohmann::json json = read_json_file(file);
  if (!json.is_object()) throw InputError(fmt::format("{}: not a JSON object", file.string()));
  const std::optional<std::string> schema = optional_string(json, "schema", file);
  if (!schema || !schema->starts_with("memsoak.heaptrack/")) {
    throw InputError(
        fmt::format("{}: not a memsoak heaptrack record (schema '{}')", file.string(), schema.value_or("")));
  }
  if (*schema != kHeaptrackSchema) {
    throw InputError(fmt::format("{}: schema '{}' is newer than this memsoak reads ({})", file.string(),
                                 *schema, kHeaptrackSchema));
  }
  HeaptrackRecord record;
  record.status = optional_string(json, "status", file).value_or("");
  bool known = false;
  for (const char* status : kStatuses) known = known || record.status == status;
  if (!known) throw InputError(fmt::format("{}: unknown status '{}'", file.string(), record.status));
  record.reason = optional_string(json, "reason", file);
  if (!json.contains("runs") || !json["runs"].is_number_unsigned()) {
    throw InputError(fmt::format("{}: 'runs' is not a count", file.string()));
  }
  record.runs = json["runs"].get<std::uint64_t>();
  record.data_file = contained_path(json, "data_file", file);
  record.folded_file = contained_path(json, "folded_file", file);
  if (json.contains("elapsed_ns") && !json["elapsed_ns"].is_null()) {
    if (!json["elapsed_ns"].is_number_integer() || json["elapsed_ns"].get<std::int64_t>() < 0) {
      throw InputError(fmt::format("{}: 'elapsed_ns' is not a duration", file.string()));
    }
    record.elapsed_ns = json["elapsed_ns"].get<std::int64_t>();
  }
  return record;
}

void HeaptrackRecord::write(const fs::path& run_dir) const {
  fs::create_directories(run_dir / kHeaptrackDir);
  write_json_file(run_dir / kHeaptrackRecordFile,
                  nlohmann::ordered_json{
                      {"schema", kHeaptrackSchema},
                      {"status", status},
                      {"reason", or_null(reason)},
                      {"runs", runs},
                      {"data_file", or_null(data_file)},
                      {"folded_file", or_null(folded_file)},
                      {"elapsed_ns", elapsed_ns ? nlohmann::ordered_json(*elapsed_ns) : nullptr},
                  });
}

std::vector<std::string> ProfileInvocation::to_argv(const std::string& executable) const {
  return {executable, kCommand, run_dir.string(), "--runs", std::to_string(runs)};
}

ProfileInvocation ProfileInvocation::parse(std::span<const std::string> args) {
  if (args.empty() || args[0].empty() || args[0].starts_with("--")) {
    throw InputError(fmt::format("{}: the run directory is missing", kCommand));
  }
  if (args.size() != 3 || args[1] != "--runs") {
    throw InputError(fmt::format("{}: expected DIR --runs N, got {} words", kCommand, args.size()));
  }
  ProfileInvocation invocation;
  invocation.run_dir = args[0];
  invocation.runs = parse_count(args[2], fmt::format("{} --runs", kCommand));
  if (invocation.runs == 0) throw InputError(fmt::format("{} --runs '0': must be at least 1", kCommand));
  return invocation;
}

void run_profile_invocation(const ProfileInvocation& invocation, const SourceResolver& resolve) {
  const RunManifest manifest = RunManifest::read(invocation.run_dir);
  const WorkloadSource source = resolve(manifest);
  if (!source.in_memsoak()) {
    throw InputError(fmt::format("{}: the workload is an external worker; memsoak cannot profile it",
                                 (invocation.run_dir / "run.json").string()));
  }
  std::unique_ptr<Workload> workload = source.factory();
  workload->setup();
  std::uint64_t failed = 0;
  for (std::uint64_t i = 0; i < invocation.runs; ++i) {
    try {
      workload->run(i);
    } catch (const std::exception& e) {
      if (++failed <= 3)
        std::fprintf(stderr, "memsoak _profile: run %llu failed: %s\n", static_cast<unsigned long long>(i),
                     e.what());
    }
  }
  std::fprintf(stderr, "memsoak _profile: %llu runs, %llu failed\n",
               static_cast<unsigned long long>(invocation.runs), static_cast<unsigned long long>(failed));
  // Left live on purpose: what the workload holds after N runs is what the pass looks for.
  static_cast<void>(workload.release());
  // heaptrack writes its last data at exit; stop it first, then skip every destructor (a
  // process-wide registry freed by a static destructor would otherwise not count as leaked).
  using StopFunction = void (*)();
  if (void* stop = ::dlsym(RTLD_DEFAULT, "heaptrack_stop")) reinterpret_cast<StopFunction>(stop)();
  std::fflush(nullptr);
  ::_exit(0);
}

std::optional<fs::path> find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return std::nullopt;
  std::string_view rest = path;
  while (true) {
    const std::size_t colon = rest.find(':');
    const std::string_view dir = rest.substr(0, colon);
    if (!dir.empty()) {
      fs::path candidate = fs::path(dir) / program;
      std::error_code ec;
      if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) {
        return fs::absolute(candidate, ec);
      }
    }
    if (colon == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(colon + 1);
  }
}

namespace {

// "exited with code 3", "killed by signal 11 (Segmentation fault)", "ran past its 60 s limit".
std::string describe(const internal::ToolResult& r, const char* what) {
  if (r.timed_out) return fmt::format("{} ran past its {} s limit and was killed", what, r.limit_ms / 1000);
  if (r.stop_signal != 0) return fmt::format("{} was stopped by {}", what, ::strsignal(r.stop_signal));
  if (r.signal != 0)
    return fmt::format("{} was killed by signal {} ({})", what, r.signal, ::strsignal(r.signal));
  return fmt::format("{} exited with code {}", what, r.exit_code);
}

std::int64_t pass_limit_ms(const HeaptrackPassOptions& options) {
  if (options.run_timeout_ms <= 0) return 0;
  // heaptrack slows allocation-heavy code several times over: each run gets four run timeouts.
  const double limit =
      60000.0 + 4.0 * static_cast<double>(options.runs) * static_cast<double>(options.run_timeout_ms);
  return limit > 1e15 ? std::int64_t{1000000000000000} : static_cast<std::int64_t>(limit);
}

constexpr std::int64_t kPrintLimitMs = 10 * 60 * 1000;

}  // namespace

HeaptrackPassOutcome run_heaptrack_pass(const fs::path& run_dir, const HeaptrackPassOptions& options) {
  HeaptrackPassOutcome outcome;
  HeaptrackRecord& record = outcome.record;
  record.runs = options.runs;
  if (options.external_workload) {
    record.status = "not-applicable";
    record.reason =
        "the workload is an external worker (--exec): memsoak holds none of it to run under heaptrack; "
        "run the worker itself under heaptrack";
    record.write(run_dir);
    return outcome;
  }
  const std::optional<fs::path> heaptrack = find_on_path("heaptrack");
  const std::optional<fs::path> print = find_on_path("heaptrack_print");
  if (!heaptrack || !print) {
    record.status = "not-installed";
    record.reason =
        fmt::format("{} is not on PATH (apt install heaptrack)", heaptrack ? "heaptrack_print" : "heaptrack");
    std::cerr << fmt::format(
        "memsoak: --profiler heaptrack: {} is not installed (apt install heaptrack); the soak "
        "goes on without it\n",
        heaptrack ? "heaptrack_print" : "heaptrack");
    record.write(run_dir);
    return outcome;
  }
  record.write(run_dir);  // "running": a crash from here on leaves that in the record
  const fs::path dir = fs::absolute(run_dir) / kHeaptrackDir;
  const fs::path log = fs::absolute(run_dir) / kHeaptrackLogFile;
  if (!options.quiet) {
    std::cerr << fmt::format("memsoak: heaptrack pass: {} runs of the in-process strategy under {}\n",
                             options.runs, heaptrack->string());
  }
  // The running binary itself, through this process's /proc entry: heaptrack's script runs it by
  // path, and /proc/self/exe would name the shell.
  const std::string self = fmt::format("/proc/{}/exe", ::getpid());
  ProfileInvocation profile{fs::absolute(run_dir), options.runs};
  std::vector<std::string> argv = {heaptrack->string(), "-o", "heaptrack"};
  for (std::string& word : profile.to_argv(self)) argv.push_back(std::move(word));
  internal::ToolResult traced = internal::run_tool(argv, dir, log, pass_limit_ms(options));
  record.elapsed_ns = traced.elapsed_ns;
  outcome.stop_signal = traced.stop_signal;
  // heaptrack's script (/bin/sh) removes its FIFO in an EXIT trap, which a signal skips.
  const fs::path fifo = fmt::format("/tmp/heaptrack_fifo{}", traced.pid);
  std::error_code ec;
  if (fs::is_fifo(fs::symlink_status(fifo, ec))) fs::remove(fifo, ec);
  for (const char* name : {"heaptrack.zst", "heaptrack.gz"}) {
    if (fs::is_regular_file(dir / name)) record.data_file = fmt::format("{}/{}", kHeaptrackDir, name);
  }
  if (!traced.ok()) record.reason = describe(traced, "heaptrack") + " (see heaptrack/heaptrack.log)";
  if (!record.data_file || outcome.stop_signal != 0) {
    record.status = "failed";
    if (!record.reason) record.reason = "heaptrack wrote no recording (see heaptrack/heaptrack.log)";
    record.write(run_dir);
    return outcome;
  }
  // Folded stacks of the bytes still live at the end, without the text report.
  internal::ToolResult printed = internal::run_tool(
      {print->string(), "-f", (fs::absolute(run_dir) / *record.data_file).string(), "--flamegraph-cost-type",
       "leaked", "-F", "leaked.folded", "-p", "0", "-a", "0", "-T", "0", "-l", "0"},
      dir, log, kPrintLimitMs);
  if (outcome.stop_signal == 0) outcome.stop_signal = printed.stop_signal;
  if (printed.ok() && fs::is_regular_file(dir / "leaked.folded")) {
    record.folded_file = kHeaptrackFoldedFile;
  } else if (!record.reason) {
    record.reason = describe(printed, "heaptrack_print") + " (see heaptrack/heaptrack.log)";
  }
  record.status = record.reason ? "failed" : "ok";
  record.write(run_dir);
  return outcome;
}

}  // namespace memsoak::harness
