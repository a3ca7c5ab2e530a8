#include "engine/partition.hpp"

#include "kernels/assert.hpp"

namespace pwas::engine {

std::vector<Range> partition_by_cost(std::span<const double> costs, int n_parts) {
  PWAS_ASSERT(n_parts >= 1);
  const auto n = static_cast<std::int64_t>(costs.size());
  double total = 0.0;
  for (double c : costs) {
    PWAS_ASSERT(c >= 0.0);
    total += c;
  }
  std::vector<Range> out(static_cast<std::size_t>(n_parts));
  std::int64_t i = 0;
  double running = 0.0;
  for (int r = 0; r < n_parts; ++r) {
    out[static_cast<std::size_t>(r)].begin = i;
    if (r == n_parts - 1) {
      i = n;
    } else {
      const double target = total * static_cast<double>(r + 1) / n_parts;
      // Take items while doing so brings the running cost closer to the target.
      while (i < n && (running + costs[static_cast<std::size_t>(i)] / 2.0) <= target) {
        running += costs[static_cast<std::size_t>(i)];
        ++i;
      }
    }
    out[static_cast<std::size_t>(r)].end = i;
  }
  return out;
}

}  // namespace pwas::engine
