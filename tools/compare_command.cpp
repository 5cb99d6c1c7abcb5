// `memsoak compare BASE NEW`: two run directories (two builds of one scenario) side by side.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "harness/errors.h"
#include "harness/units.h"
#include "reports/compare.h"
#include "reports/compare_html.h"
#include "reports/compare_writers.h"
#include "tools/commands.h"

namespace memsoak::tools {
namespace {
namespace fs = std::filesystem;

struct CompareArgs {
  std::string base;
  std::string fresh;
  std::optional<std::string> out;  // default: NEW/compare
  std::optional<std::string> budget;
  bool quiet = false;
};

int compare(const CompareArgs& args) {
  // Checked before the (slow) analyses, so that a typo costs nothing.
  std::optional<std::uint64_t> budget;
  if (args.budget) budget = harness::parse_size(*args.budget, "--budget");
  if (args.out && args.out->empty()) throw InputError("--out '': empty path");
  const reports::Report base = reports::load_report_for_compare(args.base);
  const reports::Report fresh = reports::load_report_for_compare(args.fresh);
  const reports::Comparison comparison = reports::compare_reports(base, fresh, budget);
  const fs::path out = args.out ? fs::path(*args.out) : fs::path(args.fresh) / "compare";
  if (std::error_code ec; fs::exists(out, ec) && !fs::is_directory(out, ec)) {
    throw InputError(fmt::format("--out '{}': exists and is not a directory", out.string()));
  }
  if (std::error_code ec; !fs::create_directories(out, ec) && ec) {
    throw InputError(fmt::format("--out '{}': cannot be created ({})", out.string(), ec.message()));
  }
  reports::write_comparison(comparison, out);
  reports::write_comparison_html(comparison, base, fresh, out);
  if (!args.quiet) std::cout << reports::compare_table(comparison);
  std::cout << (out / "compare.html").string() << std::endl;
  for (const auto& v : comparison.violations) std::cerr << "memsoak: budget exceeded: " << v << '\n';
  return comparison.violations.empty() ? kExitOk : kExitBudget;
}

}  // namespace

std::function<int()> add_compare_command(CLI::App& app) {
  auto args = std::make_shared<CompareArgs>();
  CLI::App* cmd = app.add_subcommand(
      "compare", "compare two run directories (e.g. two builds): growth per entry, verdicts, leak sites");
  cmd->add_option("BASE", args->base, "the run directory to compare against")->required();
  cmd->add_option("NEW", args->fresh, "the run directory to compare")->required();
  cmd->add_option("--out", args->out,
                  "where compare.html, compare.md and compare.json go (default: NEW/compare)");
  cmd->add_option("--budget", args->budget,
                  "fail (exit 1) when an entry's growth rose by more than SIZE per run, e.g. 1KiB");
  cmd->add_flag("--quiet", args->quiet, "no table; print only the path of compare.html");
  return [cmd, args] { return cmd->parsed() ? compare(*args) : -1; };
}

}  // namespace memsoak::tools
