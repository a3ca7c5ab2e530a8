#include "kernels/row_list.hpp"

#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace pwas::kernels {
namespace {

// Every length around the 64-flag blocks, sparse and dense lists, flags other than 0 and 1 (nonzero = set), both ways.
TEST(RowList, ListsTheRowsWhoseFlagIsAsWanted) {
  std::mt19937 gen(3);
  for (const int n : {0, 1, 7, 63, 64, 65, 127, 128, 200, 1000}) {
    for (const double p_set : {0.0, 0.05, 0.5, 0.95, 1.0}) {
      std::vector<std::uint8_t> flags(static_cast<std::size_t>(n));
      std::bernoulli_distribution set(p_set);
      std::uniform_int_distribution<int> value(1, 255);
      for (auto& f : flags) f = set(gen) ? static_cast<std::uint8_t>(n % 2 == 0 ? 1 : value(gen)) : 0;
      for (const bool want : {false, true}) {
        std::vector<long> expected;
        for (int i = 0; i < n; ++i)
          if ((flags[static_cast<std::size_t>(i)] != 0) == want) expected.push_back(i);
        std::vector<long> got(static_cast<std::size_t>(n) + 1, -7);
        const std::size_t m = list_rows(std::span<const std::uint8_t>(flags), want, got.data());
        got.resize(m);
        EXPECT_EQ(got, expected) << n << " " << p_set << " " << want;
      }
    }
  }
}

}  // namespace
}  // namespace pwas::kernels
