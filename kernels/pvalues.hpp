#pragma once
// Distribution tails for test statistics, computed without cancellation (complements, not 1 - cdf).
#include <span>

namespace pwas::kernels {

/// Two-sided p for a t statistic with df degrees of freedom: 2 * P(T_df > |t|).
double p_t_two_sided(double t, double df);
/// Two-sided p for a standard normal statistic: 2 * P(Z > |z|).
double p_normal_two_sided(double z);
/// Upper tail P(X > x) of a chi-square with df degrees of freedom.
double p_chisq_upper(double x, double df);
/// Standard normal quantile Phi^{-1}(p), 0 < p < 1.
double qnorm(double p);

/// z[k] = qnorm(p[k]) for a whole array, vectorised where a block of values shares a branch (sorted input: nearly
/// everywhere); equal to qnorm's values to an ulp or so. z may be p itself (in place).
void qnorm_many(std::span<const double> p, std::span<double> z);
/// Quantile of the t distribution with df degrees of freedom.
double qt(double p, double df);
/// Upper-tail chi-square quantile: the x with P(X > x) = p for df degrees of freedom.
double qchisq_upper(double p, double df);

}  // namespace pwas::kernels
