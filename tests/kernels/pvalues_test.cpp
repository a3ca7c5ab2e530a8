// Distribution tails and quantiles: known values, symmetry, far tails, and out-of-domain input.
#include "kernels/pvalues.hpp"

#include <gtest/gtest.h>

#include <vector>

#include <cmath>
#include <limits>

namespace pwas::kernels {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(PValues, KnownValues) {
  EXPECT_NEAR(qnorm(0.975), 1.959963984540054, 1e-15);
  EXPECT_NEAR(p_normal_two_sided(1.959963984540054), 0.05, 1e-15);
  EXPECT_NEAR(p_chisq_upper(3.841458820694124, 1.0), 0.05, 1e-15);
  EXPECT_NEAR(qchisq_upper(0.05, 1.0), 3.841458820694124, 1e-13);
  EXPECT_NEAR(qchisq_upper(0.5, 1.0), 0.4549364231195724, 1e-15);
  // t with 1 df is Cauchy: P(|T| > 1) = 1/2.
  EXPECT_NEAR(p_t_two_sided(1.0, 1.0), 0.5, 1e-15);
  EXPECT_NEAR(qt(0.75, 1.0), 1.0, 1e-14);
  EXPECT_EQ(p_t_two_sided(0.0, 5.0), 1.0);
  EXPECT_EQ(p_chisq_upper(0.0, 3.0), 1.0);
}

TEST(PValues, SymmetryAndFarTails) {
  EXPECT_EQ(p_t_two_sided(-2.3, 17.0), p_t_two_sided(2.3, 17.0));
  EXPECT_NEAR(qnorm(0.2), -qnorm(0.8), 1e-15);
  // 2 Phi(-40) ~ 7.3e-350 underflows; 2 Phi(-37) ~ 1.1e-299 must not lose its exponent.
  EXPECT_NEAR(p_normal_two_sided(37.0) / 1.1451142445049154e-299, 1.0, 1e-12);  // R: 2 * pnorm(-37)
  EXPECT_GT(p_t_two_sided(50.0, 1000.0), 0.0);
  EXPECT_EQ(p_normal_two_sided(kInf), 0.0);
  EXPECT_EQ(p_t_two_sided(-kInf, 3.0), 0.0);
  EXPECT_EQ(p_t_two_sided(1.5, kInf), p_normal_two_sided(1.5));
}

TEST(PValues, OutOfDomainIsNaN) {
  EXPECT_TRUE(std::isnan(p_t_two_sided(kNaN, 3.0)));
  EXPECT_TRUE(std::isnan(p_t_two_sided(1.0, 0.0)));
  EXPECT_TRUE(std::isnan(p_normal_two_sided(kNaN)));
  EXPECT_TRUE(std::isnan(p_chisq_upper(1.0, -1.0)));
  EXPECT_TRUE(std::isnan(qnorm(1.5)));
  EXPECT_TRUE(std::isnan(qt(0.5, -2.0)));
  EXPECT_EQ(qnorm(0.0), -kInf);
  EXPECT_EQ(qnorm(1.0), kInf);
}

TEST(PValues, QnormManyEqualsQnormBitForBitOnEveryBranch) {
  // Sorted Blom probabilities (the RIN's use: whole vector blocks per branch), then values that mix the branches in
  // one block, the far tail (r > 5), the ends and invalid input (element by element). Both evaluate the same
  // inline rational functions, so the vectorised blocks must round exactly as the scalar code.
  std::vector<double> p;
  const int n = 5000;
  for (int r = 1; r <= n; ++r) p.push_back((r - 0.375) / (n + 0.25));
  for (const double x : {0.5, 1e-3, 0.999, 0.075, 0.925, 1e-20, 1.0 - 1e-12, 0.0, 1.0, -0.1, 1.1,
                         std::numeric_limits<double>::quiet_NaN(), 1e-300, 0.3})
    p.push_back(x);
  std::vector<double> z(p.size());
  qnorm_many(p, z);
  for (std::size_t k = 0; k < p.size(); ++k) {
    const double expected = qnorm(p[k]);
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(z[k])) << p[k];
    } else if (std::isinf(expected)) {
      EXPECT_EQ(z[k], expected) << p[k];
    } else {
      EXPECT_EQ(z[k], expected) << p[k];
    }
  }
}

}  // namespace
}  // namespace pwas::kernels
