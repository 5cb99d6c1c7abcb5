// `memsoak merge --out DIR DIR...`: the shards of one soak into one run directory and its reports.
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include "harness/errors.h"
#include "harness/run_merge.h"
#include "reports/analysis.h"
#include "reports/budget_gate.h"
#include "reports/writer.h"
#include "tools/commands.h"

namespace memsoak::tools {
namespace {
namespace fs = std::filesystem;

struct MergeArgs {
  std::string out;
  std::vector<std::string> inputs;
  bool quiet = false;
};

fs::path checked_out(const std::string& text) {
  if (text.empty()) throw InputError("--out '': empty path");
  fs::path out = fs::path(text).lexically_normal();
  if (!out.has_filename()) out = out.parent_path();
  std::error_code ec;
  if (fs::exists(out, ec) && (!fs::is_directory(out, ec) || !fs::is_empty(out, ec)))
    throw InputError(fmt::format("--out '{}': exists and is not an empty directory", text));
  const fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec))
    throw InputError(fmt::format("--out '{}': its parent directory does not exist", text));
  return out;
}

int merge(const MergeArgs& args, const std::vector<std::string>& argv) {
  const fs::path out = checked_out(args.out);
  const std::vector<fs::path> inputs(args.inputs.begin(), args.inputs.end());
  const harness::MergePlan plan = harness::plan_merge(inputs);
  // Everything is built beside DIR and renamed into place at the end, so a failure part-way (a
  // full disk, stack artifacts the analysis refuses) leaves no half-merged directory behind.
  const fs::path staging = (out.has_parent_path() ? out.parent_path() : fs::path(".")) /
                           fmt::format(".{}.merging-{}", out.filename().string(), ::getpid());
  fs::create_directory(staging);
  std::ostringstream console;
  std::vector<std::string> violations;
  std::vector<std::string> no_run;
  try {
    harness::write_merge(plan, staging, argv);
    reports::Report report = reports::analyse_run_directory(staging);
    report.run_directory = out.string();
    reports::write_reports(report, {staging, args.quiet ? nullptr : &console});
    violations = reports::budget_violations(report);
    no_run = reports::entries_without_a_completed_run(report);
    fs::rename(staging, out);  // replaces an empty DIR
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    throw;
  }
  std::cout << console.str() << (out / "report.html").string() << std::endl;
  for (const auto& v : violations) std::cerr << "memsoak: budget exceeded: " << v << '\n';
  for (const auto& line : no_run) std::cerr << "memsoak: " << line << '\n';
  if (!no_run.empty()) return kExitNoRun;
  return violations.empty() ? kExitOk : kExitBudget;
}

}  // namespace

std::function<int()> add_merge_command(CLI::App& app, const std::vector<std::string>& command_line) {
  auto args = std::make_shared<MergeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "merge",
      "combine the shards of one soak (memsoak run --shard I/N) into one run directory and its reports");
  cmd->add_option("--out", args->out, "the merged run directory; must not exist or be empty")->required();
  cmd->add_option("DIR", args->inputs, "the shards' run directories, one per shard")->required();
  cmd->add_flag("--quiet", args->quiet, "no summary; print only the report path");
  return [cmd, args, &command_line] { return cmd->parsed() ? merge(*args, command_line) : -1; };
}

}  // namespace memsoak::tools
