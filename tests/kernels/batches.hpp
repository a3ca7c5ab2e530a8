#pragma once
// Batches of at most kLanes fits (8 with AVX-512, 4 with AVX2) from a list of fit indices, in order: the batch tests
// run every order the same way on every build.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "kernels/lanes.hpp"

namespace pwas::kernels::testing {

inline std::vector<std::vector<std::size_t>> lane_batches(const std::vector<std::size_t>& order) {
  std::vector<std::vector<std::size_t>> out;
  for (std::size_t k0 = 0; k0 < order.size(); k0 += kLanes)
    out.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(k0),
                     order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), k0 + kLanes)));
  return out;
}

}  // namespace pwas::kernels::testing
