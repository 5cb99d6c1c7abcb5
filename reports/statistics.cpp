// Trend statistics (see statistics.h).
#include "reports/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "harness/splitmix64.h"

namespace memsoak::reports {
namespace {

// Ranks 1..k of y's distinct values, and the tie-group sizes for the variance correction.
std::vector<std::size_t> dense_ranks(std::span<const double> y, std::vector<std::size_t>& tie_sizes) {
  std::vector<std::size_t> order(y.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return y[a] < y[b]; });
  std::vector<std::size_t> ranks(y.size());
  std::size_t rank = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i == 0 || y[order[i]] != y[order[i - 1]]) {
      ++rank;
      tie_sizes.push_back(0);
    }
    ranks[order[i]] = rank;
    ++tie_sizes.back();
  }
  return ranks;
}

class FenwickTree {
 public:
  explicit FenwickTree(std::size_t size) : tree_(size + 1, 0) {}
  void add(std::size_t index) {
    for (; index < tree_.size(); index += index & (~index + 1)) ++tree_[index];
  }
  std::uint64_t prefix_count(std::size_t index) const {  // values with rank <= index
    std::uint64_t sum = 0;
    for (; index > 0; index -= index & (~index + 1)) sum += tree_[index];
    return sum;
  }

 private:
  std::vector<std::uint64_t> tree_;
};

double mk_variance(std::size_t n_values, const std::vector<std::size_t>& tie_sizes) {
  auto term = [](double t) { return t * (t - 1) * (2 * t + 5); };
  double variance = term(static_cast<double>(n_values));
  for (std::size_t t : tie_sizes) variance -= term(static_cast<double>(t));
  return variance / 18.0;
}

std::size_t pairs_in(const Block& b) { return b.size() < 2 ? 0 : b.size() * (b.size() - 1) / 2; }

// The slopes of every pair within a block, or a fixed-seed sample of kSampledPairs of them, each
// pair equally likely (a block is drawn in proportion to its pairs).
std::vector<double> pairwise_slopes(std::span<const double> y, std::span<const Block> blocks, bool& sampled) {
  std::size_t pairs = 0;
  for (const Block& b : blocks) pairs += pairs_in(b);
  std::vector<double> slopes;
  sampled = pairs > kExactPairsLimit;
  if (!sampled) {
    slopes.reserve(pairs);
    for (const Block& b : blocks) {
      for (std::size_t i = b.begin; i + 1 < b.end; ++i) {
        for (std::size_t j = i + 1; j < b.end; ++j)
          slopes.push_back((y[j] - y[i]) / static_cast<double>(j - i));
      }
    }
    return slopes;
  }
  std::vector<std::size_t> cumulative;  // pairs in blocks 0..k
  for (const Block& b : blocks)
    cumulative.push_back((cumulative.empty() ? 0 : cumulative.back()) + pairs_in(b));
  slopes.reserve(kSampledPairs);
  harness::SplitMix64 rng(0x5eed);
  while (slopes.size() < kSampledPairs) {
    const std::size_t pick = rng.next() % pairs;
    const Block& b = blocks[static_cast<std::size_t>(
        std::upper_bound(cumulative.begin(), cumulative.end(), pick) - cumulative.begin())];
    std::size_t i = b.begin + rng.next() % b.size();
    std::size_t j = b.begin + rng.next() % b.size();
    if (i == j) continue;
    if (i > j) std::swap(i, j);
    slopes.push_back((y[j] - y[i]) / static_cast<double>(j - i));
  }
  return slopes;
}

std::vector<Block> whole(std::span<const double> y) { return {Block{0, y.size()}}; }

// Order statistic k (0-based) of `values`, reordering them.
double order_statistic(std::vector<double>& values, std::size_t k) {
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

}  // namespace

MannKendall mann_kendall(std::span<const double> y) { return mann_kendall(y, whole(y)); }

