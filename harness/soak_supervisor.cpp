// The soak supervisor (see internal/soak_supervisor.h) and run_soak().
#include "harness/internal/soak_supervisor.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <fstream>
#include <limits>
#include <system_error>

#include "harness/errors.h"
#include "harness/internal/child_protocol.h"
#include "harness/internal/clock.h"
#include "harness/internal/entry_process.h"
#include "harness/internal/entry_protocol.h"
#include "harness/process_tree.h"
#include "harness/run_directory.h"
#include "harness/sample_file.h"
#include "harness/sequential_looks.h"
#include "harness/stop_signals.h"

extern char** environ;

namespace memsoak::harness::internal {
namespace {

// A hang is first caught by the strategy's own run timeout; the watchdog is the backstop
// (in-process runs, or a strategy process that is itself stuck), so it waits longer: an external
// worker's run may take its start (up to the timeout), its answer (the timeout again) and its
// stop (two 2-second grace periods).
constexpr std::int64_t kWatchdogSlackMs = 10'000;
// Setup (a model load, a template, a worker pool) is not a run: it gets its own, longer limit.
constexpr std::int64_t kMinSetupWatchdogMs = 60'000;

std::int64_t run_watchdog_ms(const SoakConfig& config) {
  return config.run_timeout_ms > 0 ? 2 * config.run_timeout_ms + kWatchdogSlackMs : 0;
}

std::int64_t setup_watchdog_ms(const SoakConfig& config) {
  return config.run_timeout_ms > 0 ? std::max(kMinSetupWatchdogMs, 10 * config.run_timeout_ms) : 0;
}

// The main process is a child subreaper (see SoakSupervisor::run): processes of an entry whose
// parent died first are reparented here (those of a killed entry, or a child a plugin forked and
// left running). Entries run one at a time, so every descendant left belongs to the entry that
// just ended, except those of `before_soak` (and theirs): processes that were this process's
// before the soak began (started by a shell that then executed memsoak, or the keeper when memsoak
// is a container's process 1). Kills the entry's, then reaps them, waiting up to two seconds.
void end_orphans(const std::vector<pid_t>& before_soak) {
  std::vector<pid_t> spared = before_soak;
  for (pid_t pid : before_soak) {
    const std::vector<pid_t> theirs = list_descendants(pid);
    spared.insert(spared.end(), theirs.begin(), theirs.end());
  }
  std::vector<pid_t> killed;
  for (pid_t orphan : list_descendants(::getpid())) {
    if (std::find(spared.begin(), spared.end(), orphan) != spared.end()) continue;
    if (::kill(orphan, SIGKILL) == 0) killed.push_back(orphan);
  }
  const std::int64_t deadline_ns = monotonic_ns() + 2'000'000'000;
  for (;;) {
    pid_t pid;
    while ((pid = ::waitpid(-1, nullptr, WNOHANG)) > 0) {
    }
    if (pid < 0 && errno == ECHILD) return;  // none left
    // Children that predate the soak may stay: done once every killed one is reaped.
    if (std::all_of(killed.begin(), killed.end(),
                    [](pid_t p) { return ::kill(p, 0) != 0 && errno == ESRCH; }))
      return;
    if (monotonic_ns() > deadline_ns) return;
    ::usleep(10'000);
  }
}

// posix_spawn of an executed entry process with its pipes on the invocation's descriptors.
pid_t spawn_entry(const EntryInvocation& invocation, Allocator allocator, int result_fd, int heartbeat_fd,
                  int control_fd) {
  std::vector<std::string> args = invocation.to_argv();
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  for (const std::string& extra : allocator_environment(allocator)) env.push_back(extra);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, result_fd, EntryInvocation::kResultFd);
  posix_spawn_file_actions_adddup2(&actions, heartbeat_fd, EntryInvocation::kHeartbeatFd);
  posix_spawn_file_actions_adddup2(&actions, control_fd, EntryInvocation::kControlFd);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  pid_t pid = -1;
  int error = ::posix_spawn(&pid, argv[0], &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) throw std::system_error(error, std::generic_category(), "posix_spawn " + args[0]);
  return pid;
}

// The deadline of the entry that starts now when `entries_left` (this one included) share what is
// left of --duration: each gets an equal share, so time an entry did not use goes to the next.
std::int64_t entry_deadline_ns(const SoakConfig& config, std::int64_t soak_start_ns,
                               std::size_t entries_left) {
  if (!config.duration_ms) return 0;
  const std::int64_t now = monotonic_ns();
  // --duration allows up to 2^63 ns: no sum below may pass that.
  const std::int64_t left =
      std::max<std::int64_t>(0, *config.duration_ms * 1'000'000 - (now - soak_start_ns));
  // At least 1 ns past now, never 0 (which means none): an entry past the soak's end still does
  // one run, so that its report has something in it.
  const std::int64_t share = std::max<std::int64_t>(1, left / static_cast<std::int64_t>(entries_left));
  return share > std::numeric_limits<std::int64_t>::max() - now ? std::numeric_limits<std::int64_t>::max()
                                                                : now + share;
}

}  // namespace

// A running entry process as the main process sees it.
struct SoakSupervisor::EntryProcess {
  pid_t pid = -1;
  UniqueFd exited;  // a pidfd: readable once the process has ended (-1: none, see wait())
  UniqueFd result;
  UniqueFd heartbeat;
  UniqueFd control;  // the answers at looks (entry_protocol.h)

