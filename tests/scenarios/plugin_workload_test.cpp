// The plugin loader: the shipped plugins load and run, the synthetic plugin computes what the
// built-in workload computes, plugin failures reach the harness, and bad libraries are refused.
#include "scenarios/plugin_workload.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "harness/errors.h"
#include "harness/heap_counters.h"
#include "harness/sampler.h"
#include "harness/strategy.h"
#include "scenarios/synthetic.h"
#include "scenarios/workloads.h"

namespace memsoak::scenarios {
namespace {
namespace fs = std::filesystem;

// Built by tests/CMakeLists.txt; see tests/scenarios/plugin_fixtures.c for the fixtures.
const fs::path kSyntheticPlugin = MEMSOAK_SYNTHETIC_PLUGIN;
const fs::path kExamplePlugin = MEMSOAK_EXAMPLE_PLUGIN;
const fs::path kFaultyPlugin = MEMSOAK_FIXTURE_FAULTY;

std::unique_ptr<harness::Workload> set_up(const fs::path& library, const std::string& config) {
  auto workload = make_plugin_workload(library, config)();
  workload->setup();
  return workload;
}

std::unique_ptr<harness::Workload> set_up_builtin(std::string_view leak, std::uint64_t seed) {
  auto workload = make_synthetic_workload(parse_synthetic_leak(leak), seed)();
  workload->setup();
  return workload;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// make_plugin_workload refuses `library` with one InputError line naming the path and `problem`.
void expect_refused(const fs::path& library, std::string_view problem, const std::string& config = "") {
  try {
    make_plugin_workload(library, config);
    ADD_FAILURE() << "accepted " << library;
  } catch (const InputError& e) {
    EXPECT_TRUE(contains(e.what(), "'" + library.string() + "'")) << e.what();
    EXPECT_TRUE(contains(e.what(), problem)) << e.what();
    EXPECT_FALSE(contains(e.what(), "\n")) << e.what();
  }
}

TEST(PluginWorkload, SyntheticPluginGivesTheBuiltInWorkloadsDigests) {
  auto plugin = set_up(kSyntheticPlugin, "leak=dropped:4096;seed=1");
  auto builtin = set_up_builtin("dropped:4096", 1);
  for (std::uint64_t i = 0; i <= 50; ++i) EXPECT_EQ(plugin->run(i), builtin->run(i)) << "run " << i;

  auto other_seed = set_up(kSyntheticPlugin, "seed=7");
  auto builtin_other_seed = set_up_builtin("none", 7);
  EXPECT_EQ(other_seed->run(3), builtin_other_seed->run(3));
  EXPECT_NE(other_seed->run(3), plugin->run(3));
}

TEST(PluginWorkload, ExamplePluginDigestDependsOnlyOnConfigAndRun) {
  auto plain = set_up(kExamplePlugin, "strings=64");
  auto leaky = set_up(kExamplePlugin, "strings=64;leak=128");
  auto longer = set_up(kExamplePlugin, "strings=65");
  for (std::uint64_t i = 0; i < 10; ++i) EXPECT_EQ(plain->run(i), leaky->run(i)) << "run " << i;
  EXPECT_EQ(plain->run(5), plain->run(5));
  EXPECT_NE(plain->run(5), plain->run(6));
  EXPECT_NE(plain->run(5), longer->run(5));
}

// The counting allocator is linked into this test, and the plugin's malloc calls resolve to it,
// so live heap is exact; RSS is checked loosely, with a leak large enough to dominate noise.
TEST(PluginWorkload, ExamplePluginLeakGrowsLiveHeapAndRssInProcess) {
  ASSERT_TRUE(harness::heap_counters_available());
  constexpr int kRuns = 100;
  auto heap_growth = [&](const std::string& config) {
    auto workload = set_up(kExamplePlugin, config);
    workload->run(0);  // first-run allocations (stdio, qsort) out of the way
    std::int64_t before = harness::read_heap_counters().live_bytes;
    for (int i = 1; i <= kRuns; ++i) workload->run(static_cast<std::uint64_t>(i));
    return harness::read_heap_counters().live_bytes - before;
  };
  EXPECT_GE(heap_growth("leak=4096"), kRuns * 4096);
  EXPECT_LE(heap_growth("leak=4096"), kRuns * (4096 + 64));
  EXPECT_LT(heap_growth(""), 4096);

  harness::ProcessSampler sampler;
  auto workload = set_up(kExamplePlugin, "strings=8;leak=65536");
  workload->run(0);
  std::int64_t rss_before = sampler.rss_bytes();
  for (int i = 1; i <= 64; ++i) workload->run(static_cast<std::uint64_t>(i));
  EXPECT_GT(sampler.rss_bytes() - rss_before, 2 << 20) << "64 runs leaking 64 KiB each";
}

TEST(PluginWorkload, DescribeSaysWhatRunJsonRecords) {
  nlohmann::json info = describe_plugin(kExamplePlugin);
  EXPECT_EQ(info["name"], "string-table");
  EXPECT_EQ(info["abi_version"], 1);
  EXPECT_EQ(info["library"], fs::absolute(kExamplePlugin).string());
  EXPECT_EQ(info["has_check_config"], true);
}

TEST(PluginWorkload, MakeWorkloadBuildsThePluginWhenOneIsGiven) {
  BuiltWorkload built = make_workload({.plugin = kSyntheticPlugin, .plugin_config = "seed=3"});
  EXPECT_EQ(built.info["name"], "plugin");
  EXPECT_EQ(built.info["plugin"]["name"], "synthetic");
  EXPECT_EQ(built.info["config"], "seed=3");
  auto plugin = built.factory();
  plugin->setup();
  EXPECT_EQ(plugin->run(9), set_up_builtin("none", 3)->run(9));
  EXPECT_THROW(make_workload({.plugin = "/nonexistent/plugin.so"}), InputError);
}

TEST(PluginWorkloadRefuses, AMissingFile) { expect_refused("/nonexistent/dir/plugin.so", "no such file"); }

TEST(PluginWorkloadRefuses, ADirectory) { expect_refused(fs::temp_directory_path(), "not a regular file"); }

TEST(PluginWorkloadRefuses, ATextFileNamedSo) {
  fs::path text = fs::temp_directory_path() / ("memsoak-plugin-test-" + std::to_string(::getpid()) + ".so");
  std::ofstream(text) << "this is not an ELF file, whatever its name says\n";
  expect_refused(text, "cannot be loaded as a shared library");
  fs::remove(text);
}

TEST(PluginWorkloadRefuses, ALibraryWithoutTheEntryPoint) {
  expect_refused(MEMSOAK_FIXTURE_NO_ENTRY, "no memsoak_plugin_entry symbol");
}

TEST(PluginWorkloadRefuses, AnEntryPointReturningNoTable) {
  expect_refused(MEMSOAK_FIXTURE_NULL_TABLE, "returned no table");
}

TEST(PluginWorkloadRefuses, AnotherAbiVersionNamingBoth) {
  expect_refused(MEMSOAK_FIXTURE_ABI2, "built for plugin ABI version 2, this memsoak supports version 1");
  EXPECT_THROW(describe_plugin(MEMSOAK_FIXTURE_ABI2), InputError);
}

TEST(PluginWorkloadRefuses, ATableSmallerThanAbi1) {
  expect_refused(MEMSOAK_FIXTURE_SMALL_STRUCT, "plugin table is 16 bytes");
}

TEST(PluginWorkloadRefuses, ANullFunctionPointer) {
  expect_refused(MEMSOAK_FIXTURE_NULL_RUN, "no run function");
}

TEST(PluginWorkloadRefuses, AConfigThePluginRefuses) {
  expect_refused(kFaultyPlugin, "refuses config 'refuse-me': refuse-me is not a setting", "refuse-me");
  expect_refused(kSyntheticPlugin, "'bogus'", "leak=bogus");
  expect_refused(kSyntheticPlugin, "unknown key 'colour'", "seed=1;colour=red");
  expect_refused(kExamplePlugin, "config item 'strings=0'", "strings=0;leak=1");
}

TEST(PluginWorkload, ARunFailureCarriesThePluginsMessageAsOneLine) {
  auto workload = set_up(kFaultyPlugin, "");
  EXPECT_EQ(workload->run(0), 7u);
  try {
    workload->run(1);
    ADD_FAILURE() << "run 1 should fail";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "plugin fixture: odd runs fail with a second line");
  }
  try {
    workload->run(4);
    ADD_FAILURE() << "run 4 should fail";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "plugin fixture: returned 3 without a message");
  }
}

TEST(PluginWorkload, TheHarnessRecordsAFailedRunAndGoesOn) {
  for (const harness::StrategySpec& spec : harness::parse_strategy_list("in-process,fork")) {
    auto strategy = harness::make_strategy(
        spec, harness::StrategyContext{
                  .workload = harness::WorkloadSource::plugin(make_plugin_workload(kFaultyPlugin, ""))});
    strategy->start();
    harness::RunOutcome failed = strategy->run(3);
    EXPECT_FALSE(failed.ok) << spec.name;
    EXPECT_EQ(failed.failure, "plugin fixture: odd runs fail with a second line") << spec.name;
    harness::RunOutcome ok = strategy->run(2);
    EXPECT_TRUE(ok.ok) << spec.name << ": " << ok.failure;
    EXPECT_EQ(ok.digest, 2u * 31 + 7) << spec.name;
    strategy->stop();
  }
}

TEST(PluginWorkload, ASetupFailureThrowsWithThePluginsMessage) {
  auto workload = make_plugin_workload(kFaultyPlugin, "fail-setup")();
  try {
    workload->setup();
    FAIL() << "setup should fail";
  } catch (const InputError& e) {
    EXPECT_TRUE(contains(e.what(), "cannot open model.bin: gone")) << e.what();
    EXPECT_TRUE(contains(e.what(), kFaultyPlugin.string())) << e.what();
  }
  EXPECT_THROW(workload->run(0), std::logic_error) << "no run without a successful setup";

  auto fork = harness::make_strategy(
      harness::parse_strategy_list("fork").front(),
      harness::StrategyContext{
          .workload = harness::WorkloadSource::plugin(make_plugin_workload(kFaultyPlugin, "fail-setup"))});
  fork->start();
  harness::RunOutcome outcome = fork->run(0);
  EXPECT_FALSE(outcome.ok);
  EXPECT_TRUE(contains(outcome.failure, "cannot open model.bin: gone")) << outcome.failure;
  fork->stop();
}

}  // namespace
}  // namespace memsoak::scenarios
