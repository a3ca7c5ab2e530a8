#include "kernels/resampling.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "kernels/assert.hpp"
#include "kernels/pvalues.hpp"
#include "kernels/random_stream.hpp"

namespace pwas::kernels {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// P(K <= k) for K ~ Poisson(1), k = 0..kMax; the tail beyond 20 has probability < 1e-19 (never drawn).
constexpr int kPoissonMax = 20;
const std::array<double, kPoissonMax + 1>& poisson_cdf() {
  static const std::array<double, kPoissonMax + 1> cdf = [] {
    std::array<double, kPoissonMax + 1> c{};
    double term = std::exp(-1.0), sum = 0.0;
    for (int k = 0; k <= kPoissonMax; ++k) {
      sum += term;
      c[static_cast<std::size_t>(k)] = sum;
      term /= static_cast<double>(k + 1);
    }
    return c;
  }();
  return cdf;
}

// Type 7 quantile (R's default) of sorted finite values.
double quantile_sorted(const std::vector<double>& s, double prob) {
  const double h = (static_cast<double>(s.size()) - 1.0) * prob;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, s.size() - 1);
  return s[lo] + (h - static_cast<double>(lo)) * (s[hi] - s[lo]);
}

}  // namespace

void shared_permutation(std::uint64_t seed, std::uint64_t replicate, std::span<std::uint32_t> order) {
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
  RandomStream rs(seed, static_cast<std::uint64_t>(ReplicateKind::kPermutation), replicate);
  rs.shuffle(order.begin(), order.end());
}

void poisson_weights(std::uint64_t seed, std::uint64_t replicate, std::span<double> w) {
  const auto& cdf = poisson_cdf();
  RandomStream rs(seed, static_cast<std::uint64_t>(ReplicateKind::kBootstrap), replicate);
  for (double& x : w) {
    const double u = rs.uniform();
    int k = 0;
    while (k < kPoissonMax && u >= cdf[static_cast<std::size_t>(k)]) ++k;
    x = static_cast<double>(k);
  }
}

void half_split(std::uint64_t seed, std::uint64_t split, std::span<const std::int32_t> stratum,
                std::span<double> sign) {
  PWAS_ASSERT(stratum.size() == sign.size());
  std::int32_t n_strata = 0;
  for (auto s : stratum) n_strata = std::max(n_strata, s + 1);
  std::vector<std::vector<std::uint32_t>> members(static_cast<std::size_t>(n_strata));
  for (std::size_t i = 0; i < stratum.size(); ++i) {
    sign[i] = 0.0;
    if (stratum[i] >= 0) members[static_cast<std::size_t>(stratum[i])].push_back(static_cast<std::uint32_t>(i));
  }
  RandomStream rs(seed, static_cast<std::uint64_t>(ReplicateKind::kSplitHalf), split);
  for (std::size_t s = 0; s < members.size(); ++s) {
    auto& m = members[s];
    rs.shuffle(m.begin(), m.end());
    const std::size_t half = (m.size() + (s % 2)) / 2;
    for (std::size_t t = 0; t < m.size(); ++t) sign[m[t]] = t < half ? 1.0 : -1.0;
  }
}

double permutation_p(std::int64_t exceed, std::int64_t used, bool stopped_early) {
  if (used <= 0) return kNaN;
  if (stopped_early) return static_cast<double>(exceed) / static_cast<double>(used);
  return static_cast<double>(exceed + 1) / static_cast<double>(used + 1);
}

double partial_t(double num, double ss_shared, double ss_protein, double df) {
  if (!(ss_shared > 0.0) || !(ss_protein > 0.0) || !(df > 0.0)) return kNaN;
  const double r = num / std::sqrt(ss_shared * ss_protein);
  const double one_minus = std::max(1.0 - r * r, std::numeric_limits<double>::min());
  return r * std::sqrt(df / one_minus);
}

double bca_acceleration(std::span<const double> u) {
  double s2 = 0.0, s3 = 0.0;
  for (double x : u) {
    s2 += x * x;
    s3 += x * x * x;
  }
  return s2 > 0.0 ? s3 / (6.0 * std::pow(s2, 1.5)) : 0.0;
}

Interval bootstrap_interval(std::span<double> boot, double estimate, bool bca, double acceleration) {
  std::vector<double> s;
  s.reserve(boot.size());
  for (double x : boot)
    if (std::isfinite(x)) s.push_back(x);
  if (s.size() < 20 || !std::isfinite(estimate)) return {kNaN, kNaN};
  std::sort(s.begin(), s.end());
  double lo = 0.025, hi = 0.975;
  if (bca) {
    // z0 = Phi^-1(share of replicates below the estimate, ties counted half).
    const auto below = std::lower_bound(s.begin(), s.end(), estimate) - s.begin();
    const auto upto = std::upper_bound(s.begin(), s.end(), estimate) - s.begin();
    const double share = (static_cast<double>(below) + 0.5 * static_cast<double>(upto - below)) / static_cast<double>(s.size());
    const double z0 = qnorm(std::clamp(share, 0.5 / static_cast<double>(s.size()), 1.0 - 0.5 / static_cast<double>(s.size())));
    // alpha' = Phi(z0 + (z0 + z_alpha) / (1 - a (z0 + z_alpha))).
    auto adjusted = [&](double alpha) {
      const double z = z0 + qnorm(alpha);
      return 0.5 * std::erfc(-(z0 + z / (1.0 - acceleration * z)) / std::sqrt(2.0));
    };
    lo = adjusted(0.025);
    hi = adjusted(0.975);
  }
  return {quantile_sorted(s, lo), quantile_sorted(s, hi)};
}

}  // namespace pwas::kernels
