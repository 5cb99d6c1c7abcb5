// Scenario files for `memsoak run --scenario` (see scenario_file.h).
#include "tools/scenario_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string_view>

#include "harness/errors.h"
#include "harness/json_file.h"

namespace memsoak::tools {
namespace {

// Options that differ from one machine or invocation to the next, so a shared file must not fix them.
constexpr std::array<std::string_view, 5> kCommandLineOnly = {"out", "shard", "quiet", "scenario", "help"};

// The option's value as the command line would have written it.
std::string value_text(const nlohmann::json& value, const std::string& where) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_unsigned()) return std::to_string(value.get<std::uint64_t>());
  if (value.is_array() && !value.empty()) {
    std::string joined;
    for (const nlohmann::json& item : value) {
      if (!item.is_string() || item.get<std::string>().find(',') != std::string::npos)
        throw InputError(
            fmt::format("{}: list items must be strings without commas, not {}", where, item.dump()));
      joined += (joined.empty() ? "" : ",") + item.get<std::string>();
    }
    return joined;
  }
  std::string shown = value.dump();
  if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
  throw InputError(fmt::format("{}: must be a string, a whole number or a non-empty list of strings, not {}",
                               where, shown));
}

}  // namespace

std::vector<std::string> apply_scenario_file(CLI::App& run_command, const std::filesystem::path& file) {
  const std::string name = file.string();
  if (!std::filesystem::is_regular_file(file))
    throw InputError(fmt::format("--scenario '{}': no such file", name));
  const nlohmann::json json = harness::read_json_file(file);
  if (!json.is_object()) throw InputError(fmt::format("{}: must be a JSON object of option names", name));
  std::vector<std::string> known;
  for (const CLI::Option* option : run_command.get_options()) {
    for (const std::string& long_name : option->get_lnames()) {
      if (std::find(kCommandLineOnly.begin(), kCommandLineOnly.end(), long_name) == kCommandLineOnly.end())
        known.push_back(long_name);
    }
  }
  std::vector<std::string> applied;
  for (const auto& [key, value] : json.items()) {
    const std::string where = fmt::format("{}: \"{}\"", name, key);
    if (std::find(kCommandLineOnly.begin(), kCommandLineOnly.end(), key) != kCommandLineOnly.end())
      throw InputError(where + ": belongs on the command line, not in a scenario file");
    if (std::find(known.begin(), known.end(), key) == known.end())
      throw InputError(fmt::format("{}: unknown key (known: {})", where, fmt::join(known, ", ")));
    const std::string text = value_text(value, where);
    CLI::Option* option = run_command.get_option("--" + key);
    if (option->count() > 0) continue;  // the command line overrides the file
    option->add_result(text);
    option->run_callback();
    applied.push_back(key);
  }
  return applied;
}

}  // namespace memsoak::tools
