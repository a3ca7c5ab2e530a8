#include "engine/partition.hpp"

#include <algorithm>
#include <numeric>

#include <gtest/gtest.h>

namespace pwas::engine {
namespace {

TEST(DealChunks, EveryItemOnceInAscendingOrder) {
  const std::vector<double> costs(103, 1.0);
  const auto parts = deal_chunks(costs, 4, 5);
  std::vector<int> seen(103, 0);
  for (const auto& p : parts) {
    EXPECT_TRUE(std::is_sorted(p.begin(), p.end()));
    for (auto i : p) ++seen[static_cast<std::size_t>(i)];
  }
  for (int s : seen) EXPECT_EQ(s, 1);
  for (const auto& p : parts) EXPECT_NEAR(static_cast<double>(p.size()), 103.0 / 4, 5.0);
}

TEST(DealChunks, BalancesDriftingCosts) {
  // Costs that grow along the range: contiguous ranges would give the last part most of the work.
  std::vector<double> costs(400);
  for (std::size_t i = 0; i < costs.size(); ++i) costs[i] = 1.0 + static_cast<double>(i) / 100.0;
  const auto parts = deal_chunks(costs, 4, 10);
  double lo = 1e300, hi = 0;
  for (const auto& p : parts) {
    double c = 0;
    for (auto i : p) c += costs[static_cast<std::size_t>(i)];
    lo = std::min(lo, c);
    hi = std::max(hi, c);
  }
  EXPECT_LT(hi / lo, 1.05);
}

TEST(DealChunks, DependsOnlyOnInputs) {
  const std::vector<double> costs = {5, 1, 1, 1, 9, 2, 2, 7};
  EXPECT_EQ(deal_chunks(costs, 3, 2), deal_chunks(costs, 3, 2));
}

}  // namespace
}  // namespace pwas::engine
