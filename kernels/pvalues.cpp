#include "kernels/pvalues.hpp"

#include <cmath>
#include <limits>

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

// Upper tails come from Boost's complement() forms, which evaluate the tail directly (incomplete beta /
// gamma / erfc) instead of 1 - cdf, so p-values far below machine epsilon keep their relative precision.
// Out-of-domain input yields NaN (an error policy that returns instead of throwing). Arithmetic stays in
// double (no promotion to long double): Boost's double-precision approximations are accurate to a few
// ulp, and promotion made rank_inverse_normal's qnorm the dominant cost of a protein's linear fit.

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

double qnorm(double p) {
  if (std::isnan(p) || p < 0.0 || p > 1.0) return kNaN;
  if (p == 0.0) return -kInf;
  if (p == 1.0) return kInf;
  return bm::quantile(Normal(), p);
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
