// The soak loop (see runner.h).
#include "harness/runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "harness/errors.h"
#include "harness/heap_counters.h"
#include "harness/internal/clock.h"
#include "harness/progress.h"
#include "harness/run_directory.h"
#include "harness/sample_file.h"
#include "harness/sampler.h"
#include "memsoak_git_commit.h"

namespace memsoak::harness {
namespace {

nlohmann::json initial_run_json(const SoakConfig& config) {
  nlohmann::json strategies = nlohmann::json::array();
  for (const auto& spec : config.strategies) {
    strategies.push_back(
        {{"name", spec.name}, {"allocator", "glibc"}, {"completed_runs", 0}, {"elapsed_ns", nullptr}});
  }
  nlohmann::json budget = nullptr;
  if (config.budget_bytes_per_run) budget = *config.budget_bytes_per_run;
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
      {"budget_bytes_per_run", budget},
      {"heap_counters", heap_counters_available() ? nlohmann::json("memsoak-counting-malloc") : nullptr},
      {"strategies", strategies},
      {"workload_info", config.workload_info},
      {"environment", describe_environment()},
  };
}

RunRecord make_record(std::uint32_t strategy_index, std::uint64_t run_index, std::uint64_t warmup,
                      const RunOutcome& outcome) {
  RunRecord record;
  record.strategy_index = strategy_index;
  record.run_index = run_index;
  if (!outcome.ok) record.flags |= kRunFailed;
  if (run_index < warmup) record.flags |= kRunWarmup;
  record.digest = outcome.digest;
  record.latency_ns = outcome.latency_ns;
  record.work_ns = outcome.work_ns;
  record.setup_ns = outcome.setup_ns;
  record.worker_peak_rss_bytes = outcome.worker_peak_rss_bytes;
  record.worker = outcome.worker;
  return record;
}

// Runs of strategy `s` that reached samples.bin (for a strategy whose process died).
std::uint64_t count_records(const std::filesystem::path& run_dir, std::uint32_t s) {
  std::uint64_t count = 0;
  for (const RunRecord& r : read_sample_file(run_dir / "samples.bin")) count += r.strategy_index == s;
  return count;
}

// What a strategy's process reports to memsoak when it ends. Fixed size, under PIPE_BUF.
struct StrategyResult {
  enum Status : std::int32_t { kOk, kInputError, kHarnessError, kDied };
  std::uint32_t magic = 0x5453534d;  // "MSST"
  std::int32_t status = kOk;
  std::uint64_t completed_runs = 0;
  char message[512] = {};
};
static_assert(sizeof(StrategyResult) <= PIPE_BUF);

void soak_loop(const SoakConfig& config, std::uint32_t s, const WorkloadFactory& factory,
               const std::filesystem::path& run_dir, const SoakOptions& options, StrategyResult& result) {
  const StrategySpec& spec = config.strategies[s];
  SampleWriter samples(run_dir / "samples.bin", SampleWriter::Mode::kAppend);
  std::ofstream run_log(run_dir / "run.log", std::ios::app);
  ProcessSampler self;
  ProgressBar progress(options.progress_stream, options.show_progress);
  auto strategy = make_strategy(spec, factory);
  progress.begin(spec.name, config.iterations);
  strategy->start();
  for (std::uint64_t i = 0; i < config.iterations; ++i) {
    RunOutcome outcome = strategy->run(i);
    RunRecord record = make_record(s, i, config.warmup, outcome);
    record.harness_rss_bytes = self.rss_bytes();
    samples.append(record);
    result.completed_runs = i + 1;
    if (!outcome.ok)
      run_log << fmt::format("{} run {}: failed: {}\n", spec.name, i, outcome.failure) << std::flush;
    progress.update(i + 1, outcome.worker.rss_bytes);
  }
  strategy->stop();
  progress.end();
}

// The body of a strategy's process: the loop, with every exception turned into a status.
[[noreturn]] void strategy_process(const SoakConfig& config, std::uint32_t s, const WorkloadFactory& factory,
                                   const std::filesystem::path& run_dir, const SoakOptions& options,
                                   int result_fd) noexcept {
  StrategyResult result;
  try {
    soak_loop(config, s, factory, run_dir, options, result);
  } catch (const InputError& e) {
    result.status = StrategyResult::kInputError;
    std::strncpy(result.message, e.what(), sizeof result.message - 1);
  } catch (const std::exception& e) {
    result.status = StrategyResult::kHarnessError;
    std::strncpy(result.message, e.what(), sizeof result.message - 1);
  }
  std::fflush(nullptr);
  ssize_t written = ::write(result_fd, &result, sizeof result);
  ::_exit(written == static_cast<ssize_t>(sizeof result) ? 0 : 1);
}

// Runs strategy `s` in a process forked from memsoak's main process, which never runs a workload:
// no strategy inherits what an earlier one left behind (leaked memory, threads, allocator state),
// and a strategy that crashes memsoak's process takes only itself down.
StrategyResult run_strategy_in_own_process(const SoakConfig& config, std::uint32_t s,
                                           const WorkloadFactory& factory,
                                           const std::filesystem::path& run_dir, const SoakOptions& options) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  std::fflush(nullptr);  // the child must not inherit (and later repeat) unwritten output
  pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    ::close(fds[0]);
    strategy_process(config, s, factory, run_dir, options, fds[1]);
  }
  ::close(fds[1]);
  StrategyResult result;
  std::size_t got = 0;
  auto* bytes = reinterpret_cast<char*>(&result);
  while (got < sizeof result) {
    ssize_t n = ::read(fds[0], bytes + got, sizeof result - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (got == sizeof result && result.magic == StrategyResult{}.magic) return result;
  result = StrategyResult{};
  result.status = StrategyResult::kDied;
  std::string why = WIFSIGNALED(status) ? fmt::format("killed by signal {} ({})", WTERMSIG(status),
                                                      strsignal(WTERMSIG(status)))
                                        : fmt::format("exited with status {}", WEXITSTATUS(status));
  std::snprintf(result.message, sizeof result.message, "the process of strategy %s %s after %llu runs",
                config.strategies[s].name.c_str(), why.c_str(),
                static_cast<unsigned long long>(count_records(run_dir, s)));
  return result;
}

}  // namespace

