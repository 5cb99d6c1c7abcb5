// run.json writing and strict reading, versions 1 and 2 (see run_manifest.h).
#include "harness/run_manifest.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <limits>

#include "harness/errors.h"
#include "harness/exec_tracker.h"
#include "harness/heap_counters.h"
#include "harness/json_file.h"
#include "harness/run_directory.h"
#include "harness/stack_sampling.h"
#include "memsoak_git_commit.h"

namespace memsoak::harness {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// As --run-timeout and --duration allow: in nanoseconds it still fits 64 bits.
constexpr std::uint64_t kMaxRunTimeoutMs =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / 1'000'000;
constexpr std::uint64_t kMaxSignal = 64;

// Field readers: each names the field in its error. `where` is "DIR/run.json".
class Fields {
 public:
  Fields(const Json& object, std::string where) : object_(object), where_(std::move(where)) {}

  const Json& required(const char* key) const {
    if (!object_.contains(key)) throw bad(key, "is missing");
    return object_[key];
  }
  bool has(const char* key) const { return object_.contains(key) && !object_[key].is_null(); }

  std::string string(const char* key) const {
    const Json& v = required(key);
    if (!v.is_string()) throw bad(key, "must be a string, not " + v.dump());
    return v.get<std::string>();
  }
  std::uint64_t count(const char* key) const {
    const Json& v = required(key);
    if (!v.is_number_unsigned()) throw bad(key, "must be a whole number, not " + v.dump());
    return v.get<std::uint64_t>();
  }
  std::int64_t integer(const char* key) const {
    const Json& v = required(key);
    if (!v.is_number_integer() ||
        (v.is_number_unsigned() && v.get<std::uint64_t>() > std::numeric_limits<std::int64_t>::max())) {
      throw bad(key, "must be an integer within 64 bits, not " + v.dump());
    }
    return v.get<std::int64_t>();
  }
  std::uint64_t count_at_most(const char* key, std::uint64_t max) const {
    std::uint64_t value = count(key);
    if (value > max) throw bad(key, fmt::format("must be at most {}, not {}", max, value));
    return value;
  }
  // null or absent: std::nullopt.
  std::optional<std::uint64_t> optional_count(const char* key) const {
    return has(key) ? std::optional(count(key)) : std::nullopt;
  }
  std::optional<std::int64_t> optional_integer(const char* key) const {
    return has(key) ? std::optional(integer(key)) : std::nullopt;
  }
  // A time in nanoseconds: a whole number within 64 bits, never negative.
  std::optional<std::int64_t> optional_duration_ns(const char* key) const {
    if (!has(key)) return std::nullopt;
    return static_cast<std::int64_t>(
        count_at_most(key, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())));
  }
  std::optional<bool> optional_bool(const char* key) const {
    if (!has(key)) return std::nullopt;
    const Json& v = object_[key];
    if (!v.is_boolean()) throw bad(key, "must be true or false, not " + v.dump());
    return v.get<bool>();
  }
  std::optional<std::string> optional_string(const char* key) const {
    return has(key) ? std::optional(string(key)) : std::nullopt;
  }
  const Json& object(const char* key) const {
    const Json& v = required(key);
    if (!v.is_object()) throw bad(key, "must be an object, not " + v.dump());
    return v;
  }
  const Json& array(const char* key) const {
    const Json& v = required(key);
    if (!v.is_array()) throw bad(key, "must be a list");
    return v;
  }
  InputError bad(const std::string& key, const std::string& why) const {
    std::string shown = why.size() > 120 ? why.substr(0, 117) + "..." : why;
    return InputError(fmt::format("{}: \"{}\" {}", where_, key, shown));
  }
  const std::string& where() const { return where_; }

 private:
  const Json& object_;
  std::string where_;
};

template <typename T>
OrderedJson or_null(const std::optional<T>& value) {
  return value ? OrderedJson(*value) : OrderedJson(nullptr);
}

