// The memsoak executable: command-line wiring of the harness, scenarios and reports.
// Exit codes: 0 ok, 1 a --budget gate failed, 2 bad usage or input, 3 the harness failed.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "harness/errors.h"
#include "harness/progress.h"
#include "harness/run_directory.h"
#include "harness/runner.h"
#include "harness/strategy.h"
#include "harness/units.h"
#include "reports/analysis.h"
#include "reports/console_summary.h"
#include "reports/report_json.h"
#include "scenarios/workloads.h"

namespace {

namespace fs = std::filesystem;
using namespace memsoak;

constexpr int kExitOk = 0;
constexpr int kExitBudget = 1;
constexpr int kExitUsage = 2;
constexpr int kExitHarness = 3;

struct RunArgs {
  std::string workload = "synthetic";
  std::string leak = "none";
  std::string strategies = "in-process,fork";
  std::string iterations = "2000";
  std::optional<std::string> warmup;  // default: a tenth of the iterations
  std::optional<std::string> out;     // default: memsoak-out/<UTC time>
  std::optional<std::string> budget;
  std::string seed = "1";
  bool quiet = false;
};

// Writes report.json, prints a line per strategy and the report's path, applies the budget.
int finish_report(const fs::path& run_dir, bool quiet) {
  reports::Report report = reports::analyse_run_directory(run_dir);
  reports::write_report_json(report, run_dir / "report.json");
  if (!quiet) {
    for (const auto& s : report.strategies) std::cout << reports::summary_line(s) << '\n';
  }
  std::cout << (run_dir / "report.json").string() << std::endl;
  std::vector<std::string> violations = reports::budget_violations(report);
  for (const auto& v : violations) std::cerr << "memsoak: budget exceeded: " << v << '\n';
  return violations.empty() ? kExitOk : kExitBudget;
}

harness::SoakConfig make_soak_config(const RunArgs& args, const std::vector<std::string>& argv) {
  harness::SoakConfig config;
  config.workload = args.workload;
  config.leak = args.leak;
  config.scenario = fmt::format("{} --leak {}", args.workload, args.leak);
  config.strategies = harness::parse_strategy_list(args.strategies);
  config.iterations = harness::parse_count(args.iterations, "--iterations");
  if (config.iterations == 0)
    throw InputError(fmt::format("--iterations '{}': must be at least 1", args.iterations));
  config.warmup = args.warmup ? harness::parse_count(*args.warmup, "--warmup") : config.iterations / 10;
  if (config.warmup >= config.iterations) {
    throw InputError(
        fmt::format("--warmup '{}': must be below --iterations ({})", config.warmup, config.iterations));
  }
  config.seed = harness::parse_count(args.seed, "--seed");
  if (args.budget) config.budget_bytes_per_run = harness::parse_size(*args.budget, "--budget");
  config.command_line = argv;
  return config;
}

int run_command(const RunArgs& args, const std::vector<std::string>& argv) {
  // Everything is validated before the run directory is created: bad input leaves nothing.
  harness::SoakConfig config = make_soak_config(args, argv);
  scenarios::BuiltWorkload workload = scenarios::make_workload({args.workload, args.leak, config.seed});
  config.workload_info = workload.info;
  std::optional<fs::path> requested;
  if (args.out) requested = *args.out;
  fs::path run_dir = harness::create_run_directory(requested);

  harness::SoakOptions options;
  options.show_progress = !args.quiet && harness::ProgressBar::is_terminal(stderr);
  if (!args.quiet)
    std::cerr << fmt::format("memsoak: soaking {} into {}\n", config.scenario, run_dir.string());
  harness::run_soak(config, workload.factory, run_dir, options);
  return finish_report(run_dir, args.quiet);
}

int list_command() {
  std::cout << "strategies:\n";
  for (auto name : harness::strategy_names()) std::cout << "  " << name << '\n';
  std::cout << "allocators:\n  glibc\nworkloads:\n";
  for (const auto& w : scenarios::list_workloads()) {
    std::cout << fmt::format("  {:<12} {}\n    leak modes: ", w.name, w.summary);
    for (std::size_t i = 0; i < w.leak_modes.size(); ++i) std::cout << (i ? ", " : "") << w.leak_modes[i];
    std::cout << '\n';
  }
  return kExitOk;
}

int dispatch(int argc, char** argv) {
  CLI::App app{"memsoak: soak-test a native component and tell whether its memory is stable"};
  app.require_subcommand(1);
  std::vector<std::string> command_line(argv, argv + argc);

  RunArgs run_args;
  CLI::App* run = app.add_subcommand("run", "soak a workload under each strategy and write the reports");
  run->add_option("--workload", run_args.workload, "built-in workload (see `memsoak list`)")
      ->capture_default_str();
  run->add_option("--leak", run_args.leak, "the workload's leak mode")->capture_default_str();
  run->add_option("--strategy", run_args.strategies, "comma-separated strategies")->capture_default_str();
  run->add_option("--iterations", run_args.iterations, "runs per strategy")->capture_default_str();
  run->add_option("--warmup", run_args.warmup, "runs left out of the trend (default: a tenth)");
  run->add_option("--out", run_args.out, "run directory (default: memsoak-out/<UTC time>)");
  run->add_option("--budget", run_args.budget, "fail (exit 1) on growth above SIZE per run, e.g. 1KiB");
  run->add_option("--seed", run_args.seed, "seed of the workload's inputs")->capture_default_str();
  run->add_flag("--quiet", run_args.quiet, "no progress or summary; print only the report path");

  std::string report_dir;
  CLI::App* report =
      app.add_subcommand("report", "rebuild the reports of a run directory (also after a crash)");
  report->add_option("DIR", report_dir, "run directory")->required();

  CLI::App* list = app.add_subcommand("list", "strategies, allocators, workloads and leak modes");

  if (argc > 1 && argv[1][0] != '-' &&
      app.get_subcommands([&](CLI::App* sub) { return sub->get_name() == argv[1]; }).empty()) {
    std::cerr << "memsoak: unknown command '" << argv[1] << "' (known: run, report, list)\n";
    return kExitUsage;
  }
  if (argc > 1 && argv[1][0] != '-' &&
      app.get_subcommands([&](CLI::App* sub) { return sub->get_name() == argv[1]; }).empty()) {
    std::cerr << "memsoak: unknown command '" << argv[1] << "' (known: run, report, list)\n";
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "memsoak: " << e.what() << " (see memsoak --help)\n";
    return kExitUsage;
  }
  if (run->parsed()) return run_command(run_args, command_line);
  if (report->parsed()) return finish_report(report_dir, false);
  if (list->parsed()) return list_command();
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return dispatch(argc, argv);
  } catch (const memsoak::InputError& e) {
    std::cerr << "memsoak: " << e.what() << '\n';
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "memsoak: internal error: " << e.what() << '\n';
    return kExitHarness;
  }
}
