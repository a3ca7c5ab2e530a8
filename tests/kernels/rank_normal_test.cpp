// rank_inverse_normal (Blom, average ranks for ties) and zscore on kept entries.
#include "kernels/rank_normal.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "kernels/pvalues.hpp"

namespace pwas::kernels {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(RankNormal, BlomWithAveragedTiesOnKeptEntries) {
  // Kept values 3, 1, 2, 2 -> ranks 4, 1, 2.5, 2.5 with n = 4; the dropped entry (NaN) is untouched.
  Eigen::VectorXd x{{3.0, kNaN, 1.0, 2.0, 2.0}};
  const std::vector<std::uint8_t> keep{1, 0, 1, 1, 1};
  rank_inverse_normal(x, keep);
  auto blom = [](double r) { return qnorm((r - 0.375) / 4.25); };
  EXPECT_DOUBLE_EQ(x(0), blom(4.0));
  EXPECT_TRUE(std::isnan(x(1)));
  EXPECT_DOUBLE_EQ(x(2), blom(1.0));
  EXPECT_DOUBLE_EQ(x(3), blom(2.5));
  EXPECT_DOUBLE_EQ(x(4), blom(2.5));
  EXPECT_DOUBLE_EQ(x(2), -x(0));  // symmetric
}

TEST(RankNormal, DroppedEntriesKeepTheirValuesAndKeptNaNStaysNaN) {
  Eigen::VectorXd x{{5.0, 7.0, kNaN, 1.0}};
  const std::vector<std::uint8_t> keep{1, 0, 1, 1};
  rank_inverse_normal(x, keep);
  EXPECT_EQ(x(1), 7.0);
  EXPECT_TRUE(std::isnan(x(2)));
  EXPECT_DOUBLE_EQ(x(0), qnorm((2.0 - 0.375) / 2.25));  // n = 2 ranked values
}

// The transform by std::sort of (value, index) pairs, as it was before the radix sort.
Eigen::VectorXd reference_rin(Eigen::VectorXd x, const std::vector<std::uint8_t>& keep) {
  std::vector<std::pair<double, Eigen::Index>> order;
  for (Eigen::Index i = 0; i < x.size(); ++i)
    if (keep[static_cast<std::size_t>(i)] && !std::isnan(x[i])) order.emplace_back(x[i] + 0.0, i);
  std::sort(order.begin(), order.end());
  const std::size_t n = order.size();
  for (std::size_t first = 0; first < n;) {
    std::size_t last = first;
    while (last + 1 < n && order[last + 1].first == order[first].first) ++last;
    const double z = qnorm((0.5 * static_cast<double>(first + last + 2) - 0.375) / (static_cast<double>(n) + 0.25));
    for (std::size_t k = first; k <= last; ++k) x[order[k].second] = z;
    first = last + 1;
  }
  return x;
}

TEST(RankNormal, RadixSortEqualsComparisonSortBitForBitFromDoublesAndFloats) {
  std::mt19937_64 gen(5);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  RankWorkspace ws;  // reused across sizes (growing and shrinking: its buffers only grow) and both paths
  for (const int n : {0, 1, 2, 3, 17, 1000, 20000, 999, 18, 3}) {
    for (const int kind : {0, 1, 2, 3}) {  // doubles; float32 values; coarse ties; a single repeated value
      Eigen::VectorXd x(n);
      std::vector<std::uint8_t> keep(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) {
        double v = normal(gen) * std::exp(3.0 * normal(gen));
        if (kind == 1) v = static_cast<double>(static_cast<float>(v));
        if (kind == 2) v = std::round(v * 4.0) / 4.0;
        if (kind == 3) v = 2.5;
        const double u = unif(gen);
        if (u < 0.01) v = -0.0;
        else if (u < 0.02) v = 0.0;
        else if (u < 0.025) v = kNaN;  // kept NaN: not ranked, stays NaN
        else if (u < 0.03) v = (u < 0.0275 ? 1.0 : -1.0) * std::numeric_limits<double>::infinity();
        x(i) = v;
        keep[static_cast<std::size_t>(i)] = unif(gen) < 0.9 ? 1 : 0;
      }
      const Eigen::VectorXd expected = reference_rin(x, keep);
      Eigen::VectorXd got = x;
      rank_inverse_normal(got, keep, ws);
      // Values that are float32 also through the overload that ranks the float32 values themselves (the engine's).
      Eigen::VectorXd got_f32 = x;
      std::vector<float> values(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) values[static_cast<std::size_t>(i)] = static_cast<float>(x(i));
      if (kind != 0) rank_inverse_normal(got_f32, values, keep, ws);
      for (int i = 0; i < n; ++i) {
        if (std::isnan(expected(i))) {
          EXPECT_TRUE(std::isnan(got(i))) << n << " " << kind << " " << i;
          if (kind != 0) {
            EXPECT_TRUE(std::isnan(got_f32(i))) << n << " " << kind << " " << i;
          }
        } else {
          EXPECT_EQ(got(i), expected(i)) << n << " " << kind << " " << i;
          if (kind != 0) {
            EXPECT_EQ(got_f32(i), expected(i)) << n << " " << kind << " " << i;
          }
        }
      }
    }
  }
}

TEST(RankNormal, NegativeAndPositiveZeroTie) {
  Eigen::VectorXd x{{-0.0, 1.0, 0.0, -1.0}};
  rank_inverse_normal(x, std::vector<std::uint8_t>(4, 1));
  EXPECT_EQ(x(0), x(2));
  EXPECT_DOUBLE_EQ(x(0), qnorm((2.5 - 0.375) / 4.25));
}

TEST(ZScore, MeanZeroSdOneOnKeptEntries) {
  Eigen::VectorXd x{{1.0, 100.0, 2.0, 3.0, kNaN}};
  const std::vector<std::uint8_t> keep{1, 0, 1, 1, 0};
  zscore(x, keep);
  EXPECT_DOUBLE_EQ(x(0), -1.0);  // mean 2, sd 1
  EXPECT_DOUBLE_EQ(x(2), 0.0);
  EXPECT_DOUBLE_EQ(x(3), 1.0);
  EXPECT_EQ(x(1), 100.0);
  EXPECT_TRUE(std::isnan(x(4)));
}

TEST(ZScore, ConstantGivesNaN) {
  Eigen::VectorXd x{{4.0, 4.0, 4.0}};
  zscore(x, std::vector<std::uint8_t>{1, 1, 1});
  EXPECT_TRUE(x.array().isNaN().all());
}

}  // namespace
}  // namespace pwas::kernels
