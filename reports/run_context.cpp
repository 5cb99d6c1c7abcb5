// Failures and environment for the reports (see run_context.h).
#include "reports/run_context.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <fstream>
#include <map>

#include "harness/units.h"

namespace memsoak::reports {

namespace {

constexpr std::string_view kFailedMarker = ": failed: ";

// "recycle:20 [jemalloc] run 17: failed: exit status 3" -> entry, run, reason.
bool parse_failure(std::string_view line, std::string& entry, std::uint64_t& run, std::string_view& reason) {
  const std::size_t marker = line.find(kFailedMarker);
  if (marker == std::string_view::npos) return false;
  std::string_view head = line.substr(0, marker);
  const std::size_t space = head.rfind(' ');
  if (space == std::string_view::npos || space < 4 || head.substr(space - 4, 4) != " run") return false;
  std::string_view digits = head.substr(space + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), run);
  if (ec != std::errc() || end != digits.data() + digits.size()) return false;
  entry = std::string(head.substr(0, space - 4));
  reason = line.substr(marker + kFailedMarker.size());
  return !entry.empty();
}

}  // namespace

FailureLog read_failures(const std::filesystem::path& run_log, const std::vector<std::string>& entries) {
  FailureLog log;
  std::ifstream in(run_log, std::ios::binary);
  if (!in) return log;
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  std::uintmax_t read = 0;
  std::string entry;
  for (std::string line; std::getline(in, line);) {
    read += line.size() + 1;
    if (read > kRunLogReadBytes) {
      log.truncated = true;
      break;
    }
    std::uint64_t run = 0;
    std::string_view reason;
    if (!parse_failure(line, entry, run, reason)) continue;
    if (std::find(entries.begin(), entries.end(), entry) == entries.end()) continue;
    auto key = std::make_pair(entry, std::string(reason));
    auto it = index.find(key);
    if (it == index.end()) {
      if (log.groups.size() == kFailureGroups) {
        log.truncated = true;
        continue;
      }
      it = index.emplace(key, log.groups.size()).first;
      log.groups.push_back({entry, key.second, 0, run});
    }
    FailureGroup& group = log.groups[it->second];
    ++group.runs;
    group.first_run = std::min(group.first_run, run);
  }
  std::stable_sort(log.groups.begin(), log.groups.end(),
                   [](const FailureGroup& a, const FailureGroup& b) { return a.runs > b.runs; });
  return log;
}

std::vector<std::pair<std::string, std::string>> describe_run(const harness::RunManifest& manifest) {
  std::vector<std::pair<std::string, std::string>> facts;
  facts.emplace_back("memsoak", fmt::format("{} ({})", manifest.memsoak_version, manifest.git_commit));
  if (manifest.started_at > 0) {
    std::time_t t = static_cast<std::time_t>(manifest.started_at);
    std::tm utc{};
    gmtime_r(&t, &utc);
    facts.emplace_back("started", fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", utc));
  }
  if (!manifest.exec_command.empty()) facts.emplace_back("worker command", manifest.exec_command);
  if (manifest.heap_counters) facts.emplace_back("live heap counted by", *manifest.heap_counters);
  for (const auto& [name, value] : manifest.environment.items()) {
    if (value.is_number() && name.ends_with("_bytes")) {
      facts.emplace_back(name.substr(0, name.size() - 6), harness::format_bytes(value.get<double>()));
    } else {
      facts.emplace_back(name, value.is_string() ? value.get<std::string>() : value.dump());
    }
  }
  return facts;
}

}  // namespace memsoak::reports
