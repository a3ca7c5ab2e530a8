#include "kernels/cox_perm.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/assert.hpp"
#include "kernels/resampling.hpp"

namespace pwas::kernels {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// (HR_without - HR_with) / (HR_without - 1) x 100 from the exposure's coefficients in the two models.
double perm_of(double beta_without, double beta_with) {
  const double hw = std::exp(beta_without);
  return (hw - std::exp(beta_with)) / (hw - 1.0) * 100.0;
}

struct Pair {
  double beta_without = kNaN, beta_with = kNaN;
  FitStatus status = FitStatus::kOk;
};

// Both models on the kept rows with frequency weights (empty: 1): the null first, reused by the full fit.
Pair fit_pair(const SharedDesign& d, const CoxSurvival& s, Eigen::Index exposure, Eigen::Ref<const Eigen::VectorXd> v,
              std::span<const std::uint8_t> keep, std::span<const std::uint8_t> active, std::span<const double> w,
              CoxWorkspace& ws, const CoxOptions& opt) {
  Pair out;
  const CoxNull null = make_cox_null(d, s, keep, active, w, ws, opt);
  if (!null.ok()) {
    out.status = null.fit.status;
    return out;
  }
  const CoxFit full = fit_cox(d, s, &null, v, keep, active, w, ws, opt);
  if (full.status != FitStatus::kOk) {
    out.status = full.status;
    return out;
  }
  out.beta_without = null.fit.beta(exposure);
  out.beta_with = full.beta(exposure);
  return out;
}

}  // namespace

CoxPerm cox_perm(const SharedDesign& d, const CoxSurvival& s, Eigen::Index exposure, Eigen::Ref<const Eigen::VectorXd> v,
                 std::span<const std::uint8_t> keep, std::span<const std::uint8_t> active, int n_boot,
                 std::uint64_t seed, std::span<double> replicates, CoxWorkspace& ws, const CoxOptions& opt) {
  PWAS_ASSERT(exposure >= 1 && exposure < d.n_cov() && (active.empty() || active[exposure]));
  PWAS_ASSERT(n_boot >= 0 && (replicates.empty() || static_cast<int>(replicates.size()) == n_boot));
  CoxOptions fit_opt = opt;
  fit_opt.ph_test = false;
  CoxPerm out;
  out.hr_without = out.hr_with = out.perm = out.lower = out.upper = kNaN;
  const Pair point = fit_pair(d, s, exposure, v, keep, active, {}, ws, fit_opt);
  out.status = point.status;
  if (point.status != FitStatus::kOk) return out;
  out.hr_without = std::exp(point.beta_without);
  out.hr_with = std::exp(point.beta_with);
  out.perm = perm_of(point.beta_without, point.beta_with);

  std::vector<double> w(static_cast<std::size_t>(d.n_samples()));
  std::vector<double> boot;
  boot.reserve(static_cast<std::size_t>(n_boot));
  for (int b = 0; b < n_boot; ++b) {
    poisson_weights(seed, static_cast<std::uint64_t>(b), w);
    const Pair r = fit_pair(d, s, exposure, v, keep, active, w, ws, fit_opt);
    const double perm_b = r.status == FitStatus::kOk ? perm_of(r.beta_without, r.beta_with) : kNaN;
    if (!replicates.empty()) replicates[static_cast<std::size_t>(b)] = perm_b;
    if (std::isfinite(perm_b)) {
      boot.push_back(perm_b);
      ++out.replicates_ok;
    }
  }
  const Interval ci = bootstrap_interval(boot, out.perm, false, 0.0);
  out.lower = ci.lower;
  out.upper = ci.upper;
  return out;
}

}  // namespace pwas::kernels
