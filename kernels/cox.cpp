// Cox fits: Newton-Raphson with step halving on the log partial likelihood (as survival's coxfit6), the
// information from one weighted Gram per iteration (cox_pass.cpp), the covariates-only model on the same rows
// first so that the score test and the LRT compare nested models on identical rows.
#include "kernels/cox.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/anderson.hpp"
#include "kernels/assert.hpp"
#include "kernels/cox_detail.hpp"
#include "kernels/pvalues.hpp"

namespace pwas::kernels {
namespace {

using Eigen::Index;
using cox_detail::Problem;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kMaxHalvings = 30;
// A full Newton step may lower the log-likelihood by rounding only.
constexpr double kHalvingSlack = 1e-10;
// Monotone likelihood: the Newton step keeps moving some linear predictor by more than kDriftEta while the
// log-likelihood it promises to gain, U's / 2, is below kFlatGain relative. At a finite maximum the gain is
// ~ the square of the eta movement times the events (quadratic convergence), so the two cannot coexist;
// along a direction of monotone likelihood the gain decays like exp(-|eta|) while each step moves eta by ~1.
constexpr double kDriftEta = 0.1;
constexpr double kFlatGain = 1e-10;

struct NewtonResult {
  FitStatus status = FitStatus::kOk;
  double loglik = kNaN;        // at the estimate
  double loglik_start = kNaN;  // at the start
  double score_start = kNaN;   // U' I^-1 U at the start (exact information there)
  int iterations = 0;          // Newton steps
  int chord_iterations = 0;
};

// Equilibrates the active block of ws.info (lower) into D I D, D = diag(I)^-1/2 (solver scale), and factors it
// (one solver per column set, with and without v, so that neither reallocates from fit to fit).
// False when not positive definite or its smallest squared pivot is below rcond_min.
bool factor(CoxWorkspace& ws, double rcond_min) {
  const Index q = static_cast<Index>(ws.cols.size());
  CoxSolver& sv = ws.solver[ws.with_v];
  sv.scale.resize(q);
  for (Index k = 0; k < q; ++k) {
    const double djj = ws.info(ws.cols[k], ws.cols[k]);
    if (!(djj > 0.0) || !std::isfinite(djj)) return false;
    sv.scale(k) = 1.0 / std::sqrt(djj);
  }
  sv.a.resize(q, q);
  for (Index l = 0; l < q; ++l)
    for (Index k = l; k < q; ++k) {
      const Index i = std::max(ws.cols[k], ws.cols[l]), j = std::min(ws.cols[k], ws.cols[l]);
      sv.a(k, l) = ws.info(i, j) * sv.scale(k) * sv.scale(l);
      if (!std::isfinite(sv.a(k, l))) return false;
    }
  if (q == 0) return true;  // a covariates-only model without covariates: nothing to estimate
  sv.llt.compute(sv.a);
  if (sv.llt.info() != Eigen::Success) return false;
  // The smallest squared pivot of the equilibrated factor bounds its smallest eigenvalue from above: a pivot
  // near 0 proves (near-)aliasing. (Eigen's rcond() estimate would allocate on every fit.)
  return sv.llt.matrixLLT().diagonal().array().square().minCoeff() >= rcond_min;
}

// ws.step [stride] = I^-1 ws.u on the active columns, 0 elsewhere; returns U'I^-1 U.
double solve_step(CoxWorkspace& ws) {
  const Index q = static_cast<Index>(ws.cols.size());
  CoxSolver& sv = ws.solver[ws.with_v];
  sv.cs.resize(q);
  for (Index k = 0; k < q; ++k) sv.cs(k) = sv.scale(k) * ws.u(ws.cols[k]);
  if (q > 0) sv.llt.solveInPlace(sv.cs);
  ws.step.setZero(ws.u.size());
  double quad = 0.0;
  for (Index k = 0; k < q; ++k) {
    ws.step(ws.cols[k]) = sv.scale(k) * sv.cs(k);
    quad += ws.step(ws.cols[k]) * ws.u(ws.cols[k]);
  }
  return quad;
}

// Bound on max_i |x_i' step| over the kept rows.
double eta_bound(const Problem& pr, const CoxWorkspace& ws) {
  double b = 0.0;
  for (const Index j : ws.cols) b += std::abs(ws.step(j)) * (j < pr.d.n_cov() ? pr.d.abs_max(j) : pr.abs_max_v);
  return b;
}

// The chord iteration theta <- theta + H0^-1 U(theta) with H0 factored in the solver and U at ws.theta in
// ws.u: one eta pass and one X'm pass per step (O(n p)) instead of a Newton step's weighted Gram (O(n p^2)). It
// converges linearly at the rate rho = spectral radius of I - H0^-1 I(theta*): small when H0 is the information at
// the null estimate and the protein's effect is modest (the information barely moves). Anderson mixing (type II,
// depth opt.chord_anderson, as the logistic kernel's) removes the few slowest directions: the next iterate is
// x_k + s_k - sum_i gamma_i (dx_i + ds_i), gamma minimising ||s_k - dS gamma|| in the H0 norm, whose normal
// equations are dS'dU gamma = dS'U_k (H0 s = U). True when a plain step moved no eta by more than tol (the error
// left is then ~ rho / (1 - rho) of that); false when it should give way to Newton: a mean contraction per step
// above chord_max_rate, chord_max_iter steps, or a non-finite value.
bool chord(const Problem& pr, const CoxOptions& opt, CoxWorkspace& ws, double* score_start, int* steps) {
  const int depth = std::clamp(opt.chord_anderson, 0, kMaxAndersonDepth);
  const Index slots = depth + 1;
  const Index stride = ws.theta.size();
  ws.hist_x.resize(stride, slots);
  ws.hist_s.resize(stride, slots);
  ws.hist_u.resize(stride, slots);
  auto slot = [&](int k) { return static_cast<Index>(k % slots); };
  double norm2_first = 0.0;
  for (int k = 0;; ++k) {
    const double gain2 = solve_step(ws);  // ||s||^2 in the H0 norm
    if (!std::isfinite(gain2) || gain2 < 0.0) return false;
    if (k == 0) {
      norm2_first = gain2;
      if (score_start != nullptr) *score_start = gain2;
    } else if (!(std::pow(gain2 / norm2_first, 0.5 / k) <= opt.chord_max_rate)) {
      return false;
    }
    *steps = k + 1;
    if (eta_bound(pr, ws) <= opt.tol) {
      ws.theta += ws.step;
      return true;
    }
    if (k + 1 >= opt.chord_max_iter) return false;
    ws.hist_x.col(slot(k)) = ws.theta;
    ws.hist_s.col(slot(k)) = ws.step;
    ws.hist_u.col(slot(k)) = ws.u;
    ws.theta += ws.step;
    const int m = std::min(k, depth);
    if (m > 0) anderson_mix(ws.hist_x, ws.hist_s, ws.hist_u, k, m, slot, ws.u, ws.theta);
    if (!std::isfinite(cox_detail::sweep(pr, ws.theta, ws))) return false;
  }
}

// Newton-Raphson from ws.theta over the columns ws.cols, after a chord iteration when opt.chord: with the fixed
// information h0 [n_cov x n_cov] (lower; the null model's, for a covariates-only refit on other rows) or, without
// it, the exact information at the start (which also gives the score test there). `final_information`: the
// estimate must come with the information there (SEs); a covariates-only refit needs only the estimate. On kOk,
// ws.theta is the estimate and the solver the factored information one (negligible) step before it.
NewtonResult newton(const Problem& pr, const CoxOptions& opt, CoxWorkspace& ws, const Eigen::MatrixXd* h0,
                    bool final_information) {
  NewtonResult res;
  Index n_rank = 0;
  double loglik = kNaN;
  bool have_pass = false;  // ws holds the score and information at ws.theta
  if (opt.chord) {
    ws.theta0 = ws.theta;
    if (h0 != nullptr) {
      loglik = cox_detail::risk_sets(pr, ws.theta, ws);
      cox_detail::score(pr, ws);
      ws.info.setZero(pr.p, pr.p);
      ws.info.topLeftCorner(h0->rows(), h0->cols()) = *h0;
    } else {
      loglik = cox_detail::pass(pr, ws.theta, true, ws, &n_rank);
    }
    res.loglik_start = loglik;
    bool ok = std::isfinite(loglik) && factor(ws, opt.singular_rcond);
    double score = kNaN;
    ok = ok && chord(pr, opt, ws, &score, &res.chord_iterations);
    if (h0 == nullptr) res.score_start = score;
    if (ok && !final_information) {
      res.loglik = cox_detail::risk_sets(pr, ws.theta, ws);
      res.status = std::isfinite(res.loglik) ? FitStatus::kOk : FitStatus::kNotConverged;
      if (res.status == FitStatus::kOk) return res;
    }
    if (!ok) {
      ws.theta = ws.theta0;
      have_pass = h0 == nullptr;  // the start's exact information is still in ws (chord leaves U, not I, stale)
      if (have_pass) loglik = cox_detail::pass(pr, ws.theta, true, ws, &n_rank);
    }
  }
  if (!have_pass) loglik = cox_detail::pass(pr, ws.theta, true, ws, &n_rank);
  if (std::isnan(res.loglik_start)) res.loglik_start = loglik;
  for (int it = 0;; ++it) {
    if (!std::isfinite(loglik) || !factor(ws, opt.singular_rcond)) {
      res.status = FitStatus::kSingular;
      break;
    }
    const double gain2 = solve_step(ws);  // U'I^-1 U: twice the log-likelihood the step promises
    if (std::isnan(res.score_start)) res.score_start = gain2;
    const double bound = eta_bound(pr, ws);
    if (bound <= opt.tol) {
      // l(theta + s) = l + U's - s'Is / 2 = l + U's / 2 for the Newton step s.
      ws.theta += ws.step;
      loglik += 0.5 * gain2;
      res.status = FitStatus::kOk;
      break;
    }
    if (bound > kDriftEta && 0.5 * gain2 <= kFlatGain * (std::abs(loglik) + 1.0)) {
      res.status = FitStatus::kSeparation;
      break;
    }
    if (it >= opt.max_iter) {
      res.status = bound > kDriftEta ? FitStatus::kSeparation : FitStatus::kNotConverged;
      // Still climbing fast with eta moving: either runaway or slow; only a flat climb is monotone likelihood.
      if (0.5 * gain2 > 1e-6 * (std::abs(loglik) + 1.0)) res.status = FitStatus::kNotConverged;
      break;
    }
    const double floor = loglik - kHalvingSlack * (std::abs(loglik) + 1.0);
    ws.trial = ws.theta;
    ws.theta += ws.step;
    double trial_ll = cox_detail::risk_sets(pr, ws.theta, ws);
    for (int k = 0; k < kMaxHalvings && !(trial_ll >= floor); ++k) {
      ws.step *= 0.5;
      ws.theta = ws.trial + ws.step;
      trial_ll = cox_detail::risk_sets(pr, ws.theta, ws);
    }
    ++res.iterations;
    if (!(trial_ll >= floor)) {
      res.status = FitStatus::kNotConverged;
      break;
    }
    cox_detail::score(pr, ws);
    cox_detail::information(pr, ws);
    loglik = trial_ll;
  }
  res.loglik = loglik;
  return res;
}

// beta and se [size] from ws.theta and the factored information (equilibrated: Cov = D (DID)^-1 D).
void estimates(CoxWorkspace& ws, Index size, Eigen::VectorXd& beta, Eigen::VectorXd& se) {
  const Index q = static_cast<Index>(ws.cols.size());
  CoxSolver& sv = ws.solver[ws.with_v];
  sv.inv.setIdentity(q, q);
  if (q > 0) sv.llt.solveInPlace(sv.inv);
  beta = Eigen::VectorXd::Constant(size, kNaN);
  se = Eigen::VectorXd::Constant(size, kNaN);
  for (Index k = 0; k < q; ++k) {
    beta(ws.cols[k]) = ws.theta(ws.cols[k]);
    se(ws.cols[k]) = sv.scale(k) * std::sqrt(sv.inv(k, k));
  }
}

void set_columns(const SharedDesign& d, std::span<const std::uint8_t> active, bool with_v, CoxWorkspace& ws) {
  PWAS_ASSERT(active.empty() || static_cast<Index>(active.size()) == d.n_cov());
  ws.cols.clear();
  for (Index j = 1; j < d.n_cov(); ++j)
    if (active.empty() || active[j]) ws.cols.push_back(j);
  if (with_v) ws.cols.push_back(d.n_cov());
  ws.with_v = with_v ? 1 : 0;
}

bool same_mask(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  if (a.empty() || b.empty()) return a.empty() && b.empty();
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](auto x, auto y) { return (x != 0) == (y != 0); });
}