OrderedJson trim_probe_to_json(const EntryStats& stats) {
  if (!stats.trim_rss_before_bytes || !stats.trim_rss_after_bytes) return nullptr;
  return {{"rss_before_bytes", *stats.trim_rss_before_bytes},
          {"rss_after_bytes", *stats.trim_rss_after_bytes}};
}

OrderedJson zero_as_null(std::uint64_t value) { return value ? OrderedJson(value) : OrderedJson(nullptr); }

// "stacks": null or absent (a soak of an older memsoak) when stacks were not sampled.
void read_stacks(StackOptions& stacks, const Fields& parent) {
  stacks.enabled = parent.has("stacks");
  if (!stacks.enabled) return;
  Fields f(parent.object("stacks"), parent.where() + " stacks");
  if (f.has("sample_bytes")) stacks.sample_bytes = f.count_at_most("sample_bytes", kMaxStackSampleBytes);
  stacks.depth = static_cast<std::uint32_t>(f.count_at_most("depth", kMaxStackDepth));
  if (stacks.depth == 0) throw f.bad("depth", "must be at least 1");
}

ManifestEntry read_entry(const Json& json, const std::string& where, std::size_t index, int version) {
  const std::string here = fmt::format("{} strategies[{}]", where, index);
  if (!json.is_object()) throw InputError(fmt::format("{}: not an object", here));
  Fields f(json, here);
  ManifestEntry entry;
  const std::string name = f.string("name");
  try {
    entry.strategy = parse_strategy(name);
  } catch (const InputError&) {
    throw f.bad("name", fmt::format("'{}' is not a strategy this memsoak knows", name));
  }
  const std::string allocator = f.string("allocator");
  std::vector<Allocator> parsed;
  try {
    parsed = parse_allocator_list(allocator);
  } catch (const InputError&) {
  }
  if (parsed.size() != 1)
    throw f.bad("allocator", fmt::format("'{}' is not an allocator this memsoak knows", allocator));
  entry.allocator = parsed.front();
  if (version >= 2) {
    // The table decides behaviour; a file that disagrees with it was edited or is corrupt.
    if (f.string("kind") != entry.strategy.kind) throw f.bad("kind", "does not match the strategy's name");
    const Json& recycles = f.required("recycles");
    if (!recycles.is_boolean() || recycles.get<bool>() != entry.strategy.recycles) {
      throw f.bad("recycles", "does not match the strategy's name");
    }
  }
  entry.stats.completed_runs = f.count("completed_runs");
  // Version 1 files of the first releases lack these.
  entry.stats.failed_runs =
      version >= 2 ? f.count("failed_runs") : f.optional_count("failed_runs").value_or(0);
  entry.stats.artifacts = version >= 2 ? f.count("artifacts") : 0;
  entry.stats.elapsed_ns = f.optional_duration_ns("elapsed_ns");
  entry.stats.cpu_user_ns = f.optional_duration_ns("cpu_user_ns");
  entry.stats.cpu_system_ns = f.optional_duration_ns("cpu_system_ns");
  entry.stats.stopped = f.optional_string("stopped");
  entry.stats.ended_by = f.optional_string("ended_by");
  if (entry.stats.ended_by && *entry.stats.ended_by != "settled" &&
      *entry.stats.ended_by != "max-iterations" && *entry.stats.ended_by != "duration")
    throw f.bad("ended_by", "must be settled, max-iterations, duration or null");
  if (f.has("trim_probe")) {
    Fields probe(f.object("trim_probe"), here + " trim_probe");
    entry.stats.trim_rss_before_bytes = probe.integer("rss_before_bytes");
    entry.stats.trim_rss_after_bytes = probe.integer("rss_after_bytes");
  }
  return entry;
}

