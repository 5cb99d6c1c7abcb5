// Each leak mode computes the same digests as "none"; options are validated up front.
#include <gtest/gtest.h>
#include <malloc.h>

#include "harness/errors.h"
#include "scenarios/reranker/corpus.h"
#include "scenarios/reranker/model_generate.h"
#include "scenarios/reranker/reranker.h"
#include "scenarios/reranker/reranker_workload.h"
#include "tests/scenarios/reranker/test_util.h"

namespace memsoak::scenarios::reranker {
namespace {

using testing::TempDir;

constexpr std::uint64_t kRuns = 6;

// One tiny model and the "none" baseline digests per test suite.
class WorkloadFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    generate_model("tiny", 11, dir_->path() / "m");
    baseline_ = new std::vector<std::uint64_t>(digests("none", 4));
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete baseline_;
    dir_ = nullptr;
    baseline_ = nullptr;
  }
  static RerankerWorkloadOptions options(const char* mode, std::uint64_t seed) {
    RerankerWorkloadOptions o;
    o.model_dir = dir_->path() / "m";
    o.leak_mode = mode;
    o.seed = seed;
    o.docs_per_query = 6;
    o.top_k = 3;
    return o;
  }
  static std::vector<std::uint64_t> digests(const char* mode, std::uint64_t seed) {
    auto workload = make_reranker_workload(options(mode, seed))();
    workload->setup();
    std::vector<std::uint64_t> out;
    for (std::uint64_t i = 0; i < kRuns; ++i) out.push_back(workload->run(i));
    workload->teardown();
    return out;
  }
  static TempDir* dir_;
  static std::vector<std::uint64_t>* baseline_;
};
TempDir* WorkloadFixture::dir_ = nullptr;
std::vector<std::uint64_t>* WorkloadFixture::baseline_ = nullptr;

class Workloads : public WorkloadFixture, public ::testing::WithParamInterface<const char*> {};

TEST_P(Workloads, SameDigestsAsNone) { EXPECT_EQ(digests(GetParam(), 4), *baseline_); }

INSTANTIATE_TEST_SUITE_P(Modes, Workloads,
                         ::testing::Values("none", "model-registry", "tokenizer-memo", "dropped-buffer",
                                           "bounded-cache", "thread-churn", "fragmentation"),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           std::erase(name, '-');
                           return name;
                         });

TEST_F(WorkloadFixture, DigestIsTheJoinedTopKOfTheRunsQuery) {
  const Reranker reranker(dir_->path() / "m");
  const Corpus corpus = make_corpus(4, 64, 6);  // the workload's corpus: 64 queries
  auto workload = make_reranker_workload(options("none", 4))();
  workload->setup();
  for (std::uint64_t i : {0ull, 5ull, 69ull}) {
    const auto& q = corpus.queries[i % 64];
    const std::string joined = join_ranked(reranker.rerank(q.query, q.docs, 3), q.docs);
    EXPECT_EQ(workload->run(i), harness::fnv1a64(joined.data(), joined.size())) << i;
  }
}

TEST_F(WorkloadFixture, DigestDependsOnRunIndexAndSeedNotHistory) {
  auto workload = make_reranker_workload(options("bounded-cache", 4))();
  workload->setup();
  const std::uint64_t late_first = workload->run(5);
  EXPECT_EQ(late_first, (*baseline_)[5]);
  EXPECT_EQ(workload->run(5), late_first);  // cache hit gives the same digest
  EXPECT_NE(digests("none", 99), *baseline_);
}

// Bytes allocated and not yet freed, over all malloc arenas (0 under ASan, which replaces malloc).
std::size_t live_heap_bytes() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

struct GrowthCase {
  const char* mode;
  std::size_t min_bytes_per_run;
  std::size_t max_bytes_per_run;
};

void PrintTo(const GrowthCase& c, std::ostream* out) { *out << c.mode; }

class LeakGrowth : public WorkloadFixture, public ::testing::WithParamInterface<GrowthCase> {};

// Live-heap growth per run between run 100 and run 180 (after the bounded cache is full).
TEST_P(LeakGrowth, LiveHeapGrowsAsDocumented) {
  const GrowthCase c = GetParam();
  auto workload = make_reranker_workload(options(c.mode, 4))();
  workload->setup();
  for (std::uint64_t i = 0; i < 100; ++i) workload->run(i);
  const std::size_t before = live_heap_bytes();
  if (before == 0) GTEST_SKIP() << "mallinfo2 unavailable (sanitizer build)";
  for (std::uint64_t i = 100; i < 180; ++i) workload->run(i);
  const std::size_t after = live_heap_bytes();
  const double per_run = (static_cast<double>(after) - static_cast<double>(before)) / 80.0;
  RecordProperty("bytes_per_run", std::to_string(per_run));
  EXPECT_GE(per_run, static_cast<double>(c.min_bytes_per_run)) << c.mode;
  EXPECT_LE(per_run, static_cast<double>(c.max_bytes_per_run)) << c.mode;
}

// 6 docs per query on the tiny model (~330 KiB of weights).
INSTANTIATE_TEST_SUITE_P(Modes, LeakGrowth,
                         ::testing::Values(GrowthCase{"none", 0, 256}, GrowthCase{"bounded-cache", 0, 256},
                                           GrowthCase{"thread-churn", 0, 256},
                                           GrowthCase{"model-registry", 250 * 1024, 600 * 1024},
                                           GrowthCase{"tokenizer-memo", 1024, 16 * 1024},
                                           GrowthCase{"dropped-buffer", 6 * 4096, 7 * 4096},
                                           GrowthCase{"fragmentation", 4 * 1024, 4 * 2048 + 1024}),
                         [](const auto& param_info) {
                           std::string name = param_info.param.mode;
                           std::erase(name, '-');
                           return name;
                         });

TEST(WorkloadOptions, UnknownLeakModeIsNamed) {
  try {
    parse_reranker_leak("leaky");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'leaky'"), std::string::npos);
  }
  RerankerWorkloadOptions o;
  o.leak_mode = "nope";
  EXPECT_THROW(make_reranker_workload(o), InputError);
  o.leak_mode = "none";
  o.top_k = 0;
  EXPECT_THROW(make_reranker_workload(o), InputError);
  for (const char* mode : {"none", "model-registry", "thread-churn", "fragmentation"}) {
    EXPECT_EQ(reranker_leak_name(parse_reranker_leak(mode)), mode);
  }
  EXPECT_EQ(load_method(), "read");
}

TEST(WorkloadOptions, MissingModelFailsInSetup) {
  RerankerWorkloadOptions o;
  o.model_dir = "/nonexistent/model";
  auto workload = make_reranker_workload(o)();
  EXPECT_THROW(workload->setup(), InputError);
}

}  // namespace
}  // namespace memsoak::scenarios::reranker