  // False when the process is gone: it stops at a look anyway when its pipe is closed.
  bool answer(char byte) const {
    SigpipeBlocked blocked;
    ssize_t written;
    while ((written = ::write(control.get(), &byte, 1)) < 0 && errno == EINTR) {
    }
    if (written != 1) blocked.discard();
    return written == 1;
  }

  enum class Event { kHeartbeat, kEnded, kHung, kSignal };

  // The process's end is seen by its pidfd, or else by its heartbeat pipe's end-of-file (which
  // never comes while a child that a plugin forked holds a copy of the pipe).
  Event wait(std::int64_t watchdog_ms, Heartbeat& last, int& sig) const {
    pollfd fds[3] = {{heartbeat.get(), POLLIN, 0}, {StopSignals::fd(), POLLIN, 0}, {exited.get(), POLLIN, 0}};
    const int timeout = watchdog_ms > 0 ? static_cast<int>(std::min<std::int64_t>(watchdog_ms, INT_MAX)) : -1;
    // Without a pidfd (a kernel before 5.3, a seccomp filter), the process's end is looked for
    // every 200 ms: a child a plugin forked may hold the heartbeat pipe open for ever.
    const std::int64_t hung_at_ns = watchdog_ms > 0 ? monotonic_ns() + watchdog_ms * 1'000'000 : 0;
    for (;;) {
      int ready = ::poll(fds, 3, exited.valid() ? timeout : timeout < 0 ? 200 : std::min(timeout, 200));
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0 && !exited.valid()) {
        siginfo_t info{};
        if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            info.si_pid == pid) {
          // Left to be reaped; a heartbeat it sent just before it ended is taken first.
          pollfd late{heartbeat.get(), POLLIN, 0};
          if (::poll(&late, 1, 0) == 1 && (late.revents & POLLIN)) continue;
          return Event::kEnded;
        }
        if (hung_at_ns == 0 || monotonic_ns() < hung_at_ns) continue;
      }
      if (ready == 0) return Event::kHung;
      // Heartbeats already sent are taken before a stop signal, so that run.json counts every run
      // whose record reached samples.bin.
      if (fds[0].revents & POLLIN) {
        if (read_exactly(heartbeat.get(), &last, sizeof last, 0) != ReadStatus::kOk) return Event::kEnded;
        return Event::kHeartbeat;
      }
      if ((fds[1].revents & POLLIN) && (sig = StopSignals::take()) != 0) return Event::kSignal;
      if (fds[0].revents & (POLLHUP | POLLERR)) return Event::kEnded;
      if (fds[2].revents & POLLIN) {
        // A heartbeat sent just before the end may have arrived after its pipe was looked at
        // above, in the same poll: taken first.
        pollfd late{heartbeat.get(), POLLIN, 0};
        if (::poll(&late, 1, 0) == 1 && (late.revents & POLLIN)) continue;
        return Event::kEnded;
      }
    }
  }

  // Kills the whole process group (the entry process, its forks, template and workers) and every
  // other descendant: an external worker runs in a process group of its own.
  void kill_tree() const {
    ::kill(pid, SIGSTOP);  // no new children while the tree is walked
    for (pid_t descendant : list_descendants(pid)) {
      ::kill(-descendant, SIGKILL);  // its group, if it leads one
      ::kill(descendant, SIGKILL);
    }
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
  }

  // Reaps the process; adds its CPU time (and that of the children it reaped) to `stats`.
  int reap(EntryStats& stats) const {
    int status = 0;
    rusage usage{};
    if (wait4_retrying(pid, &status, 0, &usage) == pid) {
      stats.cpu_user_ns = stats.cpu_user_ns.value_or(0) + user_cpu_ns(usage);
      stats.cpu_system_ns = stats.cpu_system_ns.value_or(0) + system_cpu_ns(usage);
    }
    return status;
  }
};