int read_version(const Json& json, const std::string& where) {
  if (!json.is_object() || !json.contains("schema")) {
    throw InputError(fmt::format("{}: not a memsoak run.json (no \"schema\")", where));
  }
  if (!json["schema"].is_string()) {
    throw InputError(fmt::format("{}: \"schema\" must be a string, not {}", where, json["schema"].dump()));
  }
  const std::string schema = json["schema"].get<std::string>();
  if (schema == "memsoak.run/1") return 1;
  if (schema == kRunManifestSchema) return 2;
  const std::string_view prefix = "memsoak.run/";
  int version = 0;
  if (schema.starts_with(prefix)) {
    auto [end, ec] = std::from_chars(schema.data() + prefix.size(), schema.data() + schema.size(), version);
    const bool all_digits = end == schema.data() + schema.size() && end != schema.data() + prefix.size();
    if (all_digits &&
        (ec == std::errc::result_out_of_range || (ec == std::errc() && version > kRunManifestVersion))) {
      throw InputError(
          fmt::format("{}: schema '{}' is newer than this memsoak reads ({}); use a newer memsoak", where,
                      schema, kRunManifestSchema));
    }
  }
  throw InputError(fmt::format("{}: schema '{}' is not one this memsoak reads (memsoak.run/1, {})", where,
                               schema, kRunManifestSchema));
}

// Strategies and allocators as asked, in order, from the entries (allocators outer).
void config_lists_from_entries(RunManifest& manifest) {
  for (const ManifestEntry& e : manifest.entries) {
    auto& specs = manifest.config.strategies;
    if (std::none_of(specs.begin(), specs.end(),
                     [&](const StrategySpec& s) { return s.name == e.strategy.name; }))
      specs.push_back(e.strategy);
    auto& allocators = manifest.config.allocators;
    if (std::find(allocators.begin(), allocators.end(), e.allocator) == allocators.end())
      allocators.push_back(e.allocator);
  }
}

void read_source(RunManifest& manifest, const Fields& f, int version) {
  if (version >= 2) {
    const Json& source = f.object("workload_source");
    Fields s(source, f.where() + " workload_source");
    if (!parse_source_kind(s.string("kind"), manifest.source_kind)) throw s.bad("kind", "is not known");
    if (manifest.source_kind == WorkloadSource::Kind::kExternal) manifest.exec_command = s.string("command");
    return;
  }
  if (auto command = f.optional_string("exec_command")) {
    manifest.source_kind = WorkloadSource::Kind::kExternal;
    manifest.exec_command = *command;
  } else if (manifest.config.workload == "plugin") {
    manifest.source_kind = WorkloadSource::Kind::kPlugin;
  }
}

OrderedJson shard_to_json(const std::optional<ShardInfo>& shard) {
  if (!shard) return nullptr;
  return {{"index", shard->index},
          {"count", shard->count},
          {"entries", shard->entries},
          {"soak_entries", shard->soak_entries}};
}

// "shard": it must describe the entries the file lists, or merge would put records in wrong places.
ShardInfo read_shard(const Fields& parent, const std::vector<ManifestEntry>& entries) {
  Fields f(parent.object("shard"), parent.where() + " shard");
  constexpr std::uint64_t kMaxShards = std::numeric_limits<std::uint32_t>::max();
  ShardInfo shard;
  shard.count = static_cast<std::uint32_t>(f.count_at_most("count", kMaxShards));
  shard.index = static_cast<std::uint32_t>(f.count_at_most("index", kMaxShards));
  if (shard.count == 0 || shard.index == 0 || shard.index > shard.count)
    throw f.bad("index", fmt::format("{} of {} shards is not a shard", shard.index, shard.count));
  for (const Json& label : f.array("soak_entries")) {
    if (!label.is_string()) throw f.bad("soak_entries", "must be a list of strings");
    shard.soak_entries.push_back(label.get<std::string>());
  }
  const Json& indices = f.array("entries");
  if (indices.size() != entries.size())
    throw f.bad("entries",
                fmt::format("lists {} entries but \"strategies\" has {}", indices.size(), entries.size()));
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const Json& k = indices[i];
    if (!k.is_number_unsigned() || k.get<std::uint64_t>() >= shard.soak_entries.size() ||
        k.get<std::uint64_t>() % shard.count != shard.index - 1 ||
        shard.soak_entries[k.get<std::size_t>()] != entries[i].label() ||
        (i > 0 && k.get<std::uint64_t>() <= shard.entries.back())) {
      throw f.bad("entries", fmt::format("[{}] is not entry {} of shard {}/{}", i, entries[i].label(),
                                         shard.index, shard.count));
    }
    shard.entries.push_back(k.get<std::uint32_t>());
  }
  return shard;
}

}  // namespace

