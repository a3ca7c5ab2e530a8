// lane_detail::lane_exp, the exp of the lane passes, against std::exp: within 2 ulp over its whole range, each lane
// on its own (other lanes' values do not matter), and the clamped ends.
#include "kernels/lane_blocks.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace pwas::kernels {
namespace {

double ulps(double got, double want) {
  return std::abs(got - want) / (std::nextafter(want, std::numeric_limits<double>::infinity()) - want);
}

TEST(LaneExp, WithinTwoUlpOfStdExpOverItsRange) {
  std::mt19937_64 gen(7);
  std::uniform_real_distribution<double> wide(-708.0, 709.0), narrow(-40.0, 0.0);
  double worst = 0.0, worst_x = 0.0;
  for (int i = 0; i < 200000; ++i) {
    Lane x;
    for (int b = 0; b < kLanes; ++b) x[b] = (i + b) % 2 == 0 ? wide(gen) : narrow(gen);
    // The edge cases, one per lane over the first iterations (a Lane has 8, 4 or 2 of them).
    const double special[] = {0.0, -0.5 * std::log(2.0), 0.5 * std::log(2.0), 1e-300, -1e-17};
    for (int b = 0; b < kLanes; ++b)
      if (const int k = i * kLanes + b; k < 5) x[b] = special[k];
    const Lane e = lane_detail::lane_exp(x);
    for (int b = 0; b < kLanes; ++b) {
      const double u = ulps(e[b], std::exp(x[b]));
      if (u > worst) worst = u, worst_x = x[b];
    }
  }
  EXPECT_LE(worst, 2.0) << "at x = " << worst_x;
}

TEST(LaneExp, ClampsBelowAndAbove) {
  // Five arguments, as many per call as the build's lanes hold (8 with AVX-512, 4 with AVX2).
  const double arg[] = {-708.0, -800.0, -std::numeric_limits<double>::infinity(), 709.0, 750.0};
  double e[5];
  for (int k0 = 0; k0 < 5; k0 += kLanes) {
    Lane x = Lane{} - 708.0;
    for (int b = 0; b < kLanes && k0 + b < 5; ++b) x[b] = arg[k0 + b];
    const Lane y = lane_detail::lane_exp(x);
    for (int b = 0; b < kLanes && k0 + b < 5; ++b) e[k0 + b] = y[b];
  }
  EXPECT_NEAR(e[0], std::exp(-708.0), 4e-16 * std::exp(-708.0));
  EXPECT_EQ(e[1], e[0]);
  EXPECT_EQ(e[2], e[0]);
  EXPECT_NEAR(e[3], std::exp(709.0), 4e-16 * std::exp(709.0));
  EXPECT_EQ(e[4], e[3]);
  EXPECT_TRUE(std::isfinite(e[4]));
}

}  // namespace
}  // namespace pwas::kernels