bool same_weights(std::span<const double> a, const std::vector<double>& b) {
  if (a.empty() || b.empty()) return a.empty() && b.empty();
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// The null estimate as a start for the active columns (0 for those the null did not fit).
void null_start(const CoxNull* null, Index stride, CoxWorkspace& ws) {
  ws.theta.setZero(stride);
  if (null == nullptr || !null->ok()) return;
  for (const Index j : ws.cols)
    if (j < null->theta.size()) ws.theta(j) = null->theta(j);
}

CoxFit empty_fit(Index size) {
  CoxFit f;
  f.beta = Eigen::VectorXd::Constant(size, kNaN);
  f.se = Eigen::VectorXd::Constant(size, kNaN);
  f.loglik = f.loglik_null = kNaN;
  f.wald = f.score = f.lrt = f.p_wald = f.p_score = f.p_lrt = kNaN;
  f.ph_chisq = f.ph_p = f.ph_global_chisq = f.ph_global_p = kNaN;
  return f;
}

}  // namespace

CoxFit fit_cox(const SharedDesign& d, const CoxSurvival& s, const CoxNull* null, Eigen::Ref<const Eigen::VectorXd> v,
               std::span<const std::uint8_t> keep, std::span<const std::uint8_t> active,
               std::span<const double> weights, CoxWorkspace& ws, const CoxOptions& opt) {
  const Index n_cov = d.n_cov();
  PWAS_ASSERT(v.size() == d.n_samples());
  CoxFit fit = empty_fit(n_cov + 1);
  Problem pr{d, s, opt.ties, true, n_cov + 1};
  cox_detail::prepare(pr, v.data(), keep, weights, ws);
  fit.n_obs = static_cast<int>(pr.n_weighted);
  fit.n_events = static_cast<int>(pr.n_events);
  set_columns(d, active, true, ws);
  const Index q = static_cast<Index>(ws.cols.size());
  if (pr.n_events < std::max(opt.min_events, 1) || pr.n_weighted <= static_cast<double>(q)) {
    fit.status = FitStatus::kTooFewCases;
    return fit;
  }
  if (pr.v_constant) {
    fit.status = FitStatus::kConstant;
    return fit;
  }
  const Index stride = ws.xk.cols();

  // Covariates-only model on these rows: the null's own when it was fitted on them.
  const bool reuse = null != nullptr && null->ok() && null->ties == opt.ties && null->keep.size() == keep.size() &&
                     same_mask(keep, null->keep) && same_mask(active, null->active) && same_weights(weights, null->weights);
  if (!reuse) {
    set_columns(d, active, false, ws);
    null_start(null, stride, ws);
    // Chord from the null's estimate with the null's information (all its rows) as the fixed matrix: close to
    // the information on these rows when they are most of the null's.
    const bool h0_fits = null != nullptr && null->ok() && same_mask(active, null->active) && null->ties == opt.ties;
    const NewtonResult r0 = newton(pr, opt, ws, h0_fits ? &null->info : nullptr, false);
    fit.null_chord_iterations = r0.chord_iterations;
    if (r0.status != FitStatus::kOk) {
      fit.status = r0.status;
      return fit;
    }
    set_columns(d, active, true, ws);
  } else {
    null_start(null, stride, ws);
  }
  ws.theta(n_cov) = 0.0;

  const NewtonResult r = newton(pr, opt, ws, nullptr, true);
  fit.iterations = r.iterations;
  fit.chord_iterations = r.chord_iterations;
  fit.loglik_null = r.loglik_start;
  fit.score = r.score_start;
  fit.p_score = p_chisq_upper(fit.score, 1.0);
  if (r.status != FitStatus::kOk) {
    fit.status = r.status;
    return fit;
  }
  fit.loglik = r.loglik;
  estimates(ws, n_cov + 1, fit.beta, fit.se);
  fit.wald = std::pow(fit.beta(n_cov) / fit.se(n_cov), 2);
  fit.p_wald = p_chisq_upper(fit.wald, 1.0);
  fit.lrt = std::max(2.0 * (fit.loglik - fit.loglik_null), 0.0);
  fit.p_lrt = p_chisq_upper(fit.lrt, 1.0);
  if (opt.ph_test) cox_detail::ph_test(pr, ws, fit, opt.ph_global);
  PWAS_ASSERT(q == static_cast<Index>(ws.cols.size()));
  return fit;
}