std::string ManifestEntry::label() const {
  return allocator == Allocator::kGlibc ? strategy.name
                                        : fmt::format("{} [{}]", strategy.name, allocator_name(allocator));
}

RunManifest RunManifest::begin(const SoakConfig& config, const WorkloadSource& source) {
  RunManifest m;
  m.memsoak_version = MEMSOAK_VERSION;
  m.git_commit = MEMSOAK_GIT_COMMIT;
  m.build_id = executable_build_id();
  m.started_at =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  m.config = config;
  m.source_kind = source.kind;
  m.exec_command = source.command;
  if (heap_counters_available()) m.heap_counters = "memsoak-counting-malloc";
  if (source.kind == WorkloadSource::Kind::kExternal && config.exec_tracker) {
    if (auto library = find_tracker_library()) m.exec_tracker_library = library->string();
  }
  for (Allocator allocator : config.allocators) {
    for (const StrategySpec& spec : config.strategies) m.entries.push_back({spec, allocator, {}});
  }
  if (config.shard) {
    ShardInfo shard{config.shard->index, config.shard->count, {}, {}};
    std::vector<ManifestEntry> owned;
    for (std::size_t k = 0; k < m.entries.size(); ++k) {
      shard.soak_entries.push_back(m.entries[k].label());
      if (config.shard->owns(k)) {
        shard.entries.push_back(static_cast<std::uint32_t>(k));
        owned.push_back(m.entries[k]);
      }
    }
    m.entries = std::move(owned);
    m.shard = std::move(shard);
  }
  m.environment = describe_environment();
  return m;
}

OrderedJson RunManifest::to_json() const {
  OrderedJson entry_list = OrderedJson::array();
  for (const ManifestEntry& e : entries) {
    entry_list.push_back({{"name", e.strategy.name},
                          {"kind", e.strategy.kind},
                          {"recycles", e.strategy.recycles},
                          {"allocator", allocator_name(e.allocator)},
                          {"completed_runs", e.stats.completed_runs},
                          {"failed_runs", e.stats.failed_runs},
                          {"artifacts", e.stats.artifacts},
                          {"elapsed_ns", or_null(e.stats.elapsed_ns)},
                          {"cpu_user_ns", or_null(e.stats.cpu_user_ns)},
                          {"cpu_system_ns", or_null(e.stats.cpu_system_ns)},
                          {"stopped", or_null(e.stats.stopped)},
                          {"ended_by", or_null(e.stats.ended_by)},
                          {"trim_probe", trim_probe_to_json(e.stats)}});
  }
  OrderedJson source = {{"kind", source_kind_name(source_kind)},
                        {"command", source_kind == WorkloadSource::Kind::kExternal ? OrderedJson(exec_command)
                                                                                   : OrderedJson(nullptr)}};
  return {
      {"schema", kRunManifestSchema},
      {"memsoak_version", memsoak_version},
      {"git_commit", git_commit},
      {"build_id", build_id.empty() ? OrderedJson(nullptr) : OrderedJson(build_id)},
      {"started_at", started_at},
      {"command_line", config.command_line},
      {"scenario", config.scenario},
      {"workload", config.workload},
      {"leak", config.leak},
      {"workload_source", source},
      {"seed", config.seed},
      {"iterations", config.iterations},
      {"iterations_auto", config.iterations_auto},
      {"duration_ms", or_null(config.duration_ms)},
      {"warmup", config.warmup},
      {"warmup_auto", config.warmup_auto},
      {"budget_bytes_per_run", or_null(config.budget_bytes_per_run)},
      {"run_timeout_ms", zero_as_null(static_cast<std::uint64_t>(config.run_timeout_ms))},
      {"memory_limit_bytes", zero_as_null(config.memory_limit_bytes)},
      {"max_failures", zero_as_null(config.max_failures)},
      {"stacks", config.stacks.enabled ? OrderedJson{{"sample_bytes", or_null(config.stacks.sample_bytes)},
                                                     {"depth", config.stacks.depth}}
                                       : OrderedJson(nullptr)},
      {"heap_counters", or_null(heap_counters)},
      {"exec_tracker", or_null(exec_tracker_library)},
      {"strategies", entry_list},
      {"shard", shard_to_json(shard)},
      {"merged_from", merged_from},
      {"interrupted_by_signal", or_null(interrupted_by_signal)},
      {"workload_info", config.workload_info},
      {"workload_request", config.workload_request},
      {"environment", environment},
  };
}

