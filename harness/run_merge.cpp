// Merging shard run directories (see run_merge.h).
#include "harness/run_merge.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>

#include "harness/errors.h"
#include "harness/json_file.h"
#include "harness/sample_file.h"

namespace memsoak::harness {
namespace fs = std::filesystem;
namespace {

// What must be equal for two directories to be shards of one soak: run.json without what differs
// by machine or invocation (times, command line, environment, the shard itself, model and tracker
// paths, which live in each machine's cache or build) and without the build, checked apart.
nlohmann::json soak_identity(const RunManifest& m) {
  nlohmann::json json = nlohmann::json::parse(m.to_json().dump());
  for (const char* key : {"memsoak_version", "git_commit", "build_id", "started_at", "command_line",
                          "strategies", "shard", "merged_from", "interrupted_by_signal", "environment"})
    json.erase(key);
  json["exec_tracker"] = m.exec_tracker_library.has_value();
  json["workload_info"].erase("model_dir");
  json["workload_request"].erase("model_dir");
  return json;
}

std::string first_difference(const nlohmann::json& a, const nlohmann::json& b) {
  for (const auto& [key, value] : a.items()) {
    if (!b.contains(key) || b[key] != value) {
      std::string shown = fmt::format("\"{}\" is {} there, {} here", key, value.dump(),
                                      b.contains(key) ? b[key].dump() : std::string("missing"));
      return shown.size() > 200 ? shown.substr(0, 197) + "..." : shown;
    }
  }
  for (const auto& [key, value] : b.items()) {
    if (!a.contains(key)) return fmt::format("\"{}\" is missing there", key);
  }
  return "";
}

// samples.bin must end on a record boundary: a shard cut short cannot be merged as if it were whole.
void check_samples_whole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char header[kSampleFileHeaderBytes] = {};
  std::uint32_t record_bytes = 0;
  if (in.read(header, sizeof header)) std::memcpy(&record_bytes, header + 12, 4);
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(path, ec);
  if (!ec && record_bytes > 0 && (size - kSampleFileHeaderBytes) % record_bytes != 0) {
    throw InputError(fmt::format("{}: truncated: it ends {} bytes into a record", path.string(),
                                 (size - kSampleFileHeaderBytes) % record_bytes));
  }
}

MergeShard read_shard_directory(const fs::path& dir) {
  if (!fs::is_directory(dir)) {
    throw InputError(fmt::format("'{}': not a run directory ({})", dir.string(),
                                 fs::exists(dir) ? "not a directory" : "no such directory"));
  }
  MergeShard shard{dir, RunManifest::read(dir), {}, {}};
  const fs::path samples = dir / "samples.bin";
  shard.records = read_sample_file(samples);
  check_samples_whole(samples);
  const RunManifest& m = shard.manifest;
  if (m.interrupted_by_signal) {
    throw InputError(fmt::format("'{}': the soak was stopped by signal {}; run that shard again",
                                 dir.string(), *m.interrupted_by_signal));
  }
  std::vector<std::uint64_t> per_entry(m.entries.size(), 0);
  for (const RunRecord& r : shard.records) {
    if (r.strategy_index >= m.entries.size()) {
      throw InputError(fmt::format("{}: a record names entry {} but run.json lists {}", samples.string(),
                                   r.strategy_index, m.entries.size()));
    }
    ++per_entry[r.strategy_index];
  }
  for (std::size_t e = 0; e < m.entries.size(); ++e) {
    if (per_entry[e] != m.entries[e].stats.completed_runs) {
      throw InputError(fmt::format("'{}': samples.bin holds {} runs of {} but run.json says {} (truncated?)",
                                   dir.string(), per_entry[e], m.entries[e].label(),
                                   m.entries[e].stats.completed_runs));
    }
  }
  shard.artifacts = list_artifacts(dir);
  for (const ArtifactInfo& a : shard.artifacts.complete) {
    if (a.entry_index >= m.entries.size()) {
      throw InputError(fmt::format("{}: an artifact of entry {} but run.json lists {}", a.path.string(),
                                   a.entry_index, m.entries.size()));
    }
  }
  return shard;
}

// A directory without "shard" is a whole soak: shard 1 of 1.
ShardInfo shard_of(const RunManifest& m) {
  if (m.shard) return *m.shard;
  ShardInfo whole;
  for (std::uint32_t k = 0; k < m.entries.size(); ++k) {
    whole.entries.push_back(k);
    whole.soak_entries.push_back(m.entries[k].label());
  }
  return whole;
}

void check_same_soak(const MergeShard& first, const MergeShard& other) {
  const RunManifest& a = first.manifest;
  const RunManifest& b = other.manifest;
  const std::string here = fmt::format("'{}'", other.dir.string());
  const std::string there = fmt::format("'{}'", first.dir.string());
  if (a.memsoak_version != b.memsoak_version || a.git_commit != b.git_commit || a.build_id != b.build_id) {
    throw InputError(fmt::format("{}: another build than {} (memsoak {} {} build {} vs {} {} build {})", here,
                                 there, b.memsoak_version, b.git_commit,
                                 b.build_id.empty() ? "?" : b.build_id, a.memsoak_version, a.git_commit,
                                 a.build_id.empty() ? "?" : a.build_id));
  }
  if (std::string diff = first_difference(soak_identity(a), soak_identity(b)); !diff.empty())
    throw InputError(fmt::format("{}: another soak than {} ({})", here, there, diff));
  const ShardInfo sa = shard_of(a);
  const ShardInfo sb = shard_of(b);
  if (sa.count != sb.count)
    throw InputError(
        fmt::format("{}: shard {}/{} but {} is one of {}", here, sb.index, sb.count, there, sa.count));
  if (sa.soak_entries != sb.soak_entries)
    throw InputError(fmt::format("{}: its soak's entries differ from those of {}", here, there));
}

}  // namespace

