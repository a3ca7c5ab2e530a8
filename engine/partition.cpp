#include "engine/partition.hpp"

#include <algorithm>

#include "kernels/assert.hpp"

namespace pwas::engine {

std::vector<std::vector<std::int64_t>> deal_chunks(std::span<const double> costs, int n_parts, std::int64_t chunk) {
  PWAS_ASSERT(n_parts >= 1 && chunk >= 1);
  const auto n = static_cast<std::int64_t>(costs.size());
  // Longest-processing-time first: the most expensive chunk goes to the least loaded part.
  std::vector<std::pair<double, std::int64_t>> chunks;   // (cost, first item)
  for (std::int64_t begin = 0; begin < n; begin += chunk) {
    double c = 0.0;
    for (std::int64_t i = begin; i < std::min(n, begin + chunk); ++i) c += costs[static_cast<std::size_t>(i)];
    chunks.emplace_back(c, begin);
  }
  std::stable_sort(chunks.begin(), chunks.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::vector<std::int64_t>> parts(static_cast<std::size_t>(n_parts));
  std::vector<double> load(static_cast<std::size_t>(n_parts), 0.0);
  for (const auto& [c, begin] : chunks) {
    const auto least = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    for (std::int64_t i = begin; i < std::min(n, begin + chunk); ++i) parts[least].push_back(i);
    load[least] += c;
  }
  for (auto& p : parts) std::sort(p.begin(), p.end());
  return parts;
}

}  // namespace pwas::engine