CoxNull make_cox_null(const SharedDesign& d, const CoxSurvival& s, std::span<const std::uint8_t> keep_all,
                      std::span<const std::uint8_t> active, std::span<const double> weights, CoxWorkspace& ws,
                      const CoxOptions& opt) {
  const Index n_cov = d.n_cov();
  const Index n = d.n_samples();
  CoxNull null;
  null.fit = empty_fit(n_cov);
  null.keep.assign(keep_all.begin(), keep_all.end());
  null.weights.assign(weights.begin(), weights.end());
  null.active.assign(active.begin(), active.end());
  null.ties = opt.ties;
  Problem pr{d, s, opt.ties, false, n_cov + 1};
  cox_detail::prepare(pr, nullptr, keep_all, weights, ws);
  null.fit.n_obs = static_cast<int>(pr.n_weighted);
  null.fit.n_events = static_cast<int>(pr.n_events);
  set_columns(d, active, false, ws);
  const Index q = static_cast<Index>(ws.cols.size());
  if (pr.n_events < std::max(opt.min_events, 1) || pr.n_weighted <= static_cast<double>(q)) {
    null.fit.status = FitStatus::kTooFewCases;
    return null;
  }
  ws.theta.setZero(ws.xk.cols());
  CoxOptions newton_only = opt;
  newton_only.chord = false;  // from beta = 0 the information moves too much for a fixed-matrix iteration
  const NewtonResult r = newton(pr, newton_only, ws, nullptr, true);
  null.fit.iterations = r.iterations;
  null.fit.status = r.status;
  if (r.status != FitStatus::kOk) return null;
  null.fit.loglik = null.fit.loglik_null = r.loglik;
  Eigen::VectorXd beta, se;
  estimates(ws, n_cov + 1, beta, se);
  null.fit.beta = beta.head(n_cov);
  null.fit.se = se.head(n_cov);
  null.theta = ws.theta;

  // What the score screen needs, from one more pass at the estimate.
  Index n_rank = 0;
  cox_detail::pass(pr, null.theta, true, ws, &n_rank);
  null.resid.setZero(n);
  null.omega.setZero(n);
  null.r.setZero(n);
  null.rows.assign(ws.rows.begin(), ws.rows.end());
  null.gstart.assign(ws.gstart.begin(), ws.gstart.end());
  null.gfirst.assign(ws.gfirst.begin(), ws.gfirst.end());
  for (Index t = 0; t < pr.n_obs; ++t) {
    const Index i = ws.rows[static_cast<std::size_t>(t)];
    null.omega(i) = ws.omega(t);
    null.r(i) = ws.r(t);
    null.resid(i) = ws.wk(t) * ws.dk[static_cast<std::size_t>(t)] - ws.omega(t);
  }
  null.rank_coef = ws.rank_coef.topRows(pr.n_groups);
  null.info = ws.info.topLeftCorner(n_cov, n_cov);
  null.rank_c = ws.rank.topRows(n_rank);
  // The inverse information of the active covariates at the estimate (for the screen's Schur complement).
  if (!factor(ws, opt.singular_rcond)) {
    null.fit.status = FitStatus::kSingular;
    return null;
  }
  estimates(ws, n_cov + 1, beta, se);  // leaves (DID)^-1 in the solver's inv
  null.info_c_inv.setZero(n_cov, n_cov);
  for (Index k = 0; k < q; ++k)
    for (Index l = 0; l < q; ++l)
      null.info_c_inv(ws.cols[k], ws.cols[l]) = ws.solver[0].scale(k) * ws.solver[0].inv(k, l) * ws.solver[0].scale(l);
  return null;
}

}  // namespace pwas::kernels
