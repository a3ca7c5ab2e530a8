// rank_inverse_normal (Blom, average ranks for ties) and zscore on kept entries.
#include "kernels/rank_normal.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
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
