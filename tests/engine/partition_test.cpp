#include "engine/partition.hpp"

#include <numeric>

#include <gtest/gtest.h>

namespace pwas::engine {
namespace {

void expect_cover(const std::vector<Range>& parts, std::int64_t n) {
  std::int64_t next = 0;
  for (const auto& r : parts) {
    EXPECT_EQ(r.begin, next);
    EXPECT_LE(r.begin, r.end);
    next = r.end;
  }
  EXPECT_EQ(next, n);
}

TEST(Partition, EqualCostsSplitEvenly) {
  const std::vector<double> costs(10, 1.0);
  const auto parts = partition_by_cost(costs, 3);
  ASSERT_EQ(parts.size(), 3u);
  expect_cover(parts, 10);
  for (const auto& r : parts) EXPECT_NEAR(static_cast<double>(r.size()), 10.0 / 3, 1.0);
}

TEST(Partition, BalancesByCostNotCount) {
  // One expensive item and many cheap ones: the expensive one gets a part nearly to itself.
  std::vector<double> costs(9, 1.0);
  costs.insert(costs.begin(), 9.0);
  const auto parts = partition_by_cost(costs, 2);
  expect_cover(parts, 10);
  EXPECT_EQ(parts[0].size(), 1);
  EXPECT_EQ(parts[1].size(), 9);
}

TEST(Partition, MorePartsThanItemsLeavesEmptyRanges) {
  const std::vector<double> costs(2, 1.0);
  const auto parts = partition_by_cost(costs, 4);
  expect_cover(parts, 2);
  std::int64_t nonempty = 0;
  for (const auto& r : parts) nonempty += r.size() > 0;
  EXPECT_EQ(nonempty, 2);
}

TEST(Partition, OnePartTakesEverything) {
  const std::vector<double> costs = {3, 1, 4, 1, 5};
  const auto parts = partition_by_cost(costs, 1);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].begin, 0);
  EXPECT_EQ(parts[0].end, 5);
}

}  // namespace
}  // namespace pwas::engine
