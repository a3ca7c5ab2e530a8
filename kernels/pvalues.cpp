#include "kernels/pvalues.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

#include "kernels/assert.hpp"

// Upper tails come from Boost's complement() forms, which evaluate the tail directly (incomplete beta /
// gamma / erfc) instead of 1 - cdf, so p-values far below machine epsilon keep their relative precision.
// Out-of-domain input yields NaN (an error policy that returns instead of throwing). Arithmetic stays in
// double (no promotion to long double): Boost's double-precision approximations are accurate to a few
// ulp. qnorm is R's own algorithm (AS 241), ~10x cheaper than Boost's erf_inv and bit-compatible with R.

namespace pwas::kernels {
namespace {

namespace bm = boost::math;
using Policy = bm::policies::policy<bm::policies::promote_double<false>,
                                    bm::policies::domain_error<bm::policies::ignore_error>,
                                    bm::policies::pole_error<bm::policies::ignore_error>,
                                    bm::policies::overflow_error<bm::policies::ignore_error>,
                                    bm::policies::underflow_error<bm::policies::ignore_error>,
                                    bm::policies::evaluation_error<bm::policies::ignore_error>>;
using Normal = bm::normal_distribution<double, Policy>;
using StudentT = bm::students_t_distribution<double, Policy>;
using ChiSquared = bm::chi_squared_distribution<double, Policy>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

double p_normal_two_sided(double z) {
  if (std::isnan(z)) return kNaN;
  if (std::isinf(z)) return 0.0;
  return 2.0 * bm::cdf(bm::complement(Normal(), std::abs(z)));
}

double p_t_two_sided(double t, double df) {
  if (std::isnan(t) || std::isnan(df) || !(df > 0.0)) return kNaN;
  if (std::isinf(df)) return p_normal_two_sided(t);
  if (std::isinf(t)) return 0.0;
  return 2.0 * bm::cdf(bm::complement(StudentT(df), std::abs(t)));
}

double p_chisq_upper(double x, double df) {
  if (std::isnan(x) || std::isnan(df) || !(df > 0.0)) return kNaN;
  if (x <= 0.0) return 1.0;
  if (std::isinf(x)) return 0.0;
  return bm::cdf(bm::complement(ChiSquared(df), x));
}

namespace {

// The rational functions of AS 241's central branch (|q| <= 0.425, r = 0.180625 - q^2) and first tail branch
// (r = sqrt(-log(min(p, 1 - p))) <= 5), shared by qnorm and qnorm_many so that both round the same way (the
// compiler contracts them into the same fused multiply-adds whether it vectorises the loop or not).
inline double central(double q) {
  const double r = 0.180625 - q * q;
  return q *
         (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r + 67265.770927008700853) * r +
              45921.953931549871457) * r + 13731.693765509461125) * r + 1971.5909503065514427) * r +
           133.14166789178437745) * r + 3.387132872796366608) /
         (((((((r * 5226.495278852545925 + 28729.085735721942674) * r + 39307.89580009271061) * r +
              21213.794301586595867) * r + 5394.1960214247511077) * r + 687.1870074920579083) * r +
           42.313330701600911252) * r + 1.0);
}

inline double near_tail(double r) {
  r -= 1.6;
  return (((((((r * 7.7454501427834140764e-4 + 0.0227238449892691845833) * r + 0.24178072517745061177) * r +
              1.27045825245236838258) * r + 3.64784832476320460504) * r + 5.7694972214606914055) * r +
           4.6303378461565452959) * r + 1.42343711074968357734) /
         (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r +
              0.14810397642748007459) * r + 0.68976733498510000455) * r + 1.6763848301838038494) * r +
           2.05319162663775882187) * r + 1.0);
}

}  // namespace

