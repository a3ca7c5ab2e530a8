#include "kernels/rank_normal.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "kernels/assert.hpp"
#include "kernels/pvalues.hpp"

namespace pwas::kernels {

void rank_inverse_normal(Eigen::Ref<Eigen::VectorXd> x, std::span<const std::uint8_t> keep) {
  PWAS_ASSERT(static_cast<Eigen::Index>(keep.size()) == x.size());
  // Kept NaN entries stay NaN and are not ranked (R: rank(x, na.last = "keep")).
  std::vector<std::pair<double, Eigen::Index>> order;
  order.reserve(keep.size());
  for (Eigen::Index i = 0; i < x.size(); ++i)
    if (keep[i] && !std::isnan(x[i])) order.emplace_back(x[i], i);
  std::sort(order.begin(), order.end());
  const std::size_t n = order.size();
  const double denominator = static_cast<double>(n) + 0.25;
  for (std::size_t first = 0; first < n;) {
    std::size_t last = first;
    while (last + 1 < n && order[last + 1].first == order[first].first) ++last;
    // Blom: qnorm((r - 3/8) / (n + 1/4)), r the average of the 1-based ranks first+1..last+1.
    const double rank = 0.5 * static_cast<double>(first + last + 2);
    const double z = qnorm((rank - 0.375) / denominator);
    for (std::size_t k = first; k <= last; ++k) x[order[k].second] = z;
    first = last + 1;
  }
}

void zscore(Eigen::Ref<Eigen::VectorXd> x, std::span<const std::uint8_t> keep) {
  PWAS_ASSERT(static_cast<Eigen::Index>(keep.size()) == x.size());
  double n = 0.0, sum = 0.0;
  for (Eigen::Index i = 0; i < x.size(); ++i)
    if (keep[i]) {
      n += 1.0;
      sum += x[i];
    }
  if (n == 0.0) return;
  double mean = sum / n;
  double residue = 0.0;
  for (Eigen::Index i = 0; i < x.size(); ++i)
    if (keep[i]) residue += x[i] - mean;
  mean += residue / n;  // second pass: corrected two-pass mean
  double ss = 0.0;
  for (Eigen::Index i = 0; i < x.size(); ++i)
    if (keep[i]) ss += (x[i] - mean) * (x[i] - mean);
  // A constant or single value gives 0/0 = NaN, as R's scale().
  const double sd = std::sqrt(ss / (n - 1.0));
  for (Eigen::Index i = 0; i < x.size(); ++i)
    if (keep[i]) x[i] = (x[i] - mean) / sd;
}

}  // namespace pwas::kernels