void run_soak(const SoakConfig& config, const WorkloadFactory& factory, const std::filesystem::path& run_dir,
              const SoakOptions& options) {
  nlohmann::json run_json = initial_run_json(config);
  write_json_file(run_dir / "run.json", run_json);
  { SampleWriter header_only(run_dir / "samples.bin", SampleWriter::Mode::kCreate); }
  std::ofstream(run_dir / "run.log").flush();

  for (std::uint32_t s = 0; s < config.strategies.size(); ++s) {
    std::int64_t t0 = internal::monotonic_ns();
    StrategyResult result = run_strategy_in_own_process(config, s, factory, run_dir, options);
    std::int64_t elapsed_ns = internal::monotonic_ns() - t0;
    if (result.status == StrategyResult::kInputError) throw InputError(result.message);
    if (result.status == StrategyResult::kHarnessError) {
      throw std::runtime_error(fmt::format("strategy {}: {}", config.strategies[s].name, result.message));
    }
    if (result.status == StrategyResult::kDied) {
      // The strategy died part-way (its workload crashed memsoak's process): keep what it measured.
      std::ofstream(run_dir / "run.log", std::ios::app)
          << config.strategies[s].name << ": " << result.message << '\n';
      std::fprintf(options.progress_stream, "\nmemsoak: %s; going on with the next strategy\n",
                   result.message);
    }
    if (result.status == StrategyResult::kDied) result.completed_runs = count_records(run_dir, s);
    run_json["strategies"][s]["completed_runs"] = result.completed_runs;
    run_json["strategies"][s]["elapsed_ns"] = elapsed_ns;
    write_json_file(run_dir / "run.json", run_json);
  }
}

}  // namespace memsoak::harness
