// The verdict of one entry from its records, for the cases that used to go wrong: a crash's
// replacement warming up, a soak cut short, a recycling strategy with few workers, and the test a
// soak that stops itself makes at each look.
#include <gtest/gtest.h>

#include <vector>

#include "harness/run_manifest.h"
#include "harness/sequential_looks.h"
#include "reports/sequential.h"
#include "reports/strategy_analysis.h"

namespace memsoak::reports {
namespace {

harness::RunManifest manifest_for(const char* strategy, std::uint64_t iterations) {
  harness::SoakConfig config;
  config.scenario = "verdict";
  config.strategies = harness::parse_strategy_list(strategy);
  config.iterations = iterations;
  config.warmup = iterations / 10;
  return harness::RunManifest::begin(config, harness::WorkloadSource::native({}));
}

harness::RunRecord record(std::uint64_t run, std::uint64_t worker, double rss, double heap) {
  harness::RunRecord r;
  r.run_index = run;
  r.worker_id = worker;
  r.latency_ns = 1'000'000;
  r.worker.rss_bytes = static_cast<std::int64_t>(rss);
  r.worker.heap_live_bytes = static_cast<std::int64_t>(heap);
  return r;
}

StrategyReport analyse(const harness::RunManifest& m, const std::vector<harness::RunRecord>& records) {
  const std::uint64_t runs = records.empty() ? 0 : records.back().run_index + 1;
  return analyse_strategy(m, 0, records, analysis_alpha(m.config, runs));
}

TEST(Verdict, ACrashsReplacementWarmingUpIsNotGrowth) {
  // One worker flat at 12 MiB; it crashes at run 100. Its replacement starts at 11 MiB and climbs
  // 64 KiB a run for 20 runs (arenas and caches filling) to 12.25 MiB, then stays.
  harness::RunManifest m = manifest_for("in-process", 1000);
  std::vector<harness::RunRecord> records;
  for (std::uint64_t i = 0; i < 100; ++i) records.push_back(record(i, 1, 12 << 20, 1 << 20));
  harness::RunRecord crashed = record(100, 0, -1, -1);
  crashed.flags = harness::kRunFailed;
  records.push_back(crashed);
  for (std::uint64_t i = 101; i < 1000; ++i) {
    const double climbed = 65536.0 * static_cast<double>(std::min<std::uint64_t>(i - 101, 20));
    records.push_back(record(i, 2, (11 << 20) + climbed, 1 << 20));
  }
  StrategyReport s = analyse(m, records);
  EXPECT_EQ(s.classification.verdict, Verdict::kStable) << s.classification.reason;
  EXPECT_EQ(s.failed_runs, 1u);
}

TEST(Verdict, ALeakInACrashingWorkerIsStillALeak) {
  // 2 KiB a run within every worker, and a crash every 100 runs starting the next one afresh.
  harness::RunManifest m = manifest_for("in-process", 1000);
  std::vector<harness::RunRecord> records;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    const double age = static_cast<double>(i % 100);
    records.push_back(record(i, 1 + i / 100, (8 << 20) + 4096 * age, (1 << 20) + 2048 * age));
  }
  StrategyReport s = analyse(m, records);
  EXPECT_EQ(s.classification.verdict, Verdict::kLeak) << s.classification.reason;
  EXPECT_NEAR(s.heap->trend.slope, 2048, 205);
}

// 4,800 runs of a soak planned for 200,000, killed with -9: the live heap grows 1 KiB a run.
std::vector<harness::RunRecord> cut_short_records() {
  std::vector<harness::RunRecord> records;
  for (std::uint64_t i = 0; i < 4800; ++i) {
    const double grown = 1024.0 * static_cast<double>(i);
    records.push_back(record(i, 1, (20 << 20) + grown, (1 << 20) + grown));
  }
  return records;
}

TEST(Verdict, ASoakCutShortIsAnalysedFromTheRunsItDid) {
  harness::RunManifest m = manifest_for("in-process", 200'000);  // warm-up 20,000 as planned
  StrategyReport s = analyse(m, cut_short_records());
  EXPECT_EQ(s.warmup_runs, 480u);
  EXPECT_EQ(s.analysed_runs, 4320u);
  EXPECT_FALSE(s.finished);  // run.json has no elapsed time for the entry
  EXPECT_EQ(s.classification.verdict, Verdict::kLeak) << s.classification.reason;
  EXPECT_NEAR(s.heap->trend.slope, 1024, 1e-6);
}

TEST(Verdict, AnExplicitWarmupIsKeptEvenWhenTheSoakWasCutShort) {
  harness::RunManifest m = manifest_for("in-process", 200'000);
  m.config.warmup_auto = false;  // --warmup 20000 given
  StrategyReport s = analyse(m, cut_short_records());
  EXPECT_EQ(s.warmup_runs, 20'000u);
  EXPECT_EQ(s.classification.verdict, Verdict::kInconclusive) << s.classification.reason;
}

TEST(Verdict, RecyclingWithFewWorkersIsBoundedWithThePeakAWorkerReaches) {
  // recycle:20 over 60 runs: three workers, each keeping 1 MiB more every run it serves.
  harness::RunManifest m = manifest_for("recycle:20", 60);
  std::vector<harness::RunRecord> records;
  for (std::uint64_t i = 0; i < 60; ++i) {
    const double kept = 1048576.0 * static_cast<double>(i % 20);
    records.push_back(record(i, 1 + i / 20, (10 << 20) + kept, (1 << 20) + kept));
  }
  StrategyReport s = analyse(m, records);
  EXPECT_EQ(s.classification.verdict, Verdict::kBounded) << s.classification.reason;
  ASSERT_TRUE(s.bound_bytes.has_value());
  EXPECT_EQ(*s.bound_bytes, (1 << 20) + 19 * 1048576);
  EXPECT_NE(s.classification.reason.find("peaks at 20.0 MiB"), std::string::npos) << s.classification.reason;
}

TEST(Verdict, AWorkerReplacedEveryRunIsNoEvidenceOfFlatness) {
  // An in-process worker that dies after every run (each a new worker): no two runs of one worker
  // to compare, while its memory climbs from one incarnation to the next.
  harness::RunManifest m = manifest_for("in-process", 200);
  std::vector<harness::RunRecord> records;
  for (std::uint64_t i = 0; i < 200; ++i)
    records.push_back(record(i, 1 + i, (14 << 20) + 262144.0 * static_cast<double>(i), 1 << 20));
  StrategyReport s = analyse(m, records);
  EXPECT_EQ(s.classification.verdict, Verdict::kInconclusive) << s.classification.reason;
  EXPECT_NE(s.classification.reason.find("replaced"), std::string::npos) << s.classification.reason;
}

TEST(Verdict, ShortRssStaircasesAreNotRetention) {
  // 45 analysed runs whose RSS steps up a page now and then while the heap is flat (glibc's
  // high-water mark in a young process): too few to tell a staircase that stops from one that goes on.
  harness::RunManifest m = manifest_for("in-process", 50);
  std::vector<harness::RunRecord> records;
  for (std::uint64_t i = 0; i < 50; ++i)
    records.push_back(record(i, 1, (12 << 20) + 4096.0 * static_cast<double>(i / 4), 1 << 20));
  StrategyReport s = analyse(m, records);
  EXPECT_EQ(s.classification.verdict, Verdict::kInconclusive) << s.classification.reason;
  EXPECT_NE(s.classification.reason.find("run about"), std::string::npos) << s.classification.reason;
}

TEST(Verdict, BoundedNeedsAReplacementSeen) {
  // recycle:100 looked at after 100 runs: one worker, growing. Nothing was reset yet.
  harness::RunManifest m = manifest_for("recycle:100", 100);
  std::vector<harness::RunRecord> records;
  for (std::uint64_t i = 0; i < 100; ++i) {
    const double kept = 65536.0 * static_cast<double>(i);
    records.push_back(record(i, 1, (10 << 20) + kept, (1 << 20) + kept));
  }
  StrategyReport s = analyse(m, records);
  EXPECT_NE(s.classification.verdict, Verdict::kBounded) << s.classification.reason;
  EXPECT_FALSE(s.bound_bytes.has_value());
}

TEST(Verdict, TheLooksSpendNoMoreThanTheirTotalError) {
  double spent = 0;
  for (std::size_t k = 0; k < 100'000; ++k) spent += look_alpha(k);
  EXPECT_LE(spent, kSequentialAlpha);
  EXPECT_GT(spent, 0.99 * kSequentialAlpha);
  EXPECT_LT(look_alpha(1), look_alpha(0));
}

TEST(Verdict, ALookSettlesAFlatEntryAndALeakButNotAnUndecidedOne) {
  harness::RunManifest m = manifest_for("in-process", 20'000);
  m.config.iterations_auto = true;
  const std::uint64_t first = harness::look_runs(0);
  std::vector<harness::RunRecord> flat, leaking, noisy;
  for (std::uint64_t i = 0; i < first; ++i) {
    flat.push_back(record(i, 1, 12 << 20, 1 << 20));
    leaking.push_back(record(i, 1, (12 << 20) + 8192.0 * static_cast<double>(i),
                             (1 << 20) + 8192.0 * static_cast<double>(i)));
    // RSS jumping by up to six pages from run to run, heap flat: 64 B/run cannot be excluded yet.
    noisy.push_back(record(i, 1, (12 << 20) + 4096.0 * static_cast<double>((i * 7919) % 7), 1 << 20));
  }
  LookDecision d = decide_at_look(m, 0, flat);
  EXPECT_TRUE(d.settled) << d.why;
  EXPECT_NE(d.why.find("stable"), std::string::npos) << d.why;
  d = decide_at_look(m, 0, leaking);
  EXPECT_FALSE(d.settled) << "growth is not settled before kMinRunsToSettleGrowth runs: " << d.why;
  EXPECT_NE(d.why.find("leak"), std::string::npos) << d.why;
  for (std::uint64_t i = first; i < harness::look_runs(7); ++i)
    leaking.push_back(record(i, 1, (12 << 20) + 8192.0 * static_cast<double>(i),
                             (1 << 20) + 8192.0 * static_cast<double>(i)));
  ASSERT_GE(leaking.size(), kMinRunsToSettleGrowth);
  d = decide_at_look(m, 0, leaking);
  EXPECT_TRUE(d.settled) << d.why;
  EXPECT_NE(d.why.find("leak"), std::string::npos) << d.why;
  d = decide_at_look(m, 0, noisy);
  EXPECT_FALSE(d.settled) << d.why;
  EXPECT_NE(d.why.find("run about"), std::string::npos) << d.why;
}

}  // namespace
}  // namespace memsoak::reports
