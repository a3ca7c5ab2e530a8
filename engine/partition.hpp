#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace pwas::engine {

/// Half-open index range [begin, end).
struct Range {
  std::int64_t begin = 0;
  std::int64_t end = 0;
  std::int64_t size() const { return end - begin; }
};

/// Splits items 0..costs.size()-1 into n_parts contiguous ranges of near-equal total cost (greedy on the prefix
/// sums: part r ends where the running cost first reaches (r + 1) / n_parts of the total). Contiguous ranges keep
/// each rank's HDF5 reads to one hyperslab. Empty ranges are possible when there are more parts than items.
std::vector<Range> partition_by_cost(std::span<const double> costs, int n_parts);

}  // namespace pwas::engine
