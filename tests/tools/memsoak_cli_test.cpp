// The memsoak command line: bad input exits 2 with one line naming the value and creates nothing;
// report and list behave as documented. Short runs only (the soaks are in soak_test.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "tests/sanitizers.h"
#include "tests/tools/run_memsoak.h"

namespace memsoak::testing {
namespace {
namespace fs = std::filesystem;

class MemsoakCli : public MemsoakTest {
 protected:
  // Exit 2, one line on stderr that contains `value`, and nothing left in the working directory.
  void expect_refused(const std::vector<std::string>& args, const std::string& value) {
    CommandResult r = memsoak(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(value), std::string::npos) << "stderr does not name '" << value << "': " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(fs::is_empty(work_)) << "bad input left files behind";
  }
};

TEST_F(MemsoakCli, UnknownStrategyIsRefused) {
  expect_refused({"run", "--strategy", "in-process,forky"}, "'forky'");
}

TEST_F(MemsoakCli, UnknownLeakModeIsRefused) { expect_refused({"run", "--leak", "leaky"}, "'leaky'"); }

TEST_F(MemsoakCli, UnknownWorkloadIsRefused) { expect_refused({"run", "--workload", "nope"}, "'nope'"); }

TEST_F(MemsoakCli, ZeroIterationsAreRefused) { expect_refused({"run", "--iterations", "0"}, "'0'"); }

TEST_F(MemsoakCli, NegativeIterationsAreRefused) { expect_refused({"run", "--iterations=-5"}, "-5"); }

TEST_F(MemsoakCli, UnparsableSizesAreRefused) {
  expect_refused({"run", "--budget", "12XB"}, "'12XB'");
  expect_refused({"run", "--workload", "synthetic", "--leak", "dropped:lots"}, "dropped:lots");
}

TEST_F(MemsoakCli, WarmupMustLeaveRunsToAnalyse) {
  expect_refused({"run", "--iterations", "100", "--warmup", "100"}, "'100'");
}

// --iterations auto, --max-iterations and --duration: a contradiction is refused, not resolved.
TEST_F(MemsoakCli, ContradictoryLengthOptionsAreRefused) {
  expect_refused({"run", "--iterations", "500", "--duration", "90s"}, "--duration '90s'");
  expect_refused({"run", "--max-iterations", "500"}, "--max-iterations '500'");
  expect_refused({"run", "--iterations", "300", "--max-iterations", "500"}, "--max-iterations '500'");
  expect_refused({"run", "--iterations", "auto", "--max-iterations", "99"}, "--max-iterations '99'");
  expect_refused({"run", "--duration", "10m", "--max-iterations", "50"}, "(the first look)");
  expect_refused({"run", "--duration", "0s"}, "--duration '0s'");
  expect_refused({"run", "--duration", "0"}, "--duration '0'");
  expect_refused({"run", "--duration", "soon"}, "--duration 'soon'");
  expect_refused({"run", "--iterations", "auto", "--warmup", "10"},
                 "--warmup: with --iterations auto the warm-up is a tenth of the runs done");
  expect_refused({"run", "--duration", "1m", "--warmup", "10"}, "--warmup:");
  expect_refused({"run", "--iterations", "automatic"}, "--iterations 'automatic'");
}

TEST_F(MemsoakCli, UnwritableOutIsRefused) {
  // Under a regular file nothing can be created, even as root.
  fs::path blocker = fs::temp_directory_path() / ("memsoak-blocker-" + std::to_string(::getpid()));
  std::ofstream(blocker) << "x";
  expect_refused({"run", "--iterations", "50", "--out", (blocker / "run").string()},
                 (blocker / "run").string());
  fs::remove(blocker);
}

TEST_F(MemsoakCli, NonEmptyOutIsRefused) {
  fs::create_directories(work_ / "old");
  std::ofstream(work_ / "old" / "keep.txt") << "earlier results";
  CommandResult r = memsoak({"run", "--iterations", "50", "--out", "old"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not empty"), std::string::npos) << r.err;
  EXPECT_EQ(read_text(work_ / "old" / "keep.txt"), "earlier results");
}

TEST_F(MemsoakCli, UnknownOptionIsUsageError) {
  CommandResult r = memsoak({"run", "--frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--frobnicate"), std::string::npos) << r.err;
}

TEST_F(MemsoakCli, DefaultOutputGoesToATimestampedDirectoryWithALatestLink) {
  CommandResult r = memsoak({"run", "--iterations", "60", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::is_symlink(work_ / "memsoak-out" / "latest"));
  fs::path latest = fs::canonical(work_ / "memsoak-out" / "latest");
  EXPECT_TRUE(fs::exists(latest / "report.json"));
  EXPECT_TRUE(fs::exists(latest / "run.json"));
  EXPECT_TRUE(fs::exists(latest / "samples.bin"));
  // --quiet prints only the report's path.
  EXPECT_EQ(fs::canonical(work_ / r.out.substr(0, r.out.size() - 1)), latest / "report.html");
}

TEST_F(MemsoakCli, RunJsonRecordsConfigAndEnvironment) {
  ASSERT_EQ(memsoak({"run", "--iterations", "40", "--seed", "9", "--out", "r", "--quiet"}).exit_code, 0);
  auto run = nlohmann::json::parse(read_text(work_ / "r" / "run.json"));
  EXPECT_EQ(run["schema"], "memsoak.run/2");
  EXPECT_EQ(run["seed"], 9);
  EXPECT_EQ(run["iterations"], 40);
  EXPECT_EQ(run["warmup"], 4);
  EXPECT_EQ(run["strategies"].size(), 4u) << "in-process, fork, zygote, recycle:100";
  EXPECT_EQ(run["strategies"][1]["completed_runs"], 40);
  for (const char* key : {"kernel", "glibc", "compiler", "cpus", "memory_bytes"}) {
    EXPECT_TRUE(run["environment"].contains(key)) << key;
  }
  EXPECT_TRUE(run["git_commit"].is_string());
}

// Re-executed processes (an entry under another allocator, each run of spawn) run the binary
// that started the soak, not whatever the path holds now: replacing the executable mid-soak, as a
// rebuild does, changes nothing.
TEST_F(MemsoakCli, ReplacingTheExecutableDuringASoakDoesNotChangeWhatRuns) {
  if (kSanitizerOwnsMalloc) GTEST_SKIP() << kNoPreloadUnderSanitizer << " (--allocator jemalloc)";
  const std::string copy = (work_ / "memsoak-copy").string();
  std::filesystem::copy_file(MEMSOAK_BINARY, copy);
  const std::string command =
      "cd " + shell_quote(work_.string()) + " && { (" + shell_quote(copy) +
      " run --workload synthetic --strategy spawn,in-process --allocator glibc,jemalloc"
      " --iterations 60 --out r --quiet >/dev/null 2>err; echo $? >rc) &"
      " for i in $(seq 1000); do [ -s r/samples.bin ] && break; sleep 0.01; done;"  // the soak has started
      " cp /bin/false memsoak-new && mv memsoak-new memsoak-copy && wait; }";
  ASSERT_EQ(std::system(command.c_str()), 0);
  EXPECT_EQ(read_text(work_ / "rc"), "0\n") << read_text(work_ / "err");
  nlohmann::json r = report("r");
  ASSERT_EQ(r["strategies"].size(), 4u);
  for (const auto& s : r["strategies"]) {
    EXPECT_EQ(s["runs"], 60) << s["strategy"] << " " << s["allocator"];
    EXPECT_EQ(s["failed_runs"], 0) << s["strategy"] << " " << s["allocator"];
  }
}

TEST_F(MemsoakCli, ReportRebuildsFromTheRunDirectory) {
  ASSERT_EQ(memsoak({"run", "--strategy", "in-process,fork", "--iterations", "100", "--out", "r", "--quiet"})
                .exit_code,
            0);
  nlohmann::json first = report("r");
  fs::remove(work_ / "r" / "report.json");
  CommandResult r = memsoak({"report", "r"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(report("r"), first);
  EXPECT_NE(r.out.find("in-process"), std::string::npos);
}

TEST_F(MemsoakCli, ReportWorksOnARunCutShortByACrash) {
  ASSERT_EQ(memsoak({"run", "--strategy", "in-process,fork", "--iterations", "100", "--out", "r", "--quiet"})
                .exit_code,
            0);
  // A crash mid-write leaves part of a record at the end.
  fs::resize_file(work_ / "r" / "samples.bin", fs::file_size(work_ / "r" / "samples.bin") - 100);
  CommandResult r = memsoak({"report", "r"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(strategy(report("r"), "fork")["runs"], 99);
}

TEST_F(MemsoakCli, ReportRefusesWhatIsNotARunDirectory) {
  CommandResult missing = memsoak({"report", "nowhere"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nowhere"), std::string::npos);
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;
  fs::create_directories(work_ / "junk");
  std::ofstream(work_ / "junk" / "run.json") << "{ not json";
  CommandResult junk = memsoak({"report", "junk"});
  EXPECT_EQ(junk.exit_code, 2);
  EXPECT_NE(junk.err.find("run.json"), std::string::npos) << junk.err;
  EXPECT_EQ(std::count(junk.err.begin(), junk.err.end(), '\n'), 1) << junk.err;
  fs::create_directories(work_ / "dir-as-file" / "run.json");
  EXPECT_EQ(memsoak({"report", "dir-as-file"}).exit_code, 2);
}

TEST_F(MemsoakCli, ReportRefusesANegativeBudgetInRunJson) {
  ASSERT_EQ(memsoak({"run", "--iterations", "40", "--out", "r", "--quiet"}).exit_code, 0);
  auto run = nlohmann::json::parse(read_text(work_ / "r" / "run.json"));
  run["budget_bytes_per_run"] = -5;
  std::ofstream(work_ / "r" / "run.json") << run.dump();
  CommandResult r = memsoak({"report", "r"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("budget_bytes_per_run"), std::string::npos) << r.err;
}

TEST_F(MemsoakCli, UnknownCommandIsNamed) {
  CommandResult r = memsoak({"bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'bogus'"), std::string::npos) << r.err;
}

TEST_F(MemsoakCli, EmptyValuesAreRefusedNotDefaulted) {
  expect_refused({"run", "--out", ""}, "--out ''");
  expect_refused({"run", "--warmup", ""}, "--warmup ''");
}

TEST_F(MemsoakCli, ModelOptionIsOnlyForTheReranker) {
  expect_refused({"run", "--workload", "synthetic", "--model", "somewhere"}, "--model");
  expect_refused({"run", "--model", "no-such-model"}, "no-such-model");
}

TEST_F(MemsoakCli, ModelGenerateWritesAModelOnceAndRefusesBadPresets) {
  CommandResult r = memsoak({"model", "generate", "--preset", "tiny", "--out", "m", "--seed", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* file : {"config.json", "vocab.txt", "model.safetensors"})
    EXPECT_TRUE(fs::exists(work_ / "m" / file));
  CommandResult again = memsoak({"model", "generate", "--preset", "tiny", "--out", "m"});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  fs::remove_all(work_ / "m");
  expect_refused({"model", "generate", "--preset", "gigantic", "--out", "g"}, "gigantic");
}

TEST_F(MemsoakCli, RerankPrintsResultsSortedByScoreAsJson) {
  ASSERT_EQ(memsoak({"model", "generate", "--preset", "tiny", "--out", "m"}).exit_code, 0);
  std::ofstream(work_ / "docs.txt") << "bread rises in a warm oven\nthe kernel schedules threads\n"
                                       "tomato plants need sun\nbread rises in a warm oven\n";
  CommandResult r =
      memsoak({"rerank", "--model", "m", "--query", "how to bake bread", "--docs", "docs.txt", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json results = nlohmann::json::parse(r.out)["results"];
  ASSERT_EQ(results.size(), 4u);
  const char* texts[] = {"bread rises in a warm oven", "the kernel schedules threads",
                         "tomato plants need sun", "bread rises in a warm oven"};
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i]["text"], texts[results[i]["index"].get<std::size_t>()]);
    if (i > 0) {
      EXPECT_GE(results[i - 1]["score"].get<double>(), results[i]["score"].get<double>());
    }
  }
  // Documents 0 and 3 are the same text: equal scores, and the lower index ranks first.
  std::vector<std::size_t> order;
  for (const auto& result : results) order.push_back(result["index"]);
  EXPECT_LT(std::find(order.begin(), order.end(), 0) - order.begin(),
            std::find(order.begin(), order.end(), 3) - order.begin());

  CommandResult top2 =
      memsoak({"rerank", "--model", "m", "--query", "q", "--docs", "docs.txt", "--top-k", "2", "--json"});
  EXPECT_EQ(nlohmann::json::parse(top2.out)["results"].size(), 2u);
}

TEST_F(MemsoakCli, RerankRefusesBadInput) {
  ASSERT_EQ(memsoak({"model", "generate", "--preset", "tiny", "--out", "m"}).exit_code, 0);
  std::ofstream(work_ / "docs.txt") << "one\ntwo\n";
  std::ofstream(work_ / "empty.txt") << "";
  for (const auto& [args, named] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--model", "m", "--query", "q", "--docs", "missing.txt"}, "missing.txt"},
           {{"--model", "m", "--query", "q", "--docs", "empty.txt"}, "empty.txt"},
           {{"--model", "m", "--query", "q", "--docs", "docs.txt", "--top-k", "0"}, "--top-k"},
           {{"--model", "nowhere", "--query", "q", "--docs", "docs.txt"}, "nowhere"},
           {{"--query", "q", "--docs", "docs.txt"}, "--model"}}) {
    std::vector<std::string> full = {"rerank"};
    full.insert(full.end(), args.begin(), args.end());
    CommandResult r = memsoak(full);
    EXPECT_EQ(r.exit_code, 2) << named << ": " << r.err;
    EXPECT_NE(r.err.find(named), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST_F(MemsoakCli, ExecRefusesStrategiesAndOptionsThatDoNotApply) {
  expect_refused({"run", "--exec", "true", "--strategy", "zygote"}, "'zygote'");
  expect_refused({"run", "--exec", "true", "--strategy", "in-process+trim"}, "'in-process+trim'");
  expect_refused({"run", "--exec", "true", "--strategy", "spawn"}, "'spawn'");
  expect_refused({"run", "--exec", "true", "--leak", "none"}, "--exec");
  expect_refused({"run", "--exec", "  "}, "--exec ''");
}

TEST_F(MemsoakCli, UnknownAllocatorIsRefused) { expect_refused({"run", "--allocator", "hoard"}, "'hoard'"); }

TEST_F(MemsoakCli, BadFaultOptionsAreRefused) {
  expect_refused({"run", "--run-timeout", "soon"}, "'soon'");
  expect_refused({"run", "--run-timeout", "0"}, "--run-timeout");
  expect_refused({"run", "--child-memory-limit", "1KiB"}, "'1KiB'");
  expect_refused({"run", "--max-failures", "-1"}, "-1");
}

TEST_F(MemsoakCli, ListNamesStrategiesAndLeakModes) {
  CommandResult r = memsoak({"list"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* name : {"in-process", "fork", "synthetic", "dropped:SIZE", "bounded:COUNTxSIZE",
                           "reranker", "model-registry", "fragmentation"}) {
    EXPECT_NE(r.out.find(name), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace memsoak::testing
