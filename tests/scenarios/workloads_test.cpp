// Workloads by name: validation up front, and the reranker's generated-model cache.
#include "scenarios/workloads.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "harness/errors.h"

namespace memsoak::scenarios {
namespace {
namespace fs = std::filesystem;

// Points XDG_CACHE_HOME at a fresh directory for the test's lifetime.
class WorkloadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_ = fs::temp_directory_path() / ("memsoak-workloads-test-" + std::to_string(::getpid()));
    fs::remove_all(cache_);
    fs::create_directories(cache_);
    ::setenv("XDG_CACHE_HOME", cache_.c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("XDG_CACHE_HOME");
    fs::remove_all(cache_);
  }
  fs::path cache_;
};

TEST_F(WorkloadsTest, UnknownWorkloadOrLeakModeIsAnInputError) {
  EXPECT_THROW(make_workload({.name = "nonesuch"}), InputError);
  EXPECT_THROW(make_workload({.name = "synthetic", .leak = "bogus"}), InputError);
  EXPECT_THROW(make_workload({.name = "reranker", .leak = "dropped:4096"}), InputError);
  EXPECT_TRUE(make_workload({.name = "synthetic", .leak = "dropped:16"}).factory);
}

TEST_F(WorkloadsTest, RerankerGeneratesItsModelOnceIntoTheCache) {
  BuiltWorkload first = make_workload({.name = "reranker", .leak = "none"});
  fs::path model = cache_ / "memsoak" / "models" / "tiny-seed1";
  ASSERT_TRUE(fs::exists(model / "model.safetensors"));
  auto written = fs::last_write_time(model / "model.safetensors");
  BuiltWorkload second = make_workload({.name = "reranker", .leak = "model-registry"});
  EXPECT_EQ(fs::last_write_time(model / "model.safetensors"), written) << "the cached model was regenerated";
  EXPECT_EQ(first.info["load_method"], "read");
  EXPECT_EQ(first.info["preset"], "tiny");
  EXPECT_GT(first.info["model_weights_bytes"].get<double>(), 0);

  auto plain = first.factory();
  auto leaky = second.factory();
  plain->setup();
  leaky->setup();
  EXPECT_EQ(leaky->run(3), plain->run(3)) << "leak modes do not change outputs";
}

TEST_F(WorkloadsTest, ABadModelDirectoryIsRefusedBeforeAnyRun) {
  fs::create_directories(cache_ / "broken");
  std::ofstream(cache_ / "broken" / "config.json") << "{}";
  try {
    make_workload({.name = "reranker", .model_dir = cache_ / "broken"});
    FAIL() << "accepted a model directory without a model";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_workload({.name = "reranker", .preset = "huge"}), InputError);
}

}  // namespace
}  // namespace memsoak::scenarios