MannKendall mann_kendall(std::span<const double> y, std::span<const Block> blocks) {
  MannKendall result;
  for (const Block& b : blocks) {
    if (b.size() < 3) continue;
    std::span<const double> part = y.subspan(b.begin, b.size());
    std::vector<std::size_t> tie_sizes;
    std::vector<std::size_t> ranks = dense_ranks(part, tie_sizes);
    FenwickTree seen(tie_sizes.size());
    for (std::size_t j = 0; j < part.size(); ++j) {
      // Earlier values below part[j] count +1, above it -1.
      auto below = static_cast<double>(seen.prefix_count(ranks[j] - 1));
      auto not_above = static_cast<double>(seen.prefix_count(ranks[j]));
      auto above = static_cast<double>(j) - not_above;
      result.s += below - above;
      seen.add(ranks[j]);
    }
    result.variance += mk_variance(part.size(), tie_sizes);
  }
  if (result.variance <= 0) return result;
  const double s = result.s;
  double sd = std::sqrt(result.variance);
  result.z = s > 0 ? (s - 1) / sd : s < 0 ? (s + 1) / sd : 0.0;
  result.p_value = std::erfc(std::fabs(result.z) / std::sqrt(2.0));
  return result;
}

TrendEstimate theil_sen(std::span<const double> y, double confidence) {
  return theil_sen(y, whole(y), confidence, confidence);
}

TrendEstimate theil_sen(std::span<const double> y, std::span<const Block> blocks, double confidence,
                        double decision_confidence) {
  TrendEstimate estimate;
  std::size_t pairs = 0;
  for (const Block& b : blocks) pairs += pairs_in(b);
  if (pairs == 0) return estimate;
  std::vector<double> slopes = pairwise_slopes(y, blocks, estimate.sampled);
  const double total_pairs = static_cast<double>(pairs);
  const double last = static_cast<double>(slopes.size() - 1);

  // Sen (1968): the interval is bounded by the slopes of 1-based ranks (N - C)/2 and
  // (N + C)/2 + 1 among the N pairwise slopes, with C = z * sqrt(Var S). With a sample of M
  // slopes, rank r of N maps to the same relative position among the M.
  const double sd = std::sqrt(std::max(mann_kendall(y, blocks).variance, 0.0));
  auto slope_of_rank = [&](double rank) {
    double position = (std::round(rank) - 1.0) / std::max(total_pairs - 1.0, 1.0);
    return order_statistic(slopes,
                           static_cast<std::size_t>(std::llround(std::clamp(position, 0.0, 1.0) * last)));
  };
  auto interval = [&](double level, double& low, double& high) {
    const double c = normal_quantile(0.5 + level / 2.0) * sd;
    low = slope_of_rank((total_pairs - c) / 2.0);
    high = slope_of_rank((total_pairs + c) / 2.0 + 1.0);
  };
  interval(confidence, estimate.ci_low, estimate.ci_high);
  interval(decision_confidence, estimate.decision_low, estimate.decision_high);
  // The median, in place (a copy of a million slopes per series showed in the profile of a
  // 100,000-run report): the mean of the two middle slopes when their count is even.
  const std::size_t middle = slopes.size() / 2;
  estimate.slope = order_statistic(slopes, middle);
  if (slopes.size() % 2 == 0) {
    const double below =
        *std::max_element(slopes.begin(), slopes.begin() + static_cast<std::ptrdiff_t>(middle));
    estimate.slope = (estimate.slope + below) / 2.0;
  }

  std::vector<double> residual_levels(y.size());
  for (std::size_t i = 0; i < y.size(); ++i)
    residual_levels[i] = y[i] - estimate.slope * static_cast<double>(i);
  estimate.intercept = quantile(residual_levels, 0.5);
  return estimate;
}

double quantile(std::span<const double> values, double q) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::vector<double> sorted(values.begin(), values.end());
  double position = std::clamp(q, 0.0, 1.0) * static_cast<double>(sorted.size() - 1);
  auto below = static_cast<std::size_t>(std::floor(position));
  std::size_t above = std::min(below + 1, sorted.size() - 1);
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(below), sorted.end());
  double low = sorted[below];
  double high = low;
  if (above != below)
    high = *std::min_element(sorted.begin() + static_cast<std::ptrdiff_t>(above), sorted.end());
  return low + (high - low) * (position - static_cast<double>(below));
}

double normal_quantile(double p) {
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                                 1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                 6.680131188771972e+01, -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                 -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                 3.754408661907416e+00};
  if (p <= 0) return -std::numeric_limits<double>::infinity();
  if (p >= 1) return std::numeric_limits<double>::infinity();
  constexpr double kLow = 0.02425;
  if (p < kLow || p > 1 - kLow) {
    double q = std::sqrt(-2 * std::log(p < kLow ? p : 1 - p));
    double x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    return p < kLow ? x : -x;
  }
  double q = p - 0.5;
  double r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

}  // namespace memsoak::reports
