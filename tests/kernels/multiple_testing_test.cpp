// Bonferroni, Benjamini-Hochberg (R's p.adjust) and genomic inflation on hand-checkable inputs.
#include "kernels/multiple_testing.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/pvalues.hpp"

namespace pwas::kernels {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(MultipleTesting, BenjaminiHochbergByHand) {
  // Non-NaN p sorted: 0.01, 0.03, 0.04, 0.5 (n = 4): q = min over k >= i of 4 p_(k) / k.
  const std::vector<double> p{0.01, 0.04, 0.03, kNaN, 0.5};
  const auto q = benjamini_hochberg(p);
  EXPECT_DOUBLE_EQ(q[0], 0.04);
  EXPECT_DOUBLE_EQ(q[1], 4.0 / 3.0 * 0.04);
  EXPECT_DOUBLE_EQ(q[2], 4.0 / 3.0 * 0.04);
  EXPECT_TRUE(std::isnan(q[3]));
  EXPECT_DOUBLE_EQ(q[4], 0.5);
  const auto q10 = benjamini_hochberg(p, 10.0);  // n = 10 tests in all
  EXPECT_DOUBLE_EQ(q10[0], 0.1);
  EXPECT_DOUBLE_EQ(q10[4], 1.0);
  EXPECT_TRUE(benjamini_hochberg(std::vector<double>{}).empty());
}

TEST(MultipleTesting, Bonferroni) {
  const std::vector<double> p{0.01, 0.3, kNaN, 1e-8};
  const auto b = bonferroni(p, 4.0);
  EXPECT_DOUBLE_EQ(b[0], 0.04);
  EXPECT_DOUBLE_EQ(b[1], 1.0);
  EXPECT_TRUE(std::isnan(b[2]));
  EXPECT_DOUBLE_EQ(b[3], 4e-8);
  EXPECT_DOUBLE_EQ(bonferroni(p, 0.0)[0], 0.03);  // n_tests <= 0: the non-NaN count
}

TEST(MultipleTesting, GenomicInflation) {
  EXPECT_NEAR(genomic_inflation(std::vector<double>{0.5, 0.5, kNaN, 0.5}), 1.0, 1e-14);
  // Even count: the mean of the two middle chi-squares.
  const std::vector<double> p{0.01, 0.2, 0.6, 0.9};
  const double expected = 0.5 * (qchisq_upper(0.2, 1.0) + qchisq_upper(0.6, 1.0)) / qchisq_upper(0.5, 1.0);
  EXPECT_NEAR(genomic_inflation(p), expected, 1e-14);
  EXPECT_TRUE(std::isnan(genomic_inflation(std::vector<double>{kNaN})));
}

}  // namespace
}  // namespace pwas::kernels