// What the supervisor knows of an entry while it runs.
struct SoakSupervisor::EntryProgress {
  std::uint64_t next_run = 0;
  EntryStats stats;
  std::uint64_t artifacts_before = 0;  // of the entry's earlier processes
  int signal = 0;
  bool done = false;               // ended by its runs, a settled look or its deadline
  std::int64_t deadline_ns = 0;    // --duration; 0: none
  std::vector<RunRecord> records;  // under auto: every run so far, across the entry's processes
};

SoakSupervisor::SoakSupervisor(RunManifest manifest, const WorkloadSource& source,
                               std::filesystem::path run_dir, SoakOptions options)
    : manifest_(std::move(manifest)), source_(source), run_dir_(std::move(run_dir)), options_(options) {}

SoakSupervisor::EntryProcess SoakSupervisor::launch(std::uint32_t index, std::uint64_t first_run,
                                                    std::uint64_t failures_before, std::int64_t deadline_ns) {
  PipePair result = make_pipe();
  PipePair heartbeat = make_pipe();
  PipePair control = make_pipe();
  const ManifestEntry& entry = manifest_.entries[index];
  EntryProcess process;
  std::fflush(nullptr);  // the child must not inherit (and later repeat) unwritten output
  if (entry.allocator == Allocator::kGlibc) {
    process.pid = ::fork();
    if (process.pid == 0) {
      ::setpgid(0, 0);
      StopSignals::become_entry_process();
      result.read_end.reset();
      heartbeat.read_end.reset();
      control.write_end.reset();
      EntryTask task;
      task.manifest = &manifest_;
      task.index = index;
      task.first_run = first_run;
      task.failures_before = failures_before;
      task.source = &source_;
      task.run_dir = run_dir_;
      task.options = options_;
      task.result_fd = result.write_end.get();
      task.heartbeat_fd = heartbeat.write_end.get();
      task.control_fd = control.read_end.get();
      task.deadline_ns = deadline_ns;
      run_entry_process(task);
    }
    if (process.pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  } else {
    // LD_PRELOAD and MALLOC_ARENA_MAX only act when a program starts: execute memsoak afresh.
    EntryInvocation invocation{std::filesystem::absolute(run_dir_),
                               index,
                               first_run,
                               failures_before,
                               options_.show_progress,
                               deadline_ns};
    process.pid = spawn_entry(invocation, entry.allocator, result.write_end.get(), heartbeat.write_end.get(),
                              control.read_end.get());
  }
  ::setpgid(process.pid, process.pid);  // also here: no race with the child's own setpgid
  process.exited.reset(static_cast<int>(::syscall(SYS_pidfd_open, process.pid, 0)));
  process.result = std::move(result.read_end);
  process.heartbeat = std::move(heartbeat.read_end);
  process.control = std::move(control.write_end);
  return process;
}

std::string SoakSupervisor::stopped_by_max_failures(std::uint64_t failures) const {
  return fmt::format("stopped after {} failed runs (--max-failures)", failures);
}

// Records, from the main process, a run that took its process down with it.
RunRecord SoakSupervisor::record_lost_run(std::uint32_t index, std::uint64_t run_index,
                                          const std::string& why, std::int64_t latency_ns) {
  RunOutcome outcome;
  outcome.failure = why;
  outcome.latency_ns = latency_ns;
  const RunRecord record = make_run_record(index, run_index, record_warmup(manifest_.config), outcome);
  SampleWriter(run_dir_ / "samples.bin", SampleWriter::Mode::kAppend).append(record);
  append_run_log(run_dir_,
                 fmt::format("{} run {}: failed: {}", manifest_.entries[index].label(), run_index, why));
  return record;
}

// Under auto, at a look (the entry's run count is on the schedule): whether its verdict is settled.
bool SoakSupervisor::settled_at_look(std::uint32_t index, const EntryProgress& entry) const {
  if (!manifest_.config.iterations_auto || !look_at(entry.records.size()) || !options_.settled) return false;
  return options_.settled(manifest_, index, entry.records);
}

SoakSupervisor::EntryProgress SoakSupervisor::supervise(std::uint32_t index, std::int64_t deadline_ns) {
  const SoakConfig& config = manifest_.config;
  EntryProgress entry;
  entry.deadline_ns = deadline_ns;
  while (entry.next_run < config.iterations && entry.signal == 0 && !entry.stats.stopped && !entry.done) {
    EntryProcess process = launch(index, entry.next_run, entry.stats.failed_runs, entry.deadline_ns);
    std::int64_t run_started_ns = monotonic_ns();
    std::int64_t watchdog_ms = setup_watchdog_ms(config);
    std::string lost;  // why the process's current run was lost, if it was
    std::exception_ptr failed_look;
    for (;;) {
      Heartbeat heartbeat;
      int sig = 0;
      auto event = process.wait(watchdog_ms, heartbeat, sig);
      if (event == EntryProcess::Event::kHeartbeat) {
        if (heartbeat.run_index != Heartbeat::kSetUp) {
          entry.next_run = heartbeat.run_index + 1;
          if (config.iterations_auto) {
            entry.records.push_back(heartbeat.record);
            // The entry process waits for an answer at a look, and at a look only.
            if (look_at(entry.next_run)) {
              bool settled = false;
              try {
                settled = settled_at_look(index, entry);
              } catch (...) {
                // Thrown once the entry process has ended and been reaped, as other failures are.
                failed_look = std::current_exception();
              }
              if (settled) entry.stats.ended_by = "settled";
              process.answer(settled || failed_look ? kStop : kContinue);
            }
          }
        }
        entry.stats.failed_runs = heartbeat.failures;
        entry.stats.artifacts = entry.artifacts_before + heartbeat.artifacts;
        watchdog_ms = run_watchdog_ms(config);
        run_started_ns = monotonic_ns();
        continue;
      }
      if (event == EntryProcess::Event::kSignal) entry.signal = sig;
      if (event == EntryProcess::Event::kHung) {
        lost = fmt::format("hung past --run-timeout ({} ms): its process was killed", config.run_timeout_ms);
      }
      if (event != EntryProcess::Event::kEnded) process.kill_tree();
      break;
    }
    // Reaped first, then read without waiting: what the process wrote is in the pipe by now, and
    // a child a plugin forked may hold the pipe open for ever.
    int status = process.reap(entry.stats);
    EntryResult result;
    ::fcntl(process.result.get(), F_SETFL, O_NONBLOCK);
    bool got_result = read_exactly(process.result.get(), &result, sizeof result, 0) == ReadStatus::kOk &&
                      result.magic == EntryResult{}.magic;
    end_orphans(before_soak_);
    if (failed_look) std::rethrow_exception(failed_look);
    if (got_result) {
      if (result.status == EntryResult::kInputError) throw InputError(result.message);
      if (result.status == EntryResult::kHarnessError) {
        throw std::runtime_error(
            fmt::format("strategy {}: {}", manifest_.entries[index].label(), result.message));
      }
      entry.stats.failed_runs = result.failures;
      entry.stats.artifacts = entry.artifacts_before + result.artifacts;
      if (result.trim_rss_before_bytes != kNotMeasured) {
        // From the entry's last process with a result: a relaunched one replaces what came before.
        entry.stats.trim_rss_before_bytes = result.trim_rss_before_bytes;
        entry.stats.trim_rss_after_bytes = result.trim_rss_after_bytes;
      }
      if (result.status == EntryResult::kMaxFailures)
        entry.stats.stopped = stopped_by_max_failures(result.failures);
      if (result.status == EntryResult::kNeverStarted) entry.stats.stopped = std::string(result.message);
      if (result.status == EntryResult::kOk) {
        entry.done = true;
        // Under auto the heartbeats counted the runs: the entry may have ended before its ceiling.
        if (!config.iterations_auto) entry.next_run = config.iterations;
        if (result.end == EntryResult::kDeadline && !entry.stats.ended_by) entry.stats.ended_by = "duration";
      }
    }
    entry.artifacts_before = entry.stats.artifacts;  // the next process counts from here
    if (got_result) continue;
    if (entry.signal != 0) break;
    // Told to stop at a look, it died stopping: every run it did has its record, none was lost.
    if (entry.stats.ended_by) break;
    // The process died or hung in the middle of run `next_run`: record it, replace the process.
    if (lost.empty()) lost = "its process " + describe_exit(status).substr(std::string("child ").size());
    const RunRecord record = record_lost_run(index, entry.next_run, lost, monotonic_ns() - run_started_ns);
    ++entry.stats.failed_runs;
    ++entry.next_run;
    if (config.max_failures > 0 && entry.stats.failed_runs >= config.max_failures) {
      entry.stats.stopped = stopped_by_max_failures(entry.stats.failed_runs);
    }
    if (config.iterations_auto && !entry.stats.stopped) {
      // The lost run counts as a run: it may be a look, or the last run before the deadline.
      entry.records.push_back(record);
      if (settled_at_look(index, entry)) {
        entry.stats.ended_by = "settled";
        entry.done = true;
      } else if (entry.deadline_ns > 0 && monotonic_ns() >= entry.deadline_ns) {
        entry.stats.ended_by = "duration";
        entry.done = true;
      }
    }
  }
  entry.stats.completed_runs = entry.next_run;
  if (entry.stats.stopped) entry.stats.ended_by.reset();  // --max-failures is the reason, not the look
  if (config.iterations_auto && !entry.stats.ended_by && !entry.stats.stopped && entry.signal == 0 &&
      entry.next_run >= config.iterations)
    entry.stats.ended_by = "max-iterations";
  return entry;
}

SoakResult SoakSupervisor::run() {
  StopSignals::install();
  before_soak_ = list_descendants(::getpid());  // not the soak's: end_orphans() leaves them
  // Orphans of a killed entry (a fork child whose entry process died first) are reparented
  // here and reaped, instead of escaping to init.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  manifest_.write(run_dir_);
  { SampleWriter header_only(run_dir_ / "samples.bin", SampleWriter::Mode::kCreate); }
  std::ofstream(run_dir_ / "run.log").flush();

  SoakResult soak;
  const std::int64_t soak_start_ns = monotonic_ns();
  for (std::uint32_t index = 0; index < manifest_.entries.size() && soak.interrupted_by_signal == 0;
       ++index) {
    std::int64_t t0 = monotonic_ns();
    EntryProgress progress = supervise(
        index, entry_deadline_ns(manifest_.config, soak_start_ns, manifest_.entries.size() - index));
    ManifestEntry& entry = manifest_.entries[index];
    entry.stats = progress.stats;
    entry.stats.elapsed_ns = monotonic_ns() - t0;
    if (entry.stats.stopped) {
      std::fprintf(options_.progress_stream, "memsoak: %s: %s\n", entry.label().c_str(),
                   entry.stats.stopped->c_str());
    }
    if (progress.signal != 0) {
      soak.interrupted_by_signal = progress.signal;
      manifest_.interrupted_by_signal = progress.signal;
    }
    manifest_.write(run_dir_);
  }
  return soak;
}

}  // namespace memsoak::harness::internal

namespace memsoak::harness {

SoakResult run_soak(const SoakConfig& config, const WorkloadSource& source,
                    const std::filesystem::path& run_dir, const SoakOptions& options) {
  // Absolute: a workload that changes directory must not send records and log lines elsewhere.
  return internal::SoakSupervisor(RunManifest::begin(config, source), source,
                                  std::filesystem::absolute(run_dir), options)
      .run();
}

}  // namespace memsoak::harness