RunManifest RunManifest::from_json(const Json& json, const std::string& where) {
  const int version = read_version(json, where);
  Fields f(json, where);
  RunManifest m;
  m.schema_version = version;
  m.memsoak_version = f.optional_string("memsoak_version").value_or("");
  m.git_commit = f.optional_string("git_commit").value_or("");
  m.build_id = f.optional_string("build_id").value_or("");
  m.started_at = f.optional_integer("started_at").value_or(0);
  SoakConfig& c = m.config;
  const Json& command_line = f.array("command_line");
  for (const Json& word : command_line) {
    if (!word.is_string()) throw f.bad("command_line", "must be a list of strings");
    c.command_line.push_back(word.get<std::string>());
  }
  c.scenario = f.string("scenario");
  c.workload = f.string("workload");
  c.leak = f.string("leak");
  c.seed = f.count("seed");
  c.iterations = f.count("iterations");
  c.warmup = f.count("warmup");
  // Absent in a run.json older than --iterations auto: a fixed length, and the warm-up taken as
  // given (an older memsoak recorded a default warm-up as a number too).
  c.iterations_auto = f.optional_bool("iterations_auto").value_or(false);
  c.warmup_auto = f.optional_bool("warmup_auto").value_or(false);
  if (f.has("duration_ms")) {
    c.duration_ms = static_cast<std::int64_t>(f.count_at_most("duration_ms", kMaxRunTimeoutMs));
    if (*c.duration_ms == 0) throw f.bad("duration_ms", "must be above 0");
  }
  c.budget_bytes_per_run = f.optional_count("budget_bytes_per_run");
  c.run_timeout_ms = f.has("run_timeout_ms")
                         ? static_cast<std::int64_t>(f.count_at_most("run_timeout_ms", kMaxRunTimeoutMs))
                         : 0;
  c.memory_limit_bytes = f.optional_count("memory_limit_bytes").value_or(0);
  c.max_failures = f.optional_count("max_failures").value_or(0);
  read_stacks(c.stacks, f);
  c.workload_info = f.has("workload_info") ? f.object("workload_info") : Json::object();
  c.workload_request = f.has("workload_request") ? f.object("workload_request") : Json::object();
  read_source(m, f, version);
  m.heap_counters = f.optional_string("heap_counters");
  m.exec_tracker_library = f.optional_string("exec_tracker");
  c.exec_tracker = m.exec_tracker_library.has_value();
  const Json& entries = f.array("strategies");
  for (std::size_t i = 0; i < entries.size(); ++i)
    m.entries.push_back(read_entry(entries[i], where, i, version));
  config_lists_from_entries(m);
  if (f.has("shard")) m.shard = read_shard(f, m.entries);
  if (f.has("merged_from")) m.merged_from = f.array("merged_from");
  if (f.has("interrupted_by_signal")) {
    m.interrupted_by_signal = static_cast<int>(f.count_at_most("interrupted_by_signal", kMaxSignal));
    if (*m.interrupted_by_signal == 0) throw f.bad("interrupted_by_signal", "must be a signal number, not 0");
  }
  m.environment = f.has("environment") ? f.object("environment") : Json::object();
  return m;
}

RunManifest RunManifest::read(const std::filesystem::path& run_dir) {
  const std::filesystem::path path = run_dir / "run.json";
  return from_json(read_json_file(path), path.string());
}

void RunManifest::write(const std::filesystem::path& run_dir) const {
  write_json_file(run_dir / "run.json", to_json());
}

}  // namespace memsoak::harness
