// Scenario files, shards, merge and compare on the command line: short synthetic soaks.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "tests/tools/run_memsoak.h"

namespace memsoak::testing {
namespace {
namespace fs = std::filesystem;

// The soak of the merge tests: a leaking in-process entry, a stable fork, a bounded recycle.
const std::vector<std::string> kSoak = {"run",
                                        "--workload",
                                        "synthetic",
                                        "--leak",
                                        "dropped:4KiB",
                                        "--strategy",
                                        "in-process,fork,recycle:20",
                                        "--iterations",
                                        "200",
                                        "--seed",
                                        "1",
                                        "--quiet"};

class ShardMergeCli : public MemsoakTest {
 protected:
  CommandResult soak(const std::vector<std::string>& extra, const std::vector<std::string>& base = kSoak) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return memsoak(args);
  }
  void soak_ok(const std::vector<std::string>& extra, const std::vector<std::string>& base = kSoak) {
    CommandResult r = soak(extra, base);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  nlohmann::json json_file(const fs::path& path) const {
    return nlohmann::json::parse(read_text(work_ / path));
  }
  // Exit 2, one line naming `what`, and no (partial) output directory.
  void expect_merge_refused(const std::vector<std::string>& inputs, const std::string& what) {
    std::vector<std::string> args = {"merge", "--quiet", "--out", "m"};
    args.insert(args.end(), inputs.begin(), inputs.end());
    CommandResult r = memsoak(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << "stderr does not name '" << what << "': " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(work_ / "m"));
    for (const auto& entry : fs::directory_iterator(work_))
      EXPECT_EQ(entry.path().filename().string().find(".m.merging"), std::string::npos) << entry.path();
  }
  void write(const fs::path& path, const std::string& text) const { std::ofstream(work_ / path) << text; }
};

TEST_F(ShardMergeCli, TwoShardsMergeToTheUnshardedSoaksVerdicts) {
  soak_ok({"--out", "whole"});
  soak_ok({"--shard", "1/2", "--out", "s1"});
  soak_ok({"--shard", "2/2", "--out", "s2"});
  // Round-robin: entries 0 and 2 in shard 1, entry 1 in shard 2.
  nlohmann::json s1 = json_file("s1/run.json");
  ASSERT_EQ(s1["strategies"].size(), 2u);
  EXPECT_EQ(s1["strategies"][1]["name"], "recycle:20");
  EXPECT_EQ(s1["shard"]["index"], 1);
  EXPECT_EQ(s1["shard"]["count"], 2);
  EXPECT_EQ(s1["shard"]["entries"], nlohmann::json({0, 2}));
  EXPECT_TRUE(s1["build_id"].is_string());

  CommandResult merged =
      memsoak({"merge", "--out", "merged", "s2", "s1"});  // order of inputs does not matter
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_NE(merged.out.find("merged/report.html"), std::string::npos) << merged.out;
  nlohmann::json whole = report("whole");
  nlohmann::json m = report("merged");
  ASSERT_EQ(m["strategies"].size(), whole["strategies"].size());
  for (std::size_t i = 0; i < whole["strategies"].size(); ++i) {
    const auto& w = whole["strategies"][i];
    const auto& g = m["strategies"][i];
    EXPECT_EQ(g["strategy"], w["strategy"]);
    // The merged entry is the shard's entry, analysed again: the same verdict as the shard's own
    // report. (The unsharded soak is another soak: a verdict at the edge of stable may differ.)
    const nlohmann::json shard = report(i % 2 == 0 ? "s1" : "s2");
    EXPECT_EQ(g["verdict"], strategy(shard, w["strategy"].get<std::string>())["verdict"]) << w["strategy"];
    EXPECT_EQ(g["runs"], w["runs"]) << w["strategy"];
    EXPECT_EQ(g["analysed_runs"], w["analysed_runs"]) << w["strategy"];
    EXPECT_EQ(g["digest_mismatches"], 0) << w["strategy"];
  }
  EXPECT_EQ(strategy(m, "in-process")["verdict"], "leak");
  // Never growth; 180 analysed runs of fork's RSS may not yet exclude 64 B/run under load.
  EXPECT_TRUE(strategy(m, "fork")["verdict"] == "stable" || strategy(m, "fork")["verdict"] == "inconclusive")
      << strategy(m, "fork")["verdict_reason"];
  nlohmann::json run = json_file("merged/run.json");
  EXPECT_TRUE(run["shard"].is_null());
  EXPECT_EQ(run["merged_from"].size(), 2u);
  EXPECT_EQ(run["merged_from"][0]["shard"], "1/2");
  EXPECT_EQ(fs::file_size(work_ / "merged" / "samples.bin"), fs::file_size(work_ / "whole" / "samples.bin"));
  // The stacks each shard left follow their entry to its place in the whole soak.
  EXPECT_EQ(strategy(m, "recycle:20")["artifact_files"],
            strategy(report("s1"), "recycle:20")["artifact_files"]);
  EXPECT_GT(strategy(m, "recycle:20")["artifact_files"], 0);
}

TEST_F(ShardMergeCli, MergeRefusesShardsThatDoNotFitTogether) {
  const std::vector<std::string> small = {
      "run", "--workload", "synthetic", "--strategy", "in-process,fork", "--iterations", "40", "--quiet"};
  soak_ok({"--shard", "1/2", "--out", "s1"}, small);
  soak_ok({"--shard", "2/2", "--out", "s2"}, small);
  soak_ok({"--shard", "2/2", "--seed", "7", "--out", "other"}, small);
  soak_ok({"--shard", "1/1", "--out", "thirds"}, small);  // another division of the same soak
  fs::copy(work_ / "s1", work_ / "s1-copy", fs::copy_options::recursive);
  expect_merge_refused({"s1", "other"}, "'other': another soak");
  expect_merge_refused({"s1", "other"}, "\"seed\"");
  expect_merge_refused({"s1", "s1-copy", "s2"}, "'s1-copy': shard 1/2 overlaps 's1'");
  expect_merge_refused({"s1"}, "shard 2/2 is missing (its entries: fork)");
  expect_merge_refused({"s1", "s1", "s2"}, "given twice");
  expect_merge_refused({"s1", "thirds"}, "'thirds'");

  fs::copy(work_ / "s2", work_ / "cut", fs::copy_options::recursive);
  fs::resize_file(work_ / "cut" / "samples.bin", fs::file_size(work_ / "cut" / "samples.bin") - 10);
  expect_merge_refused({"s1", "cut"}, "truncated");
  fs::copy(work_ / "s2", work_ / "short", fs::copy_options::recursive);
  fs::resize_file(work_ / "short" / "samples.bin", fs::file_size(work_ / "short" / "samples.bin") - 176);
  expect_merge_refused({"s1", "short"}, "'short': samples.bin holds 39 runs of fork but run.json says 40");
  fs::copy(work_ / "s2", work_ / "nojson", fs::copy_options::recursive);
  fs::remove(work_ / "nojson" / "run.json");
  expect_merge_refused({"s1", "nojson"}, "nojson/run.json");
  expect_merge_refused({"s1", "nowhere"}, "'nowhere'");
  fs::copy(work_ / "s2", work_ / "rebuilt", fs::copy_options::recursive);
  nlohmann::json rebuilt = json_file("rebuilt/run.json");
  rebuilt["build_id"] = "0123";
  write("rebuilt/run.json", rebuilt.dump());
  expect_merge_refused({"s1", "rebuilt"}, "'rebuilt': another build than 's1'");

  fs::create_directories(work_ / "full");
  write("full/x", "keep");
  CommandResult r = memsoak({"merge", "--out", "full", "s1", "s2"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(read_text(work_ / "full" / "x"), "keep");
  ASSERT_EQ(memsoak({"merge", "--quiet", "--out", "m", "s1", "s2"}).exit_code, 0);
}

TEST_F(ShardMergeCli, AShardWithoutEntriesOrABadShardIsRefused) {
  for (const auto& [shard, what] :
       std::vector<std::pair<std::string, std::string>>{{"3/3", "3 shards would leave some with none"},
                                                        {"1/3", "use at most 2"},
                                                        {"0/2", "'0/2'"},
                                                        {"3/2", "'3/2'"},
                                                        {"1", "'1'"},
                                                        {"a/2", "a/2"}}) {
    CommandResult r = memsoak({"run", "--workload", "synthetic", "--strategy", "in-process,fork",
                               "--iterations", "40", "--shard", shard});
    EXPECT_EQ(r.exit_code, 2) << shard;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(fs::is_empty(work_)) << shard;
  }
}

TEST_F(ShardMergeCli, TheSeedScenarioFileIsTheDefaultScenario) {
  const std::string seed = std::string(MEMSOAK_SOURCE_DIR) + "/scenarios/seed-reranker.json";
  // The command line overrides the file: a short soak of the same scenario.
  ASSERT_EQ(memsoak({"run", "--scenario", seed, "--iterations", "40", "--out", "file", "--quiet"}).exit_code,
            0);
  ASSERT_EQ(memsoak({"run", "--iterations", "40", "--out", "default", "--quiet"}).exit_code, 0);
  nlohmann::json file = json_file("file/run.json");
  nlohmann::json plain = json_file("default/run.json");
  for (const char* key : {"workload", "leak", "seed", "iterations", "warmup", "workload_request", "stacks"})
    EXPECT_EQ(file[key], plain[key]) << key;
  ASSERT_EQ(file["strategies"].size(), plain["strategies"].size());
  for (std::size_t i = 0; i < plain["strategies"].size(); ++i) {
    EXPECT_EQ(file["strategies"][i]["name"], plain["strategies"][i]["name"]);
    EXPECT_EQ(file["strategies"][i]["allocator"], plain["strategies"][i]["allocator"]);
  }
  EXPECT_EQ(report("file")["strategies"][0]["verdict"], "leak");
}

TEST_F(ShardMergeCli, ScenarioFileErrorsNameTheFileAndKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"workload": "synthetic", "iterationz": 40})", "s.json: \"iterationz\": unknown key"},
      {R"({"iterations": true})", "s.json: \"iterations\": must be a string, a whole number"},
      {R"({"iterations": -3})", "s.json: \"iterations\""},
      {R"({"iterations": 0})", "s.json: \"iterations\" '0'"},
      {R"({"strategy": ["in-process", "forky"]})", "s.json: \"strategy\" 'forky'"},
      {R"({"workload": "synthetic", "leak": "leaky"})", "s.json: \"leak\" 'leaky'"},
      {R"({"budget": "12XB"})", "s.json: \"budget\" '12XB'"},
      {R"({"out": "elsewhere"})", "s.json: \"out\": belongs on the command line"},
      {R"(["iterations", 40])", "s.json: must be a JSON object"},
      {R"({"iterations": 40,)", "s.json"},
  };
  for (const auto& [text, what] : cases) {
    write("s.json", text);
    CommandResult r = memsoak({"run", "--scenario", "s.json"});
    EXPECT_EQ(r.exit_code, 2) << text;
    EXPECT_NE(r.err.find(what), std::string::npos) << text << " -> " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    fs::remove(work_ / "s.json");
    EXPECT_TRUE(fs::is_empty(work_)) << text;
  }
  // A file's bad value that the command line overrides is never used.
  write("s.json", R"({"workload": "synthetic", "iterations": 0, "strategy": "in-process"})");
  CommandResult ok = memsoak({"run", "--scenario", "s.json", "--iterations", "40", "--out", "r", "--quiet"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST_F(ShardMergeCli, CompareGatesTheIncreaseInGrowth) {
  const std::vector<std::string> base = {
      "run", "--workload", "synthetic", "--strategy", "in-process,fork", "--iterations", "1000", "--quiet"};
  // 1,000 runs: at 200, fork's RSS could not yet exclude 64 B/run (inconclusive fails a gate).
  soak_ok({"--leak", "none", "--out", "clean"}, base);
  soak_ok({"--leak", "dropped:4KiB", "--out", "leaky"}, base);
  CommandResult worse = memsoak({"compare", "clean", "leaky", "--budget", "1KiB"});
  EXPECT_EQ(worse.exit_code, 1) << worse.err;
  EXPECT_NE(worse.err.find("in-process: growth rose by"), std::string::npos) << worse.err;
  EXPECT_NE(worse.out.find(" -> leak"), std::string::npos) << worse.out;
  nlohmann::json c = json_file("leaky/compare/compare.json");
  EXPECT_EQ(c["schema"], "memsoak.compare/1");
  ASSERT_EQ(c["entries"].size(), 2u);
  // The clean in-process RSS may still be settling a few hundred runs in: stable or a plateau.
  EXPECT_TRUE(c["entries"][0]["base_verdict"] == "stable" || c["entries"][0]["base_verdict"] == "plateau")
      << c["entries"][0]["base_verdict"];
  EXPECT_EQ(c["entries"][0]["new_verdict"], "leak");
  EXPECT_TRUE(c["entries"][0]["over_budget"]);
  EXPECT_FALSE(c["entries"][1]["over_budget"]) << "fork does not leak in either";
  EXPECT_NEAR(c["entries"][0]["heap"]["delta_bytes_per_run"].get<double>(), 4104, 200);
  EXPECT_TRUE(c["stacks_compared"]);
  ASSERT_FALSE(c["sites"].empty());
  EXPECT_EQ(c["sites"][0]["change"], "new");
  EXPECT_TRUE(fs::exists(work_ / "leaky" / "compare" / "compare.md"));

  CommandResult better = memsoak({"compare", "leaky", "clean", "--budget", "1KiB", "--out", "cmp"});
  EXPECT_EQ(better.exit_code, 0) << better.err;
  EXPECT_EQ(json_file("cmp/compare.json")["sites"][0]["change"], "gone");
  EXPECT_EQ(memsoak({"compare", "clean", "leaky", "--quiet", "--out", "cmp2"}).exit_code, 0)
      << "no budget, no gate";
  EXPECT_EQ(memsoak({"compare", "clean", "leaky", "--budget", "10KiB", "--out", "cmp3"}).exit_code, 0);

  CommandResult missing = memsoak({"compare", "clean", "nowhere"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("'nowhere'"), std::string::npos) << missing.err;
  CommandResult bad_budget = memsoak({"compare", "clean", "leaky", "--budget", "lots"});
  EXPECT_EQ(bad_budget.exit_code, 2);
  EXPECT_NE(bad_budget.err.find("'lots'"), std::string::npos) << bad_budget.err;
}

}  // namespace
}  // namespace memsoak::testing
