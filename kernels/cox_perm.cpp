#include "kernels/cox_perm.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/assert.hpp"
#include "kernels/cox_detail.hpp"
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
  // A replicate whose lane cannot run (its chord gave way, or a level lost its events) is fitted alone, by Newton
  // throughout: the chord's passes are kLanes wide, which a lone fit would pay for in full.
  CoxOptions exact_opt = fit_opt;
  exact_opt.chord = false;
  CoxPerm out;
  out.hr_without = out.hr_with = out.perm = out.lower = out.upper = kNaN;
  const Pair point = fit_pair(d, s, exposure, v, keep, active, {}, ws, exact_opt);
  out.status = point.status;
  if (point.status != FitStatus::kOk) return out;
  out.hr_without = std::exp(point.beta_without);
  out.hr_with = std::exp(point.beta_with);
  out.perm = perm_of(point.beta_without, point.beta_with);

  // The replicates kLanes at a time: each replicate's two models are one lane of fit_cox_estimates_batch (the
  // covariates-only refit and the full fit from the point estimate's null model). A replicate's value depends only
  // on (seed, replicate), whichever replicates share its batch.
  CoxOptions lane_opt = fit_opt;
  lane_opt.chord = true;
  const CoxNull null = make_cox_null(d, s, keep, active, {}, ws, lane_opt);
  const auto n = static_cast<std::size_t>(d.n_samples());
  std::array<std::vector<double>, kLanes> w;
  std::array<std::vector<std::uint8_t>, kLanes> keep_b, active_b;
  std::array<Eigen::VectorXd, kLanes> refit, full;
  std::array<std::uint8_t, kLanes> done{};
  std::vector<double> boot;
  boot.reserve(static_cast<std::size_t>(n_boot));
  for (int b0 = 0; b0 < n_boot; b0 += kLanes) {
    const int m = std::min(kLanes, n_boot - b0);
    std::array<const double*, kLanes> vs{};
    std::array<std::span<const std::uint8_t>, kLanes> keeps, actives;
    std::array<std::span<const double>, kLanes> weights;
    std::array<bool, kLanes> levels_ok{};
    int n_lanes = 0;
    std::array<int, kLanes> lane_of{};
    done.fill(0);
    for (int j = 0; j < m; ++j) {
      w[j].resize(n);
      poisson_weights(seed, static_cast<std::uint64_t>(b0 + j), w[j]);
      keep_b[j].assign(keep.begin(), keep.end());
      if (active.empty()) active_b[j].assign(static_cast<std::size_t>(d.n_cov()), 1);
      else active_b[j].assign(active.begin(), active.end());
      levels_ok[j] = drop_eventless_levels(d, s, w[j], keep_b[j], active_b[j]);
      lane_of[j] = -1;
      if (!levels_ok[j] || !null.ok()) continue;
      lane_of[j] = n_lanes;
      vs[n_lanes] = v.data();
      keeps[n_lanes] = keep_b[j];
      actives[n_lanes] = active_b[j];
      weights[n_lanes] = w[j];
      ++n_lanes;
    }
    if (n_lanes > 0) {
      const auto k = static_cast<std::size_t>(n_lanes);
      cox_detail::fit_cox_estimates_batch(d, s, null, std::span(vs.data(), k), std::span(keeps.data(), k),
                                          std::span(actives.data(), k), std::span(weights.data(), k), ws,
                                          {std::span(refit.data(), k), std::span(full.data(), k), std::span(done.data(), k)},
                                          lane_opt);
    }
    for (int j = 0; j < m; ++j) {
      Pair r;
      r.status = FitStatus::kSeparation;
      if (lane_of[j] >= 0 && done[static_cast<std::size_t>(lane_of[j])]) {
        r.status = FitStatus::kOk;
        r.beta_without = refit[static_cast<std::size_t>(lane_of[j])](exposure);
        r.beta_with = full[static_cast<std::size_t>(lane_of[j])](exposure);
      } else if (levels_ok[j]) {
        r = fit_pair(d, s, exposure, v, keep_b[j], active_b[j], w[j], ws, exact_opt);
        ++out.replicates_alone;
      }
      const double perm_b = r.status == FitStatus::kOk ? perm_of(r.beta_without, r.beta_with) : kNaN;
      if (!replicates.empty()) replicates[static_cast<std::size_t>(b0 + j)] = perm_b;
      if (std::isfinite(perm_b)) {
        boot.push_back(perm_b);
        ++out.replicates_ok;
      }
    }
  }
  const Interval ci = bootstrap_interval(boot, out.perm, false, 0.0);
  out.lower = ci.lower;
  out.upper = ci.upper;
  return out;
}

}  // namespace pwas::kernels