// Wichura's AS 241 (PPND16, Appl. Statist. 37 (1988) 477), accurate to about 1 part in 1e16, with the
// coefficients, evaluation order and 1 - p = (0.5 - p) + 0.5 of R's qnorm (nmath/qnorm.c, R <= 4.2; the
// branches R 4.3 added only serve log-scale p below exp(-729)), so results match R's to an ulp or so.
double qnorm(double p) {
  if (std::isnan(p) || p < 0.0 || p > 1.0) return kNaN;
  if (p == 0.0) return -kInf;
  if (p == 1.0) return kInf;
  const double q = p - 0.5;
  if (std::abs(q) <= 0.425) return central(q);  // 0.075 <= p <= 0.925
  // r = sqrt(-log(min(p, 1 - p))).
  double r = std::sqrt(-std::log(q > 0.0 ? (0.5 - p + 0.5) : p));
  double val;
  if (r <= 5.0) {  // min(p, 1 - p) >= exp(-25)
    val = near_tail(r);
  } else {
    r -= 5.0;
    val = (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r +
               0.026532189526576123093) * r + 0.29656057182850489123) * r + 1.7848265399172913358) * r +
            5.4637849111641143699) * r + 6.6579046435011037772) /
          (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r +
               7.868691311456132591e-4) * r + 0.0148753612908506148525) * r + 0.13692988092273580531) * r +
            0.59983220655588793769) * r + 1.0);
  }
  return q < 0.0 ? -val : val;
}

void qnorm_many(std::span<const double> p, std::span<double> z) {
  PWAS_ASSERT(p.size() == z.size());
  // Blocks whose values all fall in one branch (every block of a sorted input but two or three) run that branch as
  // a loop without branches, which the compiler vectorises; anything else element by element. The log stays libm's.
  constexpr std::size_t kBlock = 256;
  for (std::size_t b0 = 0; b0 < p.size(); b0 += kBlock) {
    const std::size_t m = std::min(kBlock, p.size() - b0);
    const double* pb = p.data() + b0;
    double* zb = z.data() + b0;
    bool all_central = true, all_lower = true, all_upper = true;
    for (std::size_t k = 0; k < m; ++k) {
      const double x = pb[k];
      all_central = all_central && std::abs(x - 0.5) <= 0.425;
      all_lower = all_lower && x < 0.075 && x >= 1.4e-11;          // exp(-25) < 1.4e-11: r <= 5
      all_upper = all_upper && x > 0.925 && 0.5 - x + 0.5 >= 1.4e-11;
    }
    if (all_central) {
      for (std::size_t k = 0; k < m; ++k) zb[k] = central(pb[k] - 0.5);
    } else if (all_lower || all_upper) {
      double r[kBlock];
      if (all_lower) for (std::size_t k = 0; k < m; ++k) r[k] = -std::log(pb[k]);
      else for (std::size_t k = 0; k < m; ++k) r[k] = -std::log(0.5 - pb[k] + 0.5);
      for (std::size_t k = 0; k < m; ++k) zb[k] = near_tail(std::sqrt(r[k]));
      if (all_lower) for (std::size_t k = 0; k < m; ++k) zb[k] = -zb[k];
    } else {
      for (std::size_t k = 0; k < m; ++k) zb[k] = qnorm(pb[k]);
    }
  }
}

double qt(double p, double df) {
  if (std::isnan(p) || std::isnan(df) || !(df > 0.0) || p < 0.0 || p > 1.0) return kNaN;
  if (p == 0.0) return -kInf;
  if (p == 1.0) return kInf;
  if (std::isinf(df)) return qnorm(p);
  return bm::quantile(StudentT(df), p);
}

double qchisq_upper(double p, double df) {
  if (std::isnan(p) || std::isnan(df) || !(df > 0.0) || p < 0.0 || p > 1.0) return kNaN;
  if (p == 0.0) return kInf;
  if (p == 1.0) return 0.0;
  return bm::quantile(bm::complement(ChiSquared(df), p));
}

}  // namespace pwas::kernels