MergePlan plan_merge(const std::vector<fs::path>& inputs) {
  if (inputs.empty()) throw InputError("merge: no run directories given");
  MergePlan plan;
  std::map<std::uint32_t, std::size_t> by_index;  // shard index -> position in `inputs`
  std::vector<MergeShard> shards;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      std::error_code ec;
      if (fs::equivalent(inputs[i], inputs[j], ec))
        throw InputError(
            fmt::format("'{}': given twice (as '{}' too)", inputs[i].string(), inputs[j].string()));
    }
    shards.push_back(read_shard_directory(inputs[i]));
    if (i > 0) check_same_soak(shards.front(), shards.back());
    const ShardInfo shard = shard_of(shards.back().manifest);
    if (auto [it, fresh] = by_index.emplace(shard.index, i); !fresh) {
      throw InputError(fmt::format("'{}': shard {}/{} overlaps '{}', which is the same shard",
                                   inputs[i].string(), shard.index, shard.count,
                                   inputs[it->second].string()));
    }
  }
  const ShardInfo first = shard_of(shards.front().manifest);
  for (std::uint32_t index = 1; index <= first.count; ++index) {
    if (by_index.count(index) > 0) continue;
    std::vector<std::string> labels;
    for (std::size_t k = index - 1; k < first.soak_entries.size(); k += first.count)
      labels.push_back(first.soak_entries[k]);
    throw InputError(
        fmt::format("shard {}/{} is missing (its entries: {})", index, first.count, fmt::join(labels, ", ")));
  }
  for (const auto& [index, position] : by_index) plan.shards.push_back(std::move(shards[position]));
  plan.soak_entries = first.soak_entries.size();
  return plan;
}

void write_merge(const MergePlan& plan, const fs::path& out, const std::vector<std::string>& command_line) {
  RunManifest merged = plan.shards.front().manifest;
  merged.shard.reset();
  merged.entries.assign(plan.soak_entries, {});
  merged.merged_from = nlohmann::json::array();
  // Where each shard's entry e goes in the whole soak.
  std::vector<std::vector<std::uint32_t>> global(plan.shards.size());
  for (std::size_t s = 0; s < plan.shards.size(); ++s) {
    const RunManifest& m = plan.shards[s].manifest;
    const ShardInfo info = shard_of(m);
    global[s] = info.entries;
    for (std::size_t e = 0; e < m.entries.size(); ++e) merged.entries[info.entries[e]] = m.entries[e];
    merged.started_at = std::min(merged.started_at, m.started_at);
    merged.merged_from.push_back({{"directory", fs::absolute(plan.shards[s].dir).lexically_normal().string()},
                                  {"shard", fmt::format("{}/{}", info.index, info.count)},
                                  {"hostname", m.environment.value("hostname", "")},
                                  {"started_at", m.started_at}});
  }
  merged.config.command_line = command_line;
  merged.write(out);

  SampleWriter samples(out / "samples.bin", SampleWriter::Mode::kCreate);
  for (std::uint32_t k = 0; k < plan.soak_entries; ++k) {
    for (std::size_t s = 0; s < plan.shards.size(); ++s) {
      for (const RunRecord& r : plan.shards[s].records) {
        if (global[s][r.strategy_index] != k) continue;
        RunRecord copy = r;
        copy.strategy_index = k;
        samples.append(copy);
      }
    }
  }
  std::string log;
  for (std::size_t s = 0; s < plan.shards.size(); ++s) {
    const MergeShard& shard = plan.shards[s];
    std::ifstream in(shard.dir / "run.log", std::ios::binary);
    log.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    for (const ArtifactInfo& a : shard.artifacts.complete) {
      const fs::path to = out / "artifacts" / std::to_string(global[s][a.entry_index]);
      fs::create_directories(to);
      fs::copy_file(a.path, to / a.path.filename());
    }
    if (fs::is_directory(shard.dir / "heaptrack") && !fs::exists(out / "heaptrack"))
      fs::copy(shard.dir / "heaptrack", out / "heaptrack", fs::copy_options::recursive);
  }
  if (!log.empty()) write_text_file(out / "run.log", log);
}

}  // namespace memsoak::harness
