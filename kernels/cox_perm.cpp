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

// A replicate's weights can leave a level of a categorical covariate without events: its coefficient then runs to
// -infinity, and the limit the fit approaches is the fit without that level's rows and column (what the engine's
// level guard does for the point estimate). Returns false when the reference level itself loses its events.
bool drop_eventless_levels(const SharedDesign& d, const CoxSurvival& s, std::span<const double> w,
                           std::vector<std::uint8_t>& keep, std::vector<std::uint8_t>& active) {
  for (std::size_t g = 0; g < d.groups.size(); ++g) {
    const auto& grp = d.groups[g];
    std::vector<double> events(grp.cols.size() + 1, 0.0), rows(grp.cols.size() + 1, 0.0);
    for (Eigen::Index i = 0; i < d.n_samples(); ++i) {
      if (!keep[static_cast<std::size_t>(i)] || w[static_cast<std::size_t>(i)] == 0.0) continue;
      const auto code = d.level(i, static_cast<Eigen::Index>(g));
      rows[code] += w[static_cast<std::size_t>(i)];
      if (s.event[static_cast<std::size_t>(i)]) events[code] += w[static_cast<std::size_t>(i)];
    }
    if (rows[0] > 0.0 && events[0] == 0.0) return false;
    for (std::size_t c = 1; c < events.size(); ++c) {
      const auto col = static_cast<std::size_t>(grp.cols[c - 1]);
      if (!active[col] || rows[c] == 0.0 || events[c] > 0.0) continue;
      active[col] = 0;
      for (Eigen::Index i = 0; i < d.n_samples(); ++i)
        if (d.level(i, static_cast<Eigen::Index>(g)) == c) keep[static_cast<std::size_t>(i)] = 0;
    }
  }
  return true;
}

}  // namespace

CoxPerm cox_perm(const SharedDesign& d, const CoxSurvival& s, Eigen::Index exposure, Eigen::Ref<const Eigen::VectorXd> v,
                 std::span<const std::uint8_t> keep, std::span<const std::uint8_t> active, int n_boot,
                 std::uint64_t seed, std::span<double> replicates, CoxWorkspace& ws, const CoxOptions& opt) {
  PWAS_ASSERT(exposure >= 1 && exposure < d.n_cov() && (active.empty() || active[exposure]));
  PWAS_ASSERT(n_boot >= 0 && (replicates.empty() || static_cast<int>(replicates.size()) == n_boot));
  CoxOptions fit_opt = opt;
  fit_opt.ph_test = false;
  // One model at a time (each replicate has its own null model): Newton throughout. The chord's passes are batched
  // 8 fits wide (fit_cox_batch), which a lone fit would pay for in full.
  fit_opt.chord = false;
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
  std::vector<std::uint8_t> keep_b, active_b;
  for (int b = 0; b < n_boot; ++b) {
    poisson_weights(seed, static_cast<std::uint64_t>(b), w);
    keep_b.assign(keep.begin(), keep.end());
    if (active.empty()) active_b.assign(static_cast<std::size_t>(d.n_cov()), 1);
    else active_b.assign(active.begin(), active.end());
    Pair r;
    r.status = FitStatus::kSeparation;
    if (drop_eventless_levels(d, s, w, keep_b, active_b))
      r = fit_pair(d, s, exposure, v, keep_b, active_b, w, ws, fit_opt);
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
