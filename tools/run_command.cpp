// `memsoak run`, `memsoak report` and `memsoak list`: wiring of scenarios, harness and reports.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "harness/allocators.h"
#include "harness/errors.h"
#include "harness/exec_tracker.h"
#include "harness/heaptrack_pass.h"
#include "harness/progress.h"
#include "harness/run_directory.h"
#include "harness/run_manifest.h"
#include "harness/runner.h"
#include "harness/soak_keeper.h"
#include "harness/stack_sampling.h"
#include "harness/strategy.h"
#include "harness/units.h"
#include "reports/analysis.h"
#include "reports/budget_gate.h"
#include "reports/sequential.h"
#include "reports/writer.h"
#include "scenarios/synthetic.h"
#include "scenarios/workloads.h"
#include "tools/commands.h"
#include "tools/scenario_file.h"
#include "tools/soak_length.h"

namespace memsoak::tools {
namespace {
namespace fs = std::filesystem;

// The default scenario: the seed case, a reranker that builds its model per call and keeps every
// one alive, under the default strategies (in-process, fork, zygote, recycle:100).
constexpr const char* kDefaultWorkload = "reranker";
constexpr const char* kDefaultWorkloadLeak = "model-registry";

struct RunArgs {
  std::optional<std::string> workload;
  std::optional<std::string> leak;  // default: model-registry for the default scenario, else none
  std::optional<std::string> model;
  std::optional<std::string> preset;  // default: tiny
  std::string strategies = "in-process,fork,zygote,recycle:100";
  std::optional<std::string> iterations;      // N or auto; default: kDefaultIterations
  std::optional<std::string> max_iterations;  // the ceiling under auto
  std::optional<std::string> duration;        // the whole soak's time; implies auto
  std::optional<std::string> warmup;          // default: a tenth of the iterations
  std::optional<std::string> out;             // default: memsoak-out/<UTC time>
  std::optional<std::string> budget;
  std::string seed = "1";
  std::string allocators = "glibc";
  std::optional<std::string> plugin;
  std::optional<std::string> exec;
  std::optional<std::string> plugin_config;
  std::optional<std::string> run_timeout;
  std::optional<std::string> memory_limit;
  std::optional<std::string> max_failures;
  std::string exec_tracker = "on";
  std::string stack_sample = "auto";
  std::string stack_depth = "32";
  std::string profiler = "none";
  std::optional<std::string> profiler_runs;  // default: kDefaultProfilerRuns, at most --iterations
  std::optional<std::string> shard;          // I/N
  bool quiet = false;
  std::optional<std::string> scenario_file;  // --scenario; options it set are in scenario_keys
  std::vector<std::string> scenario_keys;
};

// --shard I/N, checked against the soak's entries: a shard that would get none is refused.
std::optional<harness::ShardSpec> parse_shard(const RunArgs& args, std::size_t entries) {
  if (!args.shard) return std::nullopt;
  const std::string& text = *args.shard;
  const std::size_t slash = text.find('/');
  if (slash == std::string::npos) throw InputError(fmt::format("--shard '{}': must be I/N, e.g. 1/4", text));
  std::uint64_t index = 0;
  std::uint64_t count = 0;
  try {
    index = harness::parse_count(text.substr(0, slash), "--shard");
    count = harness::parse_count(text.substr(slash + 1), "--shard");
  } catch (const InputError&) {
    throw InputError(fmt::format("--shard '{}': must be I/N with whole numbers, e.g. 1/4", text));
  }
  if (count == 0 || index == 0 || index > count || count > 0xffff) {
    throw InputError(fmt::format("--shard '{}': needs 1 <= I <= N (N at most 65535)", text));
  }
  // Checked on N, not I: every shard of a CI matrix then fails at once, not only the empty ones
  // after the others have run.
  if (count > entries) {
    throw InputError(
        fmt::format("--shard '{}': the soak has {} entries (strategies x allocators), so {} shards "
                    "would leave some with none; use at most {}",
                    text, entries, count, entries));
  }
  return harness::ShardSpec{static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(count)};
}

// --profiler and --profiler-runs: 0 runs means no profiler pass.
std::uint64_t profiler_pass_runs(const RunArgs& args, std::uint64_t iterations) {
  if (args.profiler != "none" && args.profiler != "heaptrack") {
    throw InputError(fmt::format("--profiler '{}': unknown (known: none, heaptrack)", args.profiler));
  }
  if (args.profiler == "none") {
    if (args.profiler_runs) {
      throw InputError(fmt::format("--profiler-runs '{}': needs --profiler heaptrack", *args.profiler_runs));
    }
    return 0;
  }
  if (!args.profiler_runs) return std::min(harness::kDefaultProfilerRuns, iterations);
  std::uint64_t runs = harness::parse_count(*args.profiler_runs, "--profiler-runs");
  if (runs == 0 || runs > iterations) {
    throw InputError(fmt::format("--profiler-runs '{}': must be between 1 and --iterations ({})",
                                 *args.profiler_runs, iterations));
  }
  return runs;
}

int soak_and_report(const RunArgs& args, const harness::SoakConfig& config,
                    const harness::WorkloadSource& source);
int run_checked(const RunArgs& args, const std::vector<std::string>& argv);

// Runs every registered report writer, prints the report's path, applies the budget gate.
int finish_report(const fs::path& run_dir, bool quiet) {
  reports::Report report = reports::analyse_run_directory(run_dir);
  reports::write_reports(report, {run_dir, quiet ? nullptr : &std::cout});
  std::cout << (run_dir / "report.html").string() << std::endl;
  std::vector<std::string> violations = reports::budget_violations(report);
  for (const auto& v : violations) std::cerr << "memsoak: budget exceeded: " << v << '\n';
  const std::vector<std::string> no_run = reports::entries_without_a_completed_run(report);
  for (const auto& line : no_run) std::cerr << "memsoak: " << line << '\n';
  if (!no_run.empty()) return kExitNoRun;
  return violations.empty() ? kExitOk : kExitBudget;
}

// --plugin-config means nothing without --plugin (with a native workload or an --exec worker).
void check_plugin_config(const RunArgs& args) {
  if (args.plugin_config && !args.plugin)
    throw InputError(fmt::format("--plugin-config '{}': only with --plugin", *args.plugin_config));
}

scenarios::WorkloadRequest make_workload_request(const RunArgs& args, std::uint64_t seed) {
  scenarios::WorkloadRequest request;
  request.name = args.workload.value_or(kDefaultWorkload);
  request.leak = args.leak.value_or(args.workload ? "none" : kDefaultWorkloadLeak);
  request.seed = seed;
  if (args.model) {
    if (request.name != "reranker")
      throw InputError(fmt::format("--model: the {} workload has no model", request.name));
    if (args.model->empty()) throw InputError("--model '': empty path");
    request.model_dir = *args.model;
  }
  if (args.preset) {
    // Refused rather than ignored: the user meant one model and would be measuring another.
    if (request.name != "reranker")
      throw InputError(
          fmt::format("--preset '{}': the {} workload has no model", *args.preset, request.name));
    if (args.model)
      throw InputError(fmt::format(
          "--preset '{}': with --model the model is that directory; drop one of them", *args.preset));
  }
  request.preset = args.preset.value_or("tiny");
  check_plugin_config(args);
  if (args.plugin) {
    if (args.workload || args.leak || args.model || args.preset) {
      throw InputError(fmt::format(
          "--plugin '{}': the plugin is the workload; drop --workload, --leak, --model and --preset "
          "(pass its options with --plugin-config)",
          *args.plugin));
    }
    if (args.plugin->empty()) throw InputError("--plugin '': empty path");
    request.plugin = *args.plugin;
    request.plugin_config = args.plugin_config.value_or("");
    request.name = "plugin";
    request.leak = "";
  }
  return request;
}

harness::StackOptions parse_stack_options(const RunArgs& args) {
  harness::StackOptions stacks;
  if (args.stack_sample == "off") {
    stacks.enabled = false;
  } else if (args.stack_sample != "auto") {
    stacks.sample_bytes = harness::parse_size(args.stack_sample, "--stack-sample");
    if (*stacks.sample_bytes > harness::kMaxStackSampleBytes) {
      throw InputError(fmt::format(
          "--stack-sample '{}': at most 512KiB (or auto, off, 0 for every allocation)", args.stack_sample));
    }
  }
  std::uint64_t depth = harness::parse_count(args.stack_depth, "--stack-depth");
  if (depth < 1 || depth > harness::kMaxStackDepth) {
    throw InputError(
        fmt::format("--stack-depth '{}': must be 1 to {}", args.stack_depth, harness::kMaxStackDepth));
  }
  stacks.depth = static_cast<std::uint32_t>(depth);
  return stacks;
}

harness::SoakConfig make_soak_config(const RunArgs& args, const std::vector<std::string>& argv) {
  harness::SoakConfig config;
  config.strategies = harness::parse_strategy_list(args.strategies);
  apply_soak_length({args.iterations, args.max_iterations, args.duration, args.warmup}, config);
  config.seed = harness::parse_count(args.seed, "--seed");
  if (args.budget) config.budget_bytes_per_run = harness::parse_size(*args.budget, "--budget");
  config.allocators = harness::parse_allocator_list(args.allocators);
  if (args.run_timeout) {
    config.run_timeout_ms = harness::parse_duration_ms(*args.run_timeout, "--run-timeout");
    if (config.run_timeout_ms == 0)
      throw InputError(fmt::format("--run-timeout '{}': must be above 0", *args.run_timeout));
  }
  if (args.memory_limit) {
    config.memory_limit_bytes = harness::parse_size(*args.memory_limit, "--child-memory-limit");
    if (config.memory_limit_bytes < (16u << 20)) {
      throw InputError(
          fmt::format("--child-memory-limit '{}': below 16 MiB no workload can start", *args.memory_limit));
    }
  }
  if (args.max_failures) config.max_failures = harness::parse_count(*args.max_failures, "--max-failures");
  config.stacks = parse_stack_options(args);
  if (args.exec_tracker != "on" && args.exec_tracker != "off") {
    throw InputError(fmt::format("--exec-tracker '{}': must be on or off", args.exec_tracker));
  }
  config.exec_tracker = args.exec_tracker == "on";
  profiler_pass_runs(args, config.iterations);  // validated here, before anything is created
  config.shard = parse_shard(args, config.strategies.size() * config.allocators.size());
  config.command_line = argv;
  return config;
}

// --exec: the workload is the external worker; memsoak holds none of its own.
harness::WorkloadSource external_worker(const RunArgs& args, harness::SoakConfig& config) {
  check_plugin_config(args);
  if (args.workload || args.leak || args.model || args.preset || args.plugin) {
    throw InputError(
        fmt::format("--exec '{}': the worker is the workload; drop --workload, --leak, --model, --preset and "
                    "--plugin",
                    *args.exec));
  }
  if (args.exec->find_first_not_of(" \t") == std::string::npos) throw InputError("--exec '': empty command");
  if (config.allocators.size() != 1 || config.allocators.front() != harness::Allocator::kGlibc) {
    // LD_PRELOAD would reach the worker through the environment, but memsoak's own counters
    // could not see inside it; keep the comparison honest by refusing rather than half-applying.
    throw InputError("--allocator: applies to native workloads only, not to an --exec worker");
  }
  harness::check_strategies_for_exec(config.strategies);
  if (config.exec_tracker && !harness::find_tracker_library()) {
    throw std::runtime_error(
        fmt::format("--exec-tracker on: {} is neither next to memsoak nor where it was "
                    "built; rebuild, or run with --exec-tracker off",
                    harness::kTrackerLibraryName));
  }
  config.workload = "exec";
  config.scenario = fmt::format("external worker: {}", *args.exec);
  config.workload_request = {{"name", "exec"}};
  config.workload_info = {{"name", "exec"}, {"command", *args.exec}, {"protocol", 1}};
  return harness::WorkloadSource::external(*args.exec);
}

int run(const RunArgs& args, const std::vector<std::string>& argv) {
  try {
    return run_checked(args, argv);
  } catch (const InputError& e) {
    // Every option's message starts with the option; one the scenario file set is named by file
    // and key instead, since that is where the user has to fix it.
    const std::string message = e.what();
    for (const std::string& key : args.scenario_keys) {
      const std::string option = "--" + key;
      if (message.starts_with(option) && (message.size() == option.size() || message[option.size()] == ' ' ||
                                          message[option.size()] == ':')) {
        throw InputError(
            fmt::format("{}: \"{}\"{}", *args.scenario_file, key, message.substr(option.size())));
      }
    }
    throw;
  }
}

int run_checked(const RunArgs& args, const std::vector<std::string>& argv) {
  // Everything is validated before the run directory is created: bad input leaves nothing.
  harness::SoakConfig config = make_soak_config(args, argv);
  if (args.exec) return soak_and_report(args, config, external_worker(args, config));
  scenarios::WorkloadRequest request = make_workload_request(args, config.seed);
  check_fault_run(request.name, request.leak, config, args.max_iterations.has_value());
  scenarios::BuiltWorkload workload = scenarios::make_workload(request);
  if (workload.info.contains("model_dir")) request.model_dir = workload.info["model_dir"].get<std::string>();
  config.workload_request = scenarios::request_to_json(request);
  config.workload = request.name;
  config.leak = request.leak;
  config.scenario =
      request.plugin  ? fmt::format("plugin {} {}", request.plugin->string(), request.plugin_config)
      : args.workload ? fmt::format("{} --leak {}", request.name, request.leak)
                      : fmt::format("default: {} --leak {} (the seed case)", request.name, request.leak);
  config.workload_info = workload.info;
  return soak_and_report(args, config,
                         request.plugin ? harness::WorkloadSource::plugin(workload.factory)
                                        : harness::WorkloadSource::native(workload.factory));
}

int soak_and_report(const RunArgs& args, const harness::SoakConfig& config,
                    const harness::WorkloadSource& source) {
  std::optional<fs::path> requested;
  if (args.out) requested = *args.out;
  fs::path run_dir = harness::create_run_directory(requested);

  harness::SoakOptions options;
  options.show_progress = !args.quiet && harness::ProgressBar::is_terminal(stderr);
  // The test at each look is the reports' (the harness knows no statistics); its reason goes to
  // run.log, and to the terminal over the progress bar the entry process draws.
  options.settled = [&run_dir, quiet = args.quiet, bar = options.show_progress](
                        const harness::RunManifest& manifest, std::uint32_t entry,
                        std::span<const harness::RunRecord> records) {
    reports::LookDecision decision = reports::decide_at_look(manifest, entry, records);
    if (decision.settled) {
      const std::string line = fmt::format("{}: settled after {} runs: {}",
                                           manifest.entries.at(entry).label(), records.size(), decision.why);
      harness::append_run_log(run_dir, line);
      if (!quiet) std::cerr << (bar ? "\r\033[K" : "") << "memsoak: " << line << '\n';
    }
    return decision.settled;
  };
  if (!args.quiet)
    std::cerr << fmt::format("memsoak: soaking {} into {}\n", config.scenario, run_dir.string());
  // From here on no process the soak starts outlives memsoak, whichever way memsoak ends.
  harness::SoakKeeper keeper(run_dir / "run.log");
  harness::SoakResult result = harness::run_soak(config, source, run_dir, options);
  // A sharded soak profiles once, in its first shard: the pass does not depend on the entries.
  if (const std::uint64_t runs = profiler_pass_runs(args, config.iterations);
      runs > 0 && (!config.shard || config.shard->index == 1)) {
    harness::HeaptrackPassOptions pass;
    pass.runs = runs;
    pass.external_workload = !source.in_memsoak();
    pass.run_timeout_ms = config.run_timeout_ms;
    pass.quiet = args.quiet;
    if (result.interrupted_by_signal != 0) {
      harness::HeaptrackRecord skipped;
      skipped.runs = runs;
      skipped.status = "failed";
      skipped.reason =
          fmt::format("not run: the soak was stopped by {}", strsignal(result.interrupted_by_signal));
      skipped.write(run_dir);
    } else {
      result.interrupted_by_signal = harness::run_heaptrack_pass(run_dir, pass).stop_signal;
    }
  }
  keeper.finish();
  int code = finish_report(run_dir, args.quiet);
  if (result.interrupted_by_signal != 0) {
    std::cerr << fmt::format("memsoak: stopped by {}; the report covers the runs measured so far\n",
                             strsignal(result.interrupted_by_signal));
    return 128 + result.interrupted_by_signal;
  }
  return code;
}

// Rebuilds the workload source that a run's manifest records (for re-executed processes).
harness::WorkloadSource recorded_workload(const harness::RunManifest& manifest) {
  if (manifest.source_kind == harness::WorkloadSource::Kind::kExternal) {
    return harness::WorkloadSource::external(manifest.exec_command);
  }
  harness::WorkloadFactory factory;
  try {
    factory =
        scenarios::make_workload(scenarios::request_from_json(manifest.config.workload_request)).factory;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("run.json: bad workload_request ({})", e.what()));
  }
  return manifest.source_kind == harness::WorkloadSource::Kind::kPlugin
             ? harness::WorkloadSource::plugin(factory)
             : harness::WorkloadSource::native(factory);
}

}  // namespace

