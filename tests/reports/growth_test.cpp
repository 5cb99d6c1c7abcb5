// Verdicts from canned memory series: leak, stable, plateau, retention, inconclusive.
#include "reports/growth.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace memsoak::reports {
namespace {

std::vector<double> steady(std::size_t n, double base, double per_run) {
  std::vector<double> y(n);
  for (std::size_t i = 0; i < n; ++i) y[i] = base + per_run * static_cast<double>(i);
  return y;
}

// RSS as the kernel reports it: whole pages.
std::vector<double> in_pages(std::vector<double> y) {
  for (double& v : y) v = std::floor(v / 4096) * 4096;
  return y;
}

TEST(Classify, GrowingHeapIsALeak) {
  auto heap = analyse_series(steady(1800, 1e6, 4104), kHeapNoiseFloorBytes);
  auto rss = analyse_series(in_pages(steady(1800, 1e7, 4110)), kRssNoiseFloorBytes);
  Classification c = classify(heap, rss, 1800);
  EXPECT_EQ(c.verdict, Verdict::kLeak);
  EXPECT_NE(c.reason.find("4.0 KiB/run"), std::string::npos) << c.reason;
}

TEST(Classify, FlatSeriesAreStable) {
  auto heap = analyse_series(std::vector<double>(1800, 5e5), kHeapNoiseFloorBytes);
  auto rss = analyse_series(std::vector<double>(1800, 8e6), kRssNoiseFloorBytes);
  EXPECT_EQ(classify(heap, rss, 1800).verdict, Verdict::kStable);
}

TEST(Classify, GrowthBelowTheNoiseFloorIsStable) {
  // Ten pages over 1800 runs: RSS creeping by page granularity, not a leak.
  std::vector<double> rss(1800, 8e6);
  for (std::size_t i = 0; i < rss.size(); ++i) rss[i] += 4096.0 * static_cast<double>(i / 180);
  auto heap = analyse_series(std::vector<double>(1800, 5e5), kHeapNoiseFloorBytes);
  EXPECT_EQ(classify(heap, analyse_series(rss, kRssNoiseFloorBytes), 1800).verdict, Verdict::kStable);
}

TEST(Classify, GrowthThatStopsIsAPlateau) {
  std::vector<double> heap(1800);
  for (std::size_t i = 0; i < heap.size(); ++i)
    heap[i] = 1e6 + 4096.0 * static_cast<double>(std::min<std::size_t>(i, 900));
  auto h = analyse_series(heap, kHeapNoiseFloorBytes);
  auto rss = analyse_series(in_pages(heap), kRssNoiseFloorBytes);
  EXPECT_TRUE(h.grows);
  EXPECT_FALSE(h.tail_grows);
  EXPECT_EQ(classify(h, rss, 1800).verdict, Verdict::kPlateau);
}

TEST(Classify, RssGrowingOverAFlatHeapIsRetention) {
  auto heap = analyse_series(std::vector<double>(1800, 5e5), kHeapNoiseFloorBytes);
  auto rss = analyse_series(in_pages(steady(1800, 8e6, 2048)), kRssNoiseFloorBytes);
  EXPECT_EQ(classify(heap, rss, 1800).verdict, Verdict::kRetention);
}

TEST(Classify, WithoutHeapCountersGrowingRssIsALeak) {
  auto rss = analyse_series(in_pages(steady(1800, 8e6, 2048)), kRssNoiseFloorBytes);
  EXPECT_EQ(classify(std::nullopt, rss, 1800).verdict, Verdict::kLeak);
}

TEST(Classify, TooFewRunsAreInconclusive) {
  auto rss = analyse_series(steady(10, 8e6, 1e6), kRssNoiseFloorBytes);
  Classification c = classify(std::nullopt, rss, 10);
  EXPECT_EQ(c.verdict, Verdict::kInconclusive);
  EXPECT_NE(c.reason.find("--iterations"), std::string::npos);
}

TEST(Classify, ShrinkingMemoryIsNotALeak) {
  auto heap = analyse_series(steady(1800, 1e8, -4096), kHeapNoiseFloorBytes);
  auto rss = analyse_series(in_pages(steady(1800, 1e8, -4096)), kRssNoiseFloorBytes);
  EXPECT_EQ(classify(heap, rss, 1800).verdict, Verdict::kStable);
}

}  // namespace
}  // namespace memsoak::reports
