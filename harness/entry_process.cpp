// The body of an entry's process (see internal/entry_process.h), forked or executed.
#include "harness/internal/entry_process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <utility>

#include "harness/artifacts.h"
#include "harness/errors.h"
#include "harness/internal/child_protocol.h"
#include "harness/internal/clock.h"
#include "harness/internal/entry_protocol.h"
#include "harness/progress.h"
#include "harness/run_directory.h"
#include "harness/sample_file.h"
#include "harness/sampler.h"
#include "harness/sequential_looks.h"
#include "harness/stack_sampling.h"
#include "harness/stop_signals.h"

namespace memsoak::harness {
namespace internal {
namespace {

// Counts the artifacts committed since this entry process started: its children's (from their
// reports) and its own (in-process runs, setup).
class ArtifactCount {
 public:
  ArtifactCount() : own_start_(artifacts_committed()) {}
  void add_child(std::uint64_t n) { children_ += n; }
  std::uint64_t total() const { return children_ + (artifacts_committed() - own_start_); }

 private:
  std::uint64_t own_start_;
  std::uint64_t children_ = 0;
};

// The descriptors this entry process shares with the main process (result, heartbeat, control),
// as the files they were at the start. An in-process workload shares them: one that closed them or
// put another file on their numbers (dup2) has cut the entry off from the main process.
class ProtocolDescriptors {
 public:
  explicit ProtocolDescriptors(const EntryTask& task)
      : fds_{task.result_fd, task.heartbeat_fd, task.control_fd} {
    for (std::size_t i = 0; i < fds_.size(); ++i) ids_[i] = identity(fds_[i]);
  }
  // The first descriptor that is no longer the file it was, or -1.
  int changed() const noexcept {
    for (std::size_t i = 0; i < fds_.size(); ++i) {
      if (fds_[i] >= 0 && identity(fds_[i]) != ids_[i]) return fds_[i];
    }
    return -1;
  }

