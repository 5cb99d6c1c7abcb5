// The memsoak subcommands, each a thin layer over the libraries; main() dispatches to them.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace memsoak::tools {

inline constexpr int kExitOk = 0;
inline constexpr int kExitBudget = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitHarness = 3;
inline constexpr int kExitNoRun =
    4;  // a strategy completed no run: every run failed or its worker never started

// Each adds its subcommand's options to `app` and returns what to call when it was chosen.
std::function<int()> add_run_command(CLI::App& app, const std::vector<std::string>& command_line);
std::function<int()> add_report_command(CLI::App& app);
std::function<int()> add_merge_command(CLI::App& app, const std::vector<std::string>& command_line);
std::function<int()> add_compare_command(CLI::App& app);
std::function<int()> add_list_command(CLI::App& app);
std::function<int()> add_rerank_command(CLI::App& app);
std::function<int()> add_model_command(CLI::App& app);
std::function<int()> add_internal_commands(CLI::App& app);

}  // namespace memsoak::tools
