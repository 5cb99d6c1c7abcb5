// Fuzzes scenario files (`memsoak run --scenario FILE`, tools/scenario_file.h) against the real
// `run` command's options: each input is a fresh command line that the file's keys are applied
// to, and then the values are checked as `run` checks them.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_support.h"
#include "tools/commands.h"
#include "tools/scenario_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace memsoak;
  const std::filesystem::path file = fuzz::scratch_dir() / "scenario.json";
  fuzz::write_file(file, fuzz::as_text(data, size));
  CLI::App app;
  const std::vector<std::string> command_line = {"memsoak", "run"};
  // The returned command owns the variables the options write to: it must outlive them.
  const std::function<int()> run_command = tools::add_run_command(app, command_line);
  CLI::App* run = app.get_subcommand("run");
  fuzz::expect_only_input_errors([&] { tools::apply_scenario_file(*run, file); });
  return 0;
}