 private:
  static std::pair<dev_t, ino_t> identity(int fd) noexcept {
    struct stat info {};
    if (fd < 0 || ::fstat(fd, &info) != 0) return {0, 0};
    return {info.st_dev, info.st_ino};
  }
  std::array<int, 3> fds_;
  std::array<std::pair<dev_t, ino_t>, 3> ids_{};
};

void send_heartbeat(const EntryTask& task, std::uint64_t run_index, const EntryResult& result,
                    const ArtifactCount& artifacts, bool& main_gone, const RunRecord& record = {}) {
  Heartbeat heartbeat{run_index, result.failures, artifacts.total(), record};
  main_gone = ::write(task.heartbeat_fd, &heartbeat, sizeof heartbeat) != sizeof heartbeat;
}

// At a look: waits for the supervisor's answer. Anything but kContinue, its end of the pipe
// closed included, stops the entry.
bool supervisor_says_continue(const EntryTask& task) {
  char answer = 0;
  return read_exactly(task.control_fd, &answer, 1, 0) == ReadStatus::kOk && answer == kContinue;
}

// Whether the entry ends after run `run_index` under --iterations auto (and says why in `result`).
bool auto_entry_ends(const EntryTask& task, std::uint64_t run_index, EntryResult& result) {
  if (!task.manifest->config.iterations_auto) return false;
  if (look_at(run_index + 1) && !supervisor_says_continue(task)) {
    result.end = EntryResult::kStopped;
    return true;
  }
  if (task.deadline_ns > 0 && monotonic_ns() >= task.deadline_ns) {
    result.end = EntryResult::kDeadline;
    return true;
  }
  return false;
}

// The loop of one entry, from `first_run` on.
void entry_loop(const EntryTask& task, EntryResult& result) {
  const RunManifest& manifest = *task.manifest;
  const ManifestEntry& entry = manifest.entries.at(task.index);
  const SoakConfig& config = manifest.config;
  SampleWriter samples(task.run_dir / "samples.bin", SampleWriter::Mode::kAppend);
  ProcessSampler self;
  ProgressBar progress(task.options.progress_stream, task.options.show_progress);
  set_artifact_directory(std::filesystem::absolute(task.run_dir), task.index);
  auto strategy =
      make_strategy(entry.strategy, make_strategy_context(manifest, task.index, *task.source, task.run_dir));
  ArtifactCount artifacts;
  // The processes that run a native workload sample allocation stacks: this one (in-process) or
  // its forked children, which inherit the sampler's state.
  if (task.source->in_memsoak()) start_stack_sampling(config);
  // Under auto the bar's total is the ceiling; the label says that it may end sooner.
  progress.begin(config.iterations_auto ? entry.label() + " (auto)" : entry.label(), config.iterations);
  strategy->start();
  bool main_gone = false;
  send_heartbeat(task, Heartbeat::kSetUp, result, artifacts, main_gone);
  std::uint64_t start_failures = 0;  // in a row
  const ProtocolDescriptors protocol(task);
  for (std::uint64_t i = task.first_run; i < config.iterations && !main_gone; ++i) {
    RunOutcome outcome = strategy->run(i);
    if (int fd = protocol.changed(); fd >= 0) {
      // No record: the main process records this run as lost and starts a new process for the
      // next one, as after a crash. Writing it here too would give the run two records.
      append_run_log(task.run_dir,
                     fmt::format("{} run {}: the workload closed or replaced memsoak's descriptor {}; "
                                 "this process ends and is replaced",
                                 entry.label(), i, fd));
      std::fflush(nullptr);
      ::_exit(1);
    }
    artifacts.add_child(outcome.artifacts);
    RunRecord record = make_run_record(task.index, i, record_warmup(config), outcome);
    record.harness_rss_bytes = self.rss_bytes();
    samples.append(record);
    if (!outcome.ok) {
      outcome.failure = explain_memory_limit(std::move(outcome.failure), config.memory_limit_bytes, 0);
      ++result.failures;
      append_run_log(task.run_dir, fmt::format("{} run {}: failed: {}", entry.label(), i, outcome.failure));
    }
    send_heartbeat(task, i, result, artifacts, main_gone, record);
    progress.update(i + 1, outcome.worker.rss_bytes);
    if (config.max_failures > 0 && result.failures >= config.max_failures) {
      result.status = EntryResult::kMaxFailures;
      break;
    }
    start_failures = outcome.start_failed ? start_failures + 1 : 0;
    if (start_failures >= kMaxStartFailures) {
      result.status = EntryResult::kNeverStarted;
      const std::string why =
          fmt::format("stopped: the worker failed to start {} times in a row; the last time: {}",
                      start_failures, outcome.failure);
      std::strncpy(result.message, why.c_str(), sizeof result.message - 1);
      break;
    }
    if (!main_gone && auto_entry_ends(task, i, result)) break;
  }
  strategy->stop();
  if (std::optional<TrimProbe> probe = strategy->trim_probe()) {
    result.trim_rss_before_bytes = probe->rss_before_bytes;
    result.trim_rss_after_bytes = probe->rss_after_bytes;
  }
  progress.end();
  result.artifacts = artifacts.total();
}

}  // namespace

void run_entry_process(const EntryTask& task) noexcept {
  EntryResult result;
  result.failures = task.failures_before;
  try {
    entry_loop(task, result);
  } catch (const InputError& e) {
    result.status = EntryResult::kInputError;
    std::strncpy(result.message, e.what(), sizeof result.message - 1);
  } catch (const std::exception& e) {
    result.status = EntryResult::kHarnessError;
    std::strncpy(result.message, e.what(), sizeof result.message - 1);
  }
  std::fflush(nullptr);
  ::_exit(::write(task.result_fd, &result, sizeof result) == static_cast<ssize_t>(sizeof result) ? 0 : 1);
}

}  // namespace internal

StrategyContext make_strategy_context(const RunManifest& manifest, std::uint32_t index,
                                      const WorkloadSource& source, const std::filesystem::path& run_dir) {
  const SoakConfig& config = manifest.config;
  StrategyContext context;
  context.workload = source;
  context.run_timeout_ms = config.run_timeout_ms;
  context.memory_limit_bytes = config.memory_limit_bytes;
  context.seed = config.seed;
  const Allocator allocator = manifest.entries.at(index).allocator;
  context.glibc_malloc = allocator == Allocator::kGlibc || allocator == Allocator::kGlibcArena2;
  if (source.in_memsoak()) context.spawn = SpawnInvocation{std::filesystem::absolute(run_dir), index, 0};
  context.worker_log_path = (run_dir / "run.log").string();
  if (source.kind == WorkloadSource::Kind::kExternal && config.exec_tracker) {
    context.tracker_library = manifest.exec_tracker_library.value_or("");
    if (!context.tracker_library.empty())
      context.worker_stack_environment =
          worker_stack_environment(config, std::filesystem::absolute(run_dir), index);
  }
  return context;
}

namespace {

// Reads the manifest an executed process was pointed at, and checks the entry exists.
RunManifest manifest_for(const std::filesystem::path& run_dir, std::uint32_t index) {
  RunManifest manifest = RunManifest::read(run_dir);
  if (index >= manifest.entries.size()) {
    throw InputError(fmt::format("{}: no strategy entry {}", (run_dir / "run.json").string(), index));
  }
  return manifest;
}

}  // namespace

int run_entry_invocation(const EntryInvocation& invocation, const SourceResolver& resolve) {
  StopSignals::become_entry_process();
  // Inherited without close-on-exec (dup2 clears it): set it again so that spawned runs and
  // workers do not hold the main process's pipes open.
  for (int fd : {EntryInvocation::kResultFd, EntryInvocation::kHeartbeatFd, EntryInvocation::kControlFd})
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  RunManifest manifest = manifest_for(invocation.run_dir, invocation.entry_index);
  WorkloadSource source = resolve(manifest);
  internal::EntryTask task;
  task.manifest = &manifest;
  task.index = invocation.entry_index;
  task.first_run = invocation.first_run;
  task.failures_before = invocation.failures_before;
  task.source = &source;
  task.run_dir = invocation.run_dir;
  task.options.show_progress = invocation.show_progress;
  task.result_fd = EntryInvocation::kResultFd;
  task.heartbeat_fd = EntryInvocation::kHeartbeatFd;
  task.control_fd = EntryInvocation::kControlFd;
  task.deadline_ns = invocation.deadline_ns;
  internal::run_entry_process(task);
}

int run_spawn_invocation(const SpawnInvocation& invocation, const SourceResolver& resolve) {
  RunManifest manifest = manifest_for(invocation.run_dir, invocation.entry_index);
  set_artifact_directory(std::filesystem::absolute(invocation.run_dir), invocation.entry_index);
  StrategyContext context =
      make_strategy_context(manifest, invocation.entry_index, resolve(manifest), invocation.run_dir);
  start_stack_sampling(manifest.config);
  return run_spawned_once(context, invocation.run_index, SpawnInvocation::kResultFd);
}

}  // namespace memsoak::harness

namespace memsoak::harness::internal {

RunRecord make_run_record(std::uint32_t index, std::uint64_t run_index, std::uint64_t warmup,
                          const RunOutcome& outcome) {
  RunRecord record;
  record.strategy_index = index;
  record.run_index = run_index;
  if (!outcome.ok) record.flags |= kRunFailed;
  if (run_index < warmup) record.flags |= kRunWarmup;
  record.digest = outcome.digest;
  record.latency_ns = outcome.latency_ns;
  record.work_ns = outcome.work_ns;
  record.setup_ns = outcome.setup_ns;
  record.worker_peak_rss_bytes = outcome.worker_peak_rss_bytes;
  record.worker_id = outcome.worker_id;
  record.footprint_pss_bytes = outcome.footprint_pss_bytes;
  record.worker = outcome.worker;
  return record;
}

}  // namespace memsoak::harness::internal
