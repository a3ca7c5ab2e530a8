#include "kernels/multiple_testing.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "kernels/pvalues.hpp"

namespace pwas::kernels {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::size_t count_non_nan(std::span<const double> p) {
  return static_cast<std::size_t>(std::count_if(p.begin(), p.end(), [](double x) { return !std::isnan(x); }));
}

}  // namespace

std::vector<double> bonferroni(std::span<const double> p, double n_tests) {
  // n_tests <= 0 means "the number of non-NaN p", R's default n.
  const double n = n_tests > 0.0 ? n_tests : static_cast<double>(count_non_nan(p));
  std::vector<double> out(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) out[i] = std::isnan(p[i]) ? kNaN : std::min(1.0, n * p[i]);
  return out;
}

std::vector<double> benjamini_hochberg(std::span<const double> p, double n_tests) {
  // R: i <- lp:1; o <- order(p, decreasing = TRUE); pmin(1, cummin(n / i * p[o]))[order(o)].
  std::vector<std::size_t> order;
  order.reserve(p.size());
  for (std::size_t i = 0; i < p.size(); ++i)
    if (!std::isnan(p[i])) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p[a] > p[b]; });
  const std::size_t lp = order.size();
  const double n = std::max(static_cast<double>(lp), n_tests);
  std::vector<double> out(p.size(), kNaN);
  double running = std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < lp; ++k) {
    const double rank = static_cast<double>(lp - k);
    running = std::min(running, n / rank * p[order[k]]);
    out[order[k]] = std::min(1.0, running);
  }
  return out;
}

double genomic_inflation(std::span<const double> p) {
  std::vector<double> chi2;
  chi2.reserve(p.size());
  for (const double x : p)
    if (!std::isnan(x)) chi2.push_back(qchisq_upper(x, 1.0));
  if (chi2.empty()) return kNaN;
  // Median as R's median(): the mean of the two middle values for an even count.
  const std::size_t half = chi2.size() / 2;
  std::nth_element(chi2.begin(), chi2.begin() + static_cast<std::ptrdiff_t>(half), chi2.end());
  double median = chi2[half];
  if (chi2.size() % 2 == 0) median = 0.5 * (median + *std::max_element(chi2.begin(), chi2.begin() + static_cast<std::ptrdiff_t>(half)));
  return median / qchisq_upper(0.5, 1.0);
}

}  // namespace pwas::kernels
