// The memsoak executable: parses the command line and dispatches to a subcommand.
// Exit codes: 0 ok, 1 a --budget gate failed, 2 bad usage or input, 3 the harness failed.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "harness/errors.h"
#include "harness/soak_keeper.h"
#include "tools/commands.h"

namespace {

using namespace memsoak::tools;

int dispatch(int argc, char** argv) {
  CLI::App app{"memsoak: soak-test a native component and tell whether its memory is stable"};
  app.require_subcommand(1);
  const std::vector<std::string> command_line(argv, argv + argc);
  const std::vector<std::function<int()>> commands = {add_run_command(app, command_line),
                                                      add_report_command(app),
                                                      add_merge_command(app, command_line),
                                                      add_compare_command(app),
                                                      add_list_command(app),
                                                      add_rerank_command(app),
                                                      add_model_command(app),
                                                      add_internal_commands(app)};

  if (argc > 1 && argv[1][0] != '-' &&
      app.get_subcommands([&](CLI::App* sub) { return sub->get_name() == argv[1]; }).empty()) {
    std::cerr << "memsoak: unknown command '" << argv[1]
              << "' (known: run, report, merge, compare, list, rerank, model)\n";
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
  for (const auto& command : commands) {
    if (int code = command(); code >= 0) return code;
  }
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  // `memsoak run` first executes itself again with the soak's token in its environment, so that
  // every process it forks carries it (harness/soak_keeper.h). Before the command line is read:
  // a scenario file given as a pipe (--scenario /dev/stdin, or <(...)) can be read only once.
  if (argc > 1 && std::string_view(argv[1]) == "run") memsoak::harness::SoakKeeper::enter_soak();
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
