// Command lines of re-executed memsoak processes (see invocation.h).
#include "harness/invocation.h"

#include <fmt/format.h>

#include <limits>
#include <map>

#include "harness/errors.h"
#include "harness/units.h"

namespace memsoak::harness {
namespace {

// "--name value" pairs and bare "--flag"s after the run directory.
struct Words {
  std::filesystem::path run_dir;
  std::map<std::string, std::string, std::less<>> values;
  bool has_flag(const std::string& flag) const { return values.count(flag) > 0; }
};

bool one_of(const std::string& word, std::span<const char* const> names) {
  for (const char* name : names) {
    if (word == name) return true;
  }
  return false;
}

// The run directory, then `options` (each with a value) and `flags`; anything else is refused.
Words split_words(std::span<const std::string> args, const char* command,
                  std::span<const char* const> options, std::span<const char* const> flags) {
  if (args.empty() || args[0].empty() || args[0].starts_with("--")) {
    throw InputError(fmt::format("{}: the run directory is missing", command));
  }
  Words words;
  words.run_dir = args[0];
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& word = args[i];
    const bool flag = one_of(word, flags);
    if (!flag && !one_of(word, options)) throw InputError(fmt::format("{}: unexpected '{}'", command, word));
    if (words.values.count(word) > 0) throw InputError(fmt::format("{}: '{}' given twice", command, word));
    if (flag) {
      words.values[word] = "";
    } else if (i + 1 < args.size()) {
      words.values[word] = args[++i];
    } else {
      throw InputError(fmt::format("{}: '{}' needs a value", command, word));
    }
  }
  return words;
}

std::uint64_t number(const Words& words, const char* command, const char* name) {
  auto it = words.values.find(name);
  if (it == words.values.end()) throw InputError(fmt::format("{}: {} is missing", command, name));
  return parse_count(it->second, fmt::format("{} {}", command, name));
}

std::uint32_t index_number(const Words& words, const char* command) {
  std::uint64_t value = number(words, command, "--entry");
  if (value > std::numeric_limits<std::uint32_t>::max()) {
    throw InputError(fmt::format("{} --entry '{}': too large", command, value));
  }
  return static_cast<std::uint32_t>(value);
}

}  // namespace

std::vector<std::string> EntryInvocation::to_argv() const {
  std::vector<std::string> argv = {kSelfExecutable,
                                   kCommand,
                                   run_dir.string(),
                                   "--entry",
                                   std::to_string(entry_index),
                                   "--first-run",
                                   std::to_string(first_run),
                                   "--failures-before",
                                   std::to_string(failures_before)};
  if (deadline_ns > 0) {
    argv.emplace_back("--deadline-ns");
    argv.push_back(std::to_string(deadline_ns));
  }
  if (show_progress) argv.emplace_back("--progress");
  return argv;
}

EntryInvocation EntryInvocation::parse(std::span<const std::string> args) {
  static constexpr const char* kOptions[] = {"--entry", "--first-run", "--failures-before", "--deadline-ns"};
  static constexpr const char* kFlags[] = {"--progress"};
  Words words = split_words(args, kCommand, kOptions, kFlags);
  EntryInvocation invocation;
  invocation.run_dir = words.run_dir;
  invocation.entry_index = index_number(words, kCommand);
  invocation.first_run = number(words, kCommand, "--first-run");
  invocation.failures_before = number(words, kCommand, "--failures-before");
  invocation.show_progress = words.has_flag("--progress");
  if (words.has_flag("--deadline-ns")) {
    const std::uint64_t deadline = number(words, kCommand, "--deadline-ns");
    if (deadline == 0 || deadline > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      throw InputError(fmt::format("{} --deadline-ns '{}': must be 1 to 2^63-1", kCommand, deadline));
    invocation.deadline_ns = static_cast<std::int64_t>(deadline);
  }
  return invocation;
}

std::vector<std::string> SpawnInvocation::to_argv() const {
  return {
      kSelfExecutable,          kCommand, run_dir.string(), "--entry", std::to_string(entry_index), "--run",
      std::to_string(run_index)};
}

SpawnInvocation SpawnInvocation::parse(std::span<const std::string> args) {
  static constexpr const char* kOptions[] = {"--entry", "--run"};
  Words words = split_words(args, kCommand, kOptions, {});
  SpawnInvocation invocation;
  invocation.run_dir = words.run_dir;
  invocation.entry_index = index_number(words, kCommand);
  invocation.run_index = number(words, kCommand, "--run");
  return invocation;
}

}  // namespace memsoak::harness
