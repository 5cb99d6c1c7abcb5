// The soak loop (see runner.h): the main process supervises one process per entry.
#include "harness/runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "harness/errors.h"
#include "harness/heap_counters.h"
#include "harness/internal/child_protocol.h"
#include "harness/internal/clock.h"
#include "harness/process_tree.h"
#include "harness/progress.h"
#include "harness/run_directory.h"
#include "harness/sample_file.h"
#include "harness/sampler.h"
#include "memsoak_git_commit.h"

extern char** environ;

namespace memsoak::harness {
namespace {

// What an entry's process reports to the main process when it ends. Fixed size, under PIPE_BUF.
struct EntryResult {
  enum Status : std::int32_t { kOk, kInputError, kHarnessError, kMaxFailures };
  std::uint32_t magic = 0x5453534d;  // "MSST"
  std::int32_t status = kOk;
  std::uint64_t failures = 0;
  char message[480] = {};
};

// Sent by an entry's process after its setup (run_index = kSetUp) and after every run: how far it
// got and how many of its runs failed so far (earlier processes of the entry included), so that
// the main process knows both even when the entry's process dies without a result.
struct Heartbeat {
  static constexpr std::uint64_t kSetUp = ~std::uint64_t{0};
  std::uint64_t run_index = kSetUp;
  std::uint64_t failures = 0;
};
static_assert(sizeof(EntryResult) <= PIPE_BUF);

// A hang is first caught by the strategy's own run timeout; the main process's watchdog is the
// backstop (in-process runs, or a strategy process that is itself stuck), so it waits longer: an
// external worker's run may take its start (up to the timeout), its answer (the timeout again)
// and its stop (two 2-second grace periods).
constexpr std::int64_t kWatchdogSlackMs = 10'000;
// Setup (a model load, a template, a worker pool) is not a run: it gets its own, longer limit.
constexpr std::int64_t kMinSetupWatchdogMs = 60'000;

std::int64_t run_watchdog_ms(const SoakConfig& config) {
  return config.run_timeout_ms > 0 ? 2 * config.run_timeout_ms + kWatchdogSlackMs : 0;
}

std::int64_t setup_watchdog_ms(const SoakConfig& config) {
  return config.run_timeout_ms > 0 ? std::max(kMinSetupWatchdogMs, 10 * config.run_timeout_ms) : 0;
}

int g_signal_pipe[2] = {-1, -1};

void on_stop_signal(int sig) {
  const int saved = errno;
  unsigned char byte = static_cast<unsigned char>(sig);
  static_cast<void>(::write(g_signal_pipe[1], &byte, 1));
  errno = saved;
}

void install_stop_handlers() {
  if (g_signal_pipe[0] < 0 && ::pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe");
  }
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

// In an entry's process: default signal dispositions, ignore SIGPIPE (a dead worker's pipe must
// fail a write, not kill the soak), die with the main process.
void become_entry_process() {
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGPIPE, SIG_IGN);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
}

std::string strategy_list(const std::vector<StrategySpec>& specs) {
  std::string list;
  for (const auto& s : specs) list += (list.empty() ? "" : ",") + s.name;
  return list;
}

std::string allocator_list(const std::vector<Allocator>& allocators) {
  std::string list;
  for (Allocator a : allocators) list += (list.empty() ? "" : ",") + std::string(allocator_name(a));
  return list;
}

nlohmann::json initial_run_json(const SoakConfig& config) {
  nlohmann::json entries = nlohmann::json::array();
  for (const SoakEntry& e : soak_entries(config)) {
    entries.push_back({{"name", e.spec.name},
                       {"allocator", allocator_name(e.allocator)},
                       {"completed_runs", 0},
                       {"failed_runs", 0},
                       {"elapsed_ns", nullptr},
                       {"cpu_user_ns", nullptr},
                       {"cpu_system_ns", nullptr},
                       {"stopped", nullptr}});
  }
  auto or_null = [](auto value) { return value ? nlohmann::json(value) : nlohmann::json(nullptr); };
  return {
      {"schema", kRunJsonSchema},
      {"memsoak_version", MEMSOAK_VERSION},
      {"git_commit", MEMSOAK_GIT_COMMIT},
      {"started_at",
       std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
           .count()},
      {"command_line", config.command_line},
      {"scenario", config.scenario},
      {"workload", config.workload},
      {"leak", config.leak},
      {"seed", config.seed},
      {"iterations", config.iterations},
      {"warmup", config.warmup},
      {"budget_bytes_per_run",
       config.budget_bytes_per_run ? nlohmann::json(*config.budget_bytes_per_run) : nullptr},
      {"run_timeout_ms", or_null(config.run_timeout_ms)},
      {"memory_limit_bytes", or_null(config.memory_limit_bytes)},
      {"max_failures", or_null(config.max_failures)},
      {"exec_command",
       config.exec_command.empty() ? nlohmann::json(nullptr) : nlohmann::json(config.exec_command)},
      {"heap_counters", heap_counters_available() ? nlohmann::json("memsoak-counting-malloc") : nullptr},
      {"strategies", entries},
      {"strategy_list", strategy_list(config.strategies)},
      {"allocator_list", allocator_list(config.allocators)},
      {"interrupted_by_signal", nullptr},
      {"workload_info", config.workload_info},
      {"workload_request", config.workload_request},
      {"environment", describe_environment()},
  };
}

RunRecord make_record(std::uint32_t index, std::uint64_t run_index, std::uint64_t warmup,
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

void log_failure(const std::filesystem::path& run_dir, const std::string& entry, std::uint64_t run_index,
                 const std::string& why) {
  std::ofstream(run_dir / "run.log", std::ios::app)
      << fmt::format("{} run {}: failed: {}\n", entry, run_index, why);
}

std::string entry_label(const SoakEntry& entry) {
  return entry.allocator == Allocator::kGlibc
             ? entry.spec.name
             : fmt::format("{} [{}]", entry.spec.name, allocator_name(entry.allocator));
}

StrategyContext make_context(const SoakConfig& config, const WorkloadFactory& factory, std::uint32_t index,
                             const std::filesystem::path& run_dir, const SoakOptions& options) {
  StrategyContext context;
  context.factory = factory;
  context.run_timeout_ms = config.run_timeout_ms;
  context.memory_limit_bytes = config.memory_limit_bytes;
  context.seed = config.seed;
  if (options.spawn_argv) context.spawn_argv = options.spawn_argv(index);
  context.exec_command = config.exec_command;
  context.worker_log_path = (run_dir / "run.log").string();
  return context;
}

// The loop of one entry, from `first_run` on, in the entry's own process.
void entry_loop(const SoakConfig& config, std::uint32_t index, std::uint64_t first_run,
                const WorkloadFactory& factory, const std::filesystem::path& run_dir,
                const SoakOptions& options, int heartbeat_fd, EntryResult& result) {
  const SoakEntry entry = soak_entries(config)[index];
  SampleWriter samples(run_dir / "samples.bin", SampleWriter::Mode::kAppend);
  ProcessSampler self;
  ProgressBar progress(options.progress_stream, options.show_progress);
  auto strategy = make_strategy(entry.spec, make_context(config, factory, index, run_dir, options));
  progress.begin(entry_label(entry), config.iterations);
  strategy->start();
  Heartbeat heartbeat{Heartbeat::kSetUp, result.failures};
  if (::write(heartbeat_fd, &heartbeat, sizeof heartbeat) != sizeof heartbeat) return;
  for (std::uint64_t i = first_run; i < config.iterations; ++i) {
    RunOutcome outcome = strategy->run(i);
    RunRecord record = make_record(index, i, config.warmup, outcome);
    record.harness_rss_bytes = self.rss_bytes();
    samples.append(record);
    if (!outcome.ok) {
      ++result.failures;
      log_failure(run_dir, entry_label(entry), i, outcome.failure);
    }
    heartbeat = {i, result.failures};
    if (::write(heartbeat_fd, &heartbeat, sizeof heartbeat) != sizeof heartbeat) break;  // main is gone
    progress.update(i + 1, outcome.worker.rss_bytes);
    if (config.max_failures > 0 && result.failures >= config.max_failures) {
      result.status = EntryResult::kMaxFailures;
      break;
    }
  }
  strategy->stop();
  progress.end();
}

[[noreturn]] void entry_process(const SoakConfig& config, std::uint32_t index, std::uint64_t first_run,
                                std::uint64_t failures_before, const WorkloadFactory& factory,
                                const std::filesystem::path& run_dir, const SoakOptions& options,
                                int result_fd, int heartbeat_fd) noexcept {
  EntryResult result;
  result.failures = failures_before;
  try {
    entry_loop(config, index, first_run, factory, run_dir, options, heartbeat_fd, result);
  } catch (const InputError& e) {
    result.status = EntryResult::kInputError;
    std::strncpy(result.message, e.what(), sizeof result.message - 1);
  } catch (const std::exception& e) {
    result.status = EntryResult::kHarnessError;
    std::strncpy(result.message, e.what(), sizeof result.message - 1);
  }
  std::fflush(nullptr);
  ::_exit(::write(result_fd, &result, sizeof result) == static_cast<ssize_t>(sizeof result) ? 0 : 1);
}

// A running entry process as the main process sees it.
struct EntryProcess {
  pid_t pid = -1;
  int result_fd = -1;
  int heartbeat_fd = -1;
};

EntryProcess launch_entry(const SoakConfig& config, std::uint32_t index, std::uint64_t first_run,
                          std::uint64_t failures_before, const WorkloadFactory& factory,
                          const std::filesystem::path& run_dir, const SoakOptions& options) {
  int result[2], heartbeat[2];
  if (::pipe2(result, O_CLOEXEC) != 0 || ::pipe2(heartbeat, O_CLOEXEC) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe");
  }
  const SoakEntry entry = soak_entries(config)[index];
  EntryProcess process;
  std::fflush(nullptr);  // the child must not inherit (and later repeat) unwritten output
  if (entry.allocator == Allocator::kGlibc) {
    process.pid = ::fork();
    if (process.pid == 0) {
      ::setpgid(0, 0);
      become_entry_process();
      ::close(result[0]);
      ::close(heartbeat[0]);
      entry_process(config, index, first_run, failures_before, factory, run_dir, options, result[1],
                    heartbeat[1]);
    }
    if (process.pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  } else {
    // LD_PRELOAD and MALLOC_ARENA_MAX only act when a program starts: execute memsoak afresh.
    std::vector<std::string> args = options.strategy_exec_argv(index);
    for (std::string value :
         {std::to_string(first_run), std::to_string(failures_before), std::string("3"), std::string("4")}) {
      args.push_back(value);
    }
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
    for (const std::string& extra : allocator_environment(entry.allocator)) env.push_back(extra);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, result[1], 3);
    posix_spawn_file_actions_adddup2(&actions, heartbeat[1], 4);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);
    int error = ::posix_spawn(&process.pid, argv[0], &actions, &attributes, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (error != 0) throw std::system_error(error, std::generic_category(), "posix_spawn " + args[0]);
  }
  ::setpgid(process.pid, process.pid);  // also here: no race with the child's own setpgid
  ::close(result[1]);
  ::close(heartbeat[1]);
  process.result_fd = result[0];
  process.heartbeat_fd = heartbeat[0];
  return process;
}

// Kills an entry's whole process group (the entry process, its forks, template and workers) and
// every other descendant: an external worker runs in a process group of its own.
void kill_entry(const EntryProcess& process) {
  ::kill(process.pid, SIGSTOP);  // no new children while the tree is walked
  for (pid_t descendant : list_descendants(process.pid)) {
    ::kill(-descendant, SIGKILL);  // its group, if it leads one
    ::kill(descendant, SIGKILL);
  }
  ::kill(-process.pid, SIGKILL);
  ::kill(process.pid, SIGKILL);
}

enum class EntryEvent { kHeartbeat, kEnded, kHung, kSignal };

EntryEvent wait_for_entry(const EntryProcess& process, std::int64_t watchdog_ms, Heartbeat& last, int& sig) {
  pollfd fds[2] = {{process.heartbeat_fd, POLLIN, 0}, {g_signal_pipe[0], POLLIN, 0}};
  for (;;) {
    int ready =
        ::poll(fds, 2, watchdog_ms > 0 ? static_cast<int>(std::min<std::int64_t>(watchdog_ms, INT_MAX)) : -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return EntryEvent::kHung;
    if (fds[1].revents & POLLIN) {
      unsigned char byte = 0;
      if (::read(g_signal_pipe[0], &byte, 1) == 1) {
        sig = byte;
        return EntryEvent::kSignal;
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      if (internal::read_exactly(process.heartbeat_fd, &last, sizeof last, 0) != internal::ReadStatus::kOk) {
        return EntryEvent::kEnded;
      }
      return EntryEvent::kHeartbeat;
    }
  }
}

struct EntryRun {
  std::uint64_t completed_runs = 0;
  std::uint64_t failures = 0;
  std::int64_t cpu_user_ns = 0;
  std::int64_t cpu_system_ns = 0;
  std::string stopped;  // why the entry stopped early, if it did
  int signal = 0;
};

// Records, from the main process, a run that took its process down with it.
void record_lost_run(const SoakConfig& config, std::uint32_t index, std::uint64_t run_index,
                     const std::filesystem::path& run_dir, const std::string& why, std::int64_t latency_ns) {
  RunOutcome outcome;
  outcome.failure = why;
  outcome.latency_ns = latency_ns;
  SampleWriter(run_dir / "samples.bin", SampleWriter::Mode::kAppend)
      .append(make_record(index, run_index, config.warmup, outcome));
  log_failure(run_dir, entry_label(soak_entries(config)[index]), run_index, why);
}

// The main process is a child subreaper (see run_soak): processes of a killed entry whose parent
// died first are reparented here. Reaps them, waiting up to two seconds for SIGKILLed ones to go.
// Entries run one at a time, so every child left at this point belongs to the finished entry.
void reap_orphans() {
  const std::int64_t deadline_ns = internal::monotonic_ns() + 2'000'000'000;
  for (;;) {
    pid_t pid;
    while ((pid = ::waitpid(-1, nullptr, WNOHANG)) > 0) {
    }
    if (pid < 0 && errno == ECHILD) return;  // none left
    if (internal::monotonic_ns() > deadline_ns) return;
    ::usleep(10'000);
  }
}

// Reaps an entry's process and adds its CPU time (and that of the children it reaped) to `entry`.
int reap_entry(pid_t pid, EntryRun& entry) {
  int status = 0;
  rusage usage{};
  pid_t reaped;
  while ((reaped = ::wait4(pid, &status, 0, &usage)) < 0 && errno == EINTR) {
  }
  if (reaped == pid) {
    auto ns = [](const timeval& tv) {
      return static_cast<std::int64_t>(tv.tv_sec) * 1'000'000'000 + tv.tv_usec * 1000;
    };
    entry.cpu_user_ns += ns(usage.ru_utime);
    entry.cpu_system_ns += ns(usage.ru_stime);
  }
  return status;
}

EntryRun supervise_entry(const SoakConfig& config, std::uint32_t index, const WorkloadFactory& factory,
                         const std::filesystem::path& run_dir, const SoakOptions& options) {
  EntryRun entry;
  std::uint64_t next_run = 0;
  while (next_run < config.iterations && entry.signal == 0 && entry.stopped.empty()) {
    EntryProcess process = launch_entry(config, index, next_run, entry.failures, factory, run_dir, options);
    std::int64_t run_started_ns = internal::monotonic_ns();
    std::int64_t watchdog_ms = setup_watchdog_ms(config);
    std::string lost;  // why the process's current run was lost, if it was
    for (;;) {
      Heartbeat heartbeat;
      int sig = 0;
      EntryEvent event = wait_for_entry(process, watchdog_ms, heartbeat, sig);
      if (event == EntryEvent::kHeartbeat) {
        if (heartbeat.run_index != Heartbeat::kSetUp) next_run = heartbeat.run_index + 1;
        entry.failures = heartbeat.failures;
        watchdog_ms = run_watchdog_ms(config);
        run_started_ns = internal::monotonic_ns();
        continue;
      }
      if (event == EntryEvent::kSignal) entry.signal = sig;
      if (event == EntryEvent::kHung) {
        lost = fmt::format("hung past --run-timeout ({} ms): its process was killed", config.run_timeout_ms);
      }
      if (event != EntryEvent::kEnded) kill_entry(process);
      break;
    }
    EntryResult result;
    bool got_result =
        internal::read_exactly(process.result_fd, &result, sizeof result, 0) == internal::ReadStatus::kOk &&
        result.magic == EntryResult{}.magic;
    int status = reap_entry(process.pid, entry);
    reap_orphans();
    ::close(process.result_fd);
    ::close(process.heartbeat_fd);
    if (got_result) {
      if (result.status == EntryResult::kInputError) throw InputError(result.message);
      if (result.status == EntryResult::kHarnessError) {
        throw std::runtime_error(
            fmt::format("strategy {}: {}", entry_label(soak_entries(config)[index]), result.message));
      }
      entry.failures = result.failures;
      if (result.status == EntryResult::kMaxFailures) {
        entry.stopped = fmt::format("stopped after {} failed runs (--max-failures)", entry.failures);
      }
      if (result.status == EntryResult::kOk) next_run = config.iterations;
      continue;
    }
    if (entry.signal != 0) break;
    // The process died or hung in the middle of run `next_run`: record it, replace the process.
    if (lost.empty())
      lost = "its process " + internal::describe_exit(status).substr(std::string("child ").size());
    record_lost_run(config, index, next_run, run_dir, lost, internal::monotonic_ns() - run_started_ns);
    ++entry.failures;
    ++next_run;
    if (config.max_failures > 0 && entry.failures >= config.max_failures) {
      entry.stopped = fmt::format("stopped after {} failed runs (--max-failures)", entry.failures);
    }
  }
  entry.completed_runs = next_run;
  return entry;
}

}  // namespace

std::vector<SoakEntry> soak_entries(const SoakConfig& config) {
  std::vector<SoakEntry> entries;
  for (Allocator allocator : config.allocators) {
    for (const StrategySpec& spec : config.strategies) entries.push_back({spec, allocator});
  }
  return entries;
}

SoakResult run_soak(const SoakConfig& config, const WorkloadFactory& factory,
                    const std::filesystem::path& run_dir, const SoakOptions& options) {
  install_stop_handlers();
  nlohmann::json run_json = initial_run_json(config);
  write_json_file(run_dir / "run.json", run_json);
  { SampleWriter header_only(run_dir / "samples.bin", SampleWriter::Mode::kCreate); }
  std::ofstream(run_dir / "run.log").flush();

  SoakResult soak;
  const auto entries = soak_entries(config);
  for (std::uint32_t index = 0; index < entries.size() && soak.interrupted_by_signal == 0; ++index) {
    std::int64_t t0 = internal::monotonic_ns();
    EntryRun entry = supervise_entry(config, index, factory, run_dir, options);
    nlohmann::json& json = run_json["strategies"][index];
    json["completed_runs"] = entry.completed_runs;
    json["failed_runs"] = entry.failures;
    json["elapsed_ns"] = internal::monotonic_ns() - t0;
    json["cpu_user_ns"] = entry.cpu_user_ns;
    json["cpu_system_ns"] = entry.cpu_system_ns;
    if (!entry.stopped.empty()) {
      json["stopped"] = entry.stopped;
      std::fprintf(options.progress_stream, "memsoak: %s: %s\n", entry_label(entries[index]).c_str(),
                   entry.stopped.c_str());
    }
    if (entry.signal != 0) {
      soak.interrupted_by_signal = entry.signal;
      run_json["interrupted_by_signal"] = entry.signal;
    }
    write_json_file(run_dir / "run.json", run_json);
  }
  return soak;
}

SoakConfig read_soak_config(const std::filesystem::path& run_dir) {
  const std::filesystem::path path = run_dir / "run.json";
  nlohmann::json run = read_json_file(path);
  try {
    SoakConfig config;
    config.scenario = run.at("scenario").get<std::string>();
    config.workload = run.at("workload").get<std::string>();
    config.leak = run.at("leak").get<std::string>();
    config.strategies = parse_strategy_list(run.at("strategy_list").get<std::string>());
    config.allocators = parse_allocator_list(run.at("allocator_list").get<std::string>());
    config.iterations = run.at("iterations").get<std::uint64_t>();
    config.warmup = run.at("warmup").get<std::uint64_t>();
    config.seed = run.at("seed").get<std::uint64_t>();
    auto optional_number = [&](const char* key) {
      return run.contains(key) && !run[key].is_null() ? run[key].get<std::uint64_t>() : 0;
    };
    config.run_timeout_ms = static_cast<std::int64_t>(optional_number("run_timeout_ms"));
    config.memory_limit_bytes = optional_number("memory_limit_bytes");
    config.max_failures = optional_number("max_failures");
    if (run.contains("exec_command") && run["exec_command"].is_string()) {
      config.exec_command = run["exec_command"].get<std::string>();
    }
    config.workload_info = run.value("workload_info", nlohmann::json::object());
    config.workload_request = run.value("workload_request", nlohmann::json::object());
    return config;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: unexpected content ({})", path.string(), e.what()));
  }
}

int run_soak_entry_process(const std::filesystem::path& run_dir, std::uint32_t index, std::uint64_t first_run,
                           std::uint64_t failures_before, const WorkloadFactory& factory, int result_fd,
                           int heartbeat_fd, const SoakOptions& options) {
  become_entry_process();
  // Inherited without close-on-exec (dup2 clears it): set it again so that spawned runs and
  // workers do not hold the main process's pipes open.
  for (int fd : {result_fd, heartbeat_fd}) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  SoakConfig config = read_soak_config(run_dir);
  if (index >= soak_entries(config).size()) {
    throw InputError(fmt::format("{}: no strategy entry {}", (run_dir / "run.json").string(), index));
  }
  entry_process(config, index, first_run, failures_before, factory, run_dir, options, result_fd,
                heartbeat_fd);
}

}  // namespace memsoak::harness