std::function<int()> add_run_command(CLI::App& app, const std::vector<std::string>& command_line) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "soak a workload under each strategy and write the reports");
  cmd->add_option("--workload", args->workload, "built-in workload (default: the reranker seed case)");
  cmd->add_option("--leak", args->leak, "the workload's leak mode (see `memsoak list`)");
  cmd->add_option("--model", args->model, "reranker model directory (default: a generated --preset model)");
  cmd->add_option("--preset", args->preset, "generated reranker model: tiny (default), small, minilm-l6");
  cmd->add_option("--strategy", args->strategies, "comma-separated strategies")->capture_default_str();
  cmd->add_option("--iterations", args->iterations,
                  "N|auto: runs per strategy, or auto: until its verdict is settled (default: 2000)");
  cmd->add_option(
      "--max-iterations", args->max_iterations,
      "with auto: most runs per strategy, at least 100 (default: 20000; with --duration 1000000)");
  cmd->add_option("--duration", args->duration,
                  "TIME (90s, 10m, 2h) for the whole soak, shared equally among strategies; implies auto");
  cmd->add_option("--warmup", args->warmup, "runs left out of the trend (default: a tenth; not with auto)");
  cmd->add_option("--out", args->out, "run directory (default: memsoak-out/<UTC time>)");
  cmd->add_option("--budget", args->budget, "fail (exit 1) on growth above SIZE per run, e.g. 1KiB");
  cmd->add_option("--seed", args->seed, "seed of the workload's inputs")->capture_default_str();
  cmd->add_option("--exec", args->exec, "an external worker speaking protocol v1 (docs/worker-protocol.md)");
  cmd->add_option(
         "--exec-tracker", args->exec_tracker,
         "--exec: on preloads libmemsoak_tracker.so into the worker to read its live heap; off: RSS only")
      ->capture_default_str();
  cmd->add_option("--plugin", args->plugin, "a workload plugin (scenarios/plugin/memsoak_plugin.h)");
  cmd->add_option("--plugin-config", args->plugin_config, "the plugin's configuration string");
  cmd->add_option("--allocator", args->allocators,
                  "comma-separated: glibc, glibc-arena2, jemalloc, tcmalloc, mimalloc")
      ->capture_default_str();
  cmd->add_option("--run-timeout", args->run_timeout, "kill a run still going after TIME (500ms, 30s, 2m)");
  cmd->add_option("--child-memory-limit", args->memory_limit,
                  "address-space limit of the processes running the workload");
  cmd->add_option("--max-failures", args->max_failures, "stop a strategy after N failed runs");
  cmd->add_option("--stack-sample", args->stack_sample,
                  "mean bytes between allocation-stack samples: auto (from the warm-up), SIZE up to 512KiB, "
                  "0 (every allocation) or off")
      ->capture_default_str();
  cmd->add_option("--stack-depth", args->stack_depth, "frames kept per sampled stack, 1 to 64")
      ->capture_default_str();
  cmd->add_option("--profiler", args->profiler,
                  "after the soak, an extra in-process pass under a profiler: none, heaptrack")
      ->capture_default_str();
  cmd->add_option("--profiler-runs", args->profiler_runs,
                  "runs of the profiler pass (default: 200, at most --iterations)");
  cmd->add_option("--shard", args->shard,
                  "I/N: run only entries k (strategies x allocators, in order) with k mod N = I-1; "
                  "combine the shards with memsoak merge");
  cmd->add_option("--scenario", args->scenario_file,
                  "a JSON file of these options by name without --, e.g. {\"iterations\": 500}; options "
                  "given on the command line override the file's");
  cmd->add_flag("--quiet", args->quiet, "no progress or summary; print only the report path");
  return [cmd, args, &command_line] {
    if (!cmd->parsed()) return -1;
    if (args->scenario_file) args->scenario_keys = apply_scenario_file(*cmd, *args->scenario_file);
    return run(*args, command_line);
  };
}

