#pragma once
// Batches of at most kLanes fits (8 with AVX-512, 4 with AVX2) from a list of fit indices, in order: the batch tests
// run every order the same way on every build.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include <Eigen/Dense>
#include <gtest/gtest.h>

#include "kernels/lanes.hpp"

namespace pwas::kernels::testing {

inline std::vector<std::vector<std::size_t>> lane_batches(const std::vector<std::size_t>& order) {
  std::vector<std::vector<std::size_t>> out;
  for (std::size_t k0 = 0; k0 < order.size(); k0 += kLanes)
    out.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(k0),
                     order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), k0 + kLanes)));
  return out;
}

/// A batched fit's estimates against the same fit alone, bitwise: NaN where the fit has none, else the same double.
inline void expect_same_estimates(const Eigen::VectorXd& beta_alone, const Eigen::VectorXd& se_alone,
                                  const Eigen::VectorXd& beta_batch, const Eigen::VectorXd& se_batch, std::size_t fit) {
  ASSERT_EQ(beta_alone.size(), beta_batch.size());
  for (Eigen::Index j = 0; j < beta_alone.size(); ++j) {
    EXPECT_EQ(std::isnan(beta_alone(j)), std::isnan(beta_batch(j))) << fit << " " << j;
    if (std::isnan(beta_alone(j))) continue;
    EXPECT_EQ(beta_alone(j), beta_batch(j)) << fit << " " << j;
    EXPECT_EQ(se_alone(j), se_batch(j)) << fit << " " << j;
  }
}

}  // namespace pwas::kernels::testing
