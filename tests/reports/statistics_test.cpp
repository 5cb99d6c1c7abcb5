// Trend statistics on canned series: known slopes, ties, outliers, constant and short series.
#include "reports/statistics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace memsoak::reports {
namespace {

std::vector<double> line(std::size_t n, double slope, double intercept = 1000) {
  std::vector<double> y(n);
  for (std::size_t i = 0; i < n; ++i) y[i] = intercept + slope * static_cast<double>(i);
  return y;
}

// Deterministic noise in [-amplitude, amplitude].
std::vector<double> add_noise(std::vector<double> y, double amplitude) {
  std::uint64_t state = 12345;
  for (double& v : y) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    v += amplitude * (static_cast<double>(state >> 11) / 9007199254740992.0 * 2 - 1);
  }
  return y;
}

TEST(NormalQuantile, MatchesTables) {
  EXPECT_NEAR(normal_quantile(0.975), 1.959964, 1e-6);
  EXPECT_NEAR(normal_quantile(0.5), 0.0, 1e-9);
  EXPECT_NEAR(normal_quantile(0.995), 2.575829, 1e-6);
  EXPECT_NEAR(normal_quantile(0.01), -2.326348, 1e-6);
}

TEST(TheilSen, ExactLineGivesItsSlopeWithAZeroWidthInterval) {
  TrendEstimate t = theil_sen(line(200, 4096));
  EXPECT_DOUBLE_EQ(t.slope, 4096);
  EXPECT_DOUBLE_EQ(t.ci_low, 4096);
  EXPECT_DOUBLE_EQ(t.ci_high, 4096);
  EXPECT_NEAR(t.intercept, 1000, 1e-9);
  EXPECT_FALSE(t.sampled);
}

TEST(TheilSen, NoisyLineIntervalContainsTheTrueSlope) {
  TrendEstimate t = theil_sen(add_noise(line(500, 100), 5000));
  EXPECT_NEAR(t.slope, 100, 10);
  EXPECT_LT(t.ci_low, 100);
  EXPECT_GT(t.ci_high, 100);
  EXPECT_LT(t.ci_high - t.ci_low, 40);
}

// Reference values computed independently (Sen's ranks, 0-based indices round((N-C)/2)-1 and
// round((N+C)/2) of the sorted slopes, as scipy.stats.theilslopes takes them).
TEST(TheilSen, IntervalMatchesReferenceValues) {
  TrendEstimate a = theil_sen(std::vector<double>{10, 12, 11, 15, 14, 18, 17, 20, 19, 23});
  EXPECT_NEAR(a.ci_low, 1.0, 1e-9);
  EXPECT_NEAR(a.ci_high, 5.0 / 3.0, 1e-9);
  TrendEstimate b = theil_sen(std::vector<double>{5, 5, 6, 5, 7, 7, 8, 6, 9, 10});
  EXPECT_NEAR(b.ci_low, 0.25, 1e-9);
  EXPECT_NEAR(b.ci_high, 2.0 / 3.0, 1e-9);
}

TEST(TheilSen, IgnoresOutliersThatWouldWreckLeastSquares) {
  std::vector<double> y = line(300, 50);
  for (std::size_t i = 0; i < y.size(); i += 20) y[i] += 1e9;  // 5% wild spikes
  EXPECT_NEAR(theil_sen(y).slope, 50, 1e-9);
}

TEST(TheilSen, ConstantSeriesWithRareStepsIsFlat) {
  std::vector<double> y(1000, 8192);
  y[400] = y[700] = 12288;  // isolated page-sized blips, as RSS shows
  TrendEstimate t = theil_sen(y);
  EXPECT_EQ(t.slope, 0);
  EXPECT_EQ(t.ci_low, 0);
  EXPECT_EQ(t.ci_high, 0);
}

TEST(TheilSen, LargeSeriesUseSampledPairsAndStayAccurate) {
  TrendEstimate t = theil_sen(add_noise(line(20000, 64), 2000));
  EXPECT_TRUE(t.sampled);
  EXPECT_NEAR(t.slope, 64, 1);
  EXPECT_LT(t.ci_low, 64);
  EXPECT_GT(t.ci_high, 64);
}

TEST(TheilSen, TooShortSeriesGiveZero) {
  EXPECT_EQ(theil_sen(std::vector<double>{}).slope, 0);
  EXPECT_EQ(theil_sen(std::vector<double>{5}).slope, 0);
  EXPECT_EQ(theil_sen(std::vector<double>{5, 9}).slope, 4);
}

TEST(MannKendall, StrictlyIncreasingSeriesHasMaximalS) {
  MannKendall mk = mann_kendall(line(100, 1));
  EXPECT_EQ(mk.s, 100.0 * 99 / 2);
  EXPECT_GT(mk.z, 10);
  EXPECT_LT(mk.p_value, 1e-10);
}

TEST(MannKendall, DecreasingSeriesHasNegativeZ) {
  MannKendall mk = mann_kendall(line(100, -3));
  EXPECT_EQ(mk.s, -100.0 * 99 / 2);
  EXPECT_LT(mk.z, -10);
}

TEST(MannKendall, MatchesTheQuadraticDefinitionWithTies) {
  std::vector<double> y = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4};
  double s = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    for (std::size_t j = i + 1; j < y.size(); ++j) s += (y[j] > y[i]) - (y[j] < y[i]);
  }
  MannKendall mk = mann_kendall(y);
  EXPECT_EQ(mk.s, s);
  // Tie groups: four pairs (1, 2, 4, 8), two triples (5, 9), one quadruple (3); each group of t
  // takes t(t-1)(2t+5) off the variance.
  double n = 20;
  double ties = 4 * (2 * 1 * 9) + 2 * (3 * 2 * 11) + 4 * 3 * 13;
  EXPECT_DOUBLE_EQ(mk.variance, (n * (n - 1) * (2 * n + 5) - ties) / 18);
}

TEST(MannKendall, ConstantSeriesShowsNoTrend) {
  MannKendall mk = mann_kendall(std::vector<double>(500, 42));
  EXPECT_EQ(mk.s, 0);
  EXPECT_EQ(mk.p_value, 1);
}

TEST(MannKendall, PureNoiseIsNotSignificant) {
  MannKendall mk = mann_kendall(add_noise(std::vector<double>(2000, 0), 100));
  EXPECT_GT(mk.p_value, 0.01);
}

TEST(Quantile, InterpolatesBetweenOrderStatistics) {
  std::vector<double> v = {10, 1, 7, 3};
  EXPECT_DOUBLE_EQ(quantile(v, 0), 1);
  EXPECT_DOUBLE_EQ(quantile(v, 1), 10);
  EXPECT_DOUBLE_EQ(quantile(v, 0.5), 5);
  EXPECT_TRUE(std::isnan(quantile(std::vector<double>{}, 0.5)));
}

}  // namespace
}  // namespace memsoak::reports