std::function<int()> add_internal_commands(CLI::App& app) {
  // Not for people: how memsoak re-executes itself (harness/invocation.h). Hidden from --help.
  CLI::App* entry = app.add_subcommand(harness::EntryInvocation::kCommand, "")->group("");
  entry->allow_extras()->prefix_command();
  CLI::App* one_run = app.add_subcommand(harness::SpawnInvocation::kCommand, "")->group("");
  one_run->allow_extras()->prefix_command();
  CLI::App* profile = app.add_subcommand(harness::ProfileInvocation::kCommand, "")->group("");
  profile->allow_extras()->prefix_command();
  return [entry, one_run, profile]() -> int {
    if (profile->parsed()) {
      harness::run_profile_invocation(harness::ProfileInvocation::parse(profile->remaining()),
                                      recorded_workload);
    }
    if (entry->parsed()) {
      return harness::run_entry_invocation(harness::EntryInvocation::parse(entry->remaining()),
                                           recorded_workload);
    }
    if (one_run->parsed()) {
      return harness::run_spawn_invocation(harness::SpawnInvocation::parse(one_run->remaining()),
                                           recorded_workload);
    }
    return -1;
  };
}

std::function<int()> add_report_command(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("report", "rebuild the reports of a run directory (also after a crash)");
  cmd->add_option("DIR", *dir, "run directory")->required();
  return [cmd, dir] {
    if (!cmd->parsed()) return -1;
    harness::check_no_soak_running(*dir);
    return finish_report(*dir, false);
  };
}

std::function<int()> add_list_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("list", "strategies, allocators, workloads and leak modes");
  return [cmd] {
    if (!cmd->parsed()) return -1;
    std::cout << "strategies:\n";
    for (auto name : harness::strategy_names()) std::cout << "  " << name << '\n';
    std::cout << "allocators:\n";
    for (const auto& line : harness::describe_allocators()) std::cout << "  " << line << '\n';
    std::cout << "workloads:\n";
    for (const auto& w : scenarios::list_workloads()) {
      std::cout << fmt::format("  {:<12} {}\n    leak modes: ", w.name, w.summary);
      for (std::size_t i = 0; i < w.leak_modes.size(); ++i) std::cout << (i ? ", " : "") << w.leak_modes[i];
      std::cout << '\n';
    }
    std::cout << fmt::format("default scenario: --workload {} --leak {}\n", kDefaultWorkload,
                             kDefaultWorkloadLeak);
    return kExitOk;
  };
}

}  // namespace memsoak::tools
