#pragma once
// Replicates for resampling inference, drawn from counter-based streams keyed by (seed, purpose, replicate) so a
// replicate is the same for every protein, rank and thread (docs/resampling.md), and the small formulas that turn
// the engines' matrix products into statistics and intervals.
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Dense>

namespace pwas::kernels {

/// Stream purposes (id0 of RandomStream): one family of replicates each.
enum class ReplicateKind : std::uint64_t { kPermutation = 0x7065726d, kBootstrap = 0x626f6f74, kSplitHalf = 0x73706c74 };

/// order[i] = the sample whose value row i receives in permutation `replicate` (uniform over all n! orders):
/// Fisher–Yates from the stream (seed, kPermutation, replicate).
void shared_permutation(std::uint64_t seed, std::uint64_t replicate, std::span<std::uint32_t> order);

/// w[i] ~ Poisson(1) independently (the Poisson bootstrap: resampling counts for a sample of any size, so a
/// protein's complete cases get an ordinary bootstrap of themselves), from (seed, kBootstrap, replicate).
void poisson_weights(std::uint64_t seed, std::uint64_t replicate, std::span<double> w);

/// sign[i] = +1 for half A, -1 for half B of split `split`: within each stratum (e.g. cases and controls) a
/// uniformly random half (the larger half alternates by stratum) goes to A; rows with stratum < 0 get 0.
void half_split(std::uint64_t seed, std::uint64_t split, std::span<const std::int32_t> stratum,
                std::span<double> sign);

/// Two-sided permutation p-value with the observed statistic counted as one replicate: (1 + exceed) / (1 + used)
/// (Phipson & Smyth 2010). Besag–Clifford sequential stopping after h exceedances gives h / used instead.
double permutation_p(std::int64_t exceed, std::int64_t used, bool stopped_early);

/// Partial correlation r = num / sqrt(ss_shared * ss_protein) turned into Student's t with df degrees of
/// freedom, t = r sqrt(df / (1 - r^2)): the t of the predictor in y ~ C + x (symmetric in x and y).
double partial_t(double num, double ss_shared, double ss_protein, double df);

/// Percentile (Efron) or BCa (Efron 1987) 95% interval of replicates `boot` around `estimate`; for BCa the
/// acceleration comes from the empirical influence values `influence` (a = sum u^3 / (6 (sum u^2)^1.5)).
/// `boot` is reordered. Returns {NaN, NaN} when fewer than 20 replicates are finite.
struct Interval {
  double lower, upper;
};
Interval bootstrap_interval(std::span<double> boot, double estimate, bool bca, double acceleration);

/// The BCa acceleration of a linear statistic with influence values u (rows with u = 0 count as absent).
double bca_acceleration(std::span<const double> u);

}  // namespace pwas::kernels
