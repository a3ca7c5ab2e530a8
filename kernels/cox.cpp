// Cox fits: Newton-Raphson with step halving on the log partial likelihood (as survival's coxfit6), the
// information from one weighted Gram per iteration (cox_pass.cpp), the covariates-only model on the same rows
// first so that the score test and the LRT compare nested models on identical rows.
#include "kernels/cox.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <cmath>
#include <limits>

#include "kernels/anderson.hpp"
#include "kernels/assert.hpp"
#include "kernels/cox_detail.hpp"
#include "kernels/lane_blocks.hpp"
#include "kernels/pvalues.hpp"

namespace pwas::kernels {

using Eigen::Index;

namespace cox_detail {

// Equilibrates the active block of info (lower) into D I D, D = diag(I)^-1/2 (solver scale), and factors it (one
// solver per column set, with and without v, so that neither reallocates from fit to fit).
bool factor_information(const Eigen::MatrixXd& info, const std::vector<Index>& cols, CoxSolver& sv, double rcond_min) {
  const Index q = static_cast<Index>(cols.size());
  sv.scale.resize(q);
  for (Index k = 0; k < q; ++k) {
    const double djj = info(cols[k], cols[k]);
    if (!(djj > 0.0) || !std::isfinite(djj)) return false;
    sv.scale(k) = 1.0 / std::sqrt(djj);
  }
  sv.a.resize(q, q);
  for (Index l = 0; l < q; ++l)
    for (Index k = l; k < q; ++k) {
      const Index i = std::max(cols[k], cols[l]), j = std::min(cols[k], cols[l]);
      sv.a(k, l) = info(i, j) * sv.scale(k) * sv.scale(l);
      if (!std::isfinite(sv.a(k, l))) return false;
    }
  if (q == 0) return true;  // a covariates-only model without covariates: nothing to estimate
  sv.llt.compute(sv.a);
  if (sv.llt.info() != Eigen::Success) return false;
  // The smallest squared pivot of the equilibrated factor bounds its smallest eigenvalue from above: a pivot
  // near 0 proves (near-)aliasing. (Eigen's rcond() estimate would allocate on every fit.)
  return sv.llt.matrixLLT().diagonal().array().square().minCoeff() >= rcond_min;
}

double solve_information(CoxSolver& sv, const std::vector<Index>& cols, const Eigen::VectorXd& u, Eigen::VectorXd& step) {
  const Index q = static_cast<Index>(cols.size());
  sv.cs.resize(q);
  for (Index k = 0; k < q; ++k) sv.cs(k) = sv.scale(k) * u(cols[k]);
  if (q > 0) sv.llt.solveInPlace(sv.cs);
  step.setZero(u.size());
  double quad = 0.0;
  for (Index k = 0; k < q; ++k) {
    step(cols[k]) = sv.scale(k) * sv.cs(k);
    quad += step(cols[k]) * u(cols[k]);
  }
  return quad;
}

double eta_bound(const Problem& pr, const std::vector<Index>& cols, const Eigen::VectorXd& step) {
  // step is 0 off the active columns (solve_information), so the design's row bound needs no mask.
  const Index pc = pr.d.n_cov();
  const bool v_active = !cols.empty() && cols.back() == pc;
  return max_abs_row_bound(pr.d, step.data()) + (v_active ? std::abs(step(pc)) * pr.abs_max_v : 0.0);
}

}  // namespace cox_detail

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

bool factor(CoxWorkspace& ws, double rcond_min) {
  return cox_detail::factor_information(ws.info, ws.cols, ws.solver[ws.with_v], rcond_min);
}

double solve_step(CoxWorkspace& ws) { return cox_detail::solve_information(ws.solver[ws.with_v], ws.cols, ws.u, ws.step); }

double eta_bound(const Problem& pr, const CoxWorkspace& ws) { return cox_detail::eta_bound(pr, ws.cols, ws.step); }

// The Newton-Raphson loop with step halving from ws.theta over the columns ws.cols; have_pass: ws already holds the
// score and information at ws.theta, whose log-likelihood is `loglik`. Sets res.status, res.loglik (and
// loglik_start / score_start where still NaN); on kOk ws.theta is the estimate.
void newton_loop(const Problem& pr, const CoxOptions& opt, CoxWorkspace& ws, bool have_pass, double loglik,
                 NewtonResult& res) {
  Index n_rank = 0;
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
    cox_detail::information(pr, ws);
    loglik = trial_ll;
  }
  res.loglik = loglik;
}

// Newton-Raphson from ws.theta over the columns ws.cols (the exact path: no usable null model, or opt.chord off).
NewtonResult newton(const Problem& pr, const CoxOptions& opt, CoxWorkspace& ws) {
  NewtonResult res;
  newton_loop(pr, opt, ws, false, kNaN, res);
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

// Masks of rows or columns; an empty column mask means every column is active.
bool same_mask(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  auto all_set = [](std::span<const std::uint8_t> m) { return std::all_of(m.begin(), m.end(), [](auto x) { return x != 0; }); };
  if (a.empty()) return all_set(b);
  if (b.empty()) return all_set(a);
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

// The statistics of a finished full fit (res from the Newton loop at the estimate, ws holding its last pass).
void finish(const Problem& pr, const CoxOptions& opt, const NewtonResult& r, CoxWorkspace& ws, CoxFit& fit) {
  const Index n_cov = pr.d.n_cov();
  fit.iterations = r.iterations;
  fit.loglik_null = r.loglik_start;
  fit.score = r.score_start;
  fit.p_score = p_chisq_upper(fit.score, 1.0);
  if (r.status != FitStatus::kOk) {
    fit.status = r.status;
    return;
  }
  fit.loglik = r.loglik;
  estimates(ws, n_cov + 1, fit.beta, fit.se);
  fit.wald = std::pow(fit.beta(n_cov) / fit.se(n_cov), 2);
  fit.p_wald = p_chisq_upper(fit.wald, 1.0);
  fit.lrt = std::max(2.0 * (fit.loglik - fit.loglik_null), 0.0);
  fit.p_lrt = p_chisq_upper(fit.lrt, 1.0);
  if (opt.ph_test) cox_detail::ph_test(pr, ws, fit, opt.ph_global);
}

// Counts and early verdicts of one fit after prepare: kTooFewCases, kConstant, or kOk to go on.
FitStatus screen(const Problem& pr, const CoxOptions& opt, Index q) {
  if (pr.n_events < std::max(opt.min_events, 1) || pr.n_weighted <= static_cast<double>(q)) return FitStatus::kTooFewCases;
  if (pr.v_constant) return FitStatus::kConstant;
  return FitStatus::kOk;
}

// One fit by Newton-Raphson throughout: the covariates-only model on these rows (unless the null's own rows), then
// the full model from it. For fits without a usable null model or with opt.chord off.
CoxFit fit_exact(const Problem& pr0, const CoxNull* null, bool reuse, const double* v, std::span<const std::uint8_t> keep,
                 std::span<const std::uint8_t> active, std::span<const double> weights, CoxWorkspace& ws,
                 const CoxOptions& opt) {
  Problem pr = pr0;
  const SharedDesign& d = pr.d;
  const Index n_cov = d.n_cov();
  CoxFit fit = empty_fit(n_cov + 1);
  cox_detail::prepare(pr, v, keep, weights, ws);
  fit.n_obs = static_cast<int>(pr.n_weighted);
  fit.n_events = static_cast<int>(pr.n_events);
  set_columns(d, active, true, ws);
  fit.status = screen(pr, opt, static_cast<Index>(ws.cols.size()));
  if (fit.status != FitStatus::kOk) return fit;
  const Index stride = d.c_rows.cols();
  if (!reuse) {
    set_columns(d, active, false, ws);
    null_start(null, stride, ws);
    const NewtonResult r0 = newton(pr, opt, ws);
    if (r0.status != FitStatus::kOk) {
      fit.status = r0.status;
      return fit;
    }
    set_columns(d, active, true, ws);
  } else {
    null_start(null, stride, ws);
  }
  ws.theta(n_cov) = 0.0;
  finish(pr, opt, newton(pr, opt, ws), ws, fit);
  return fit;
}

}  // namespace

namespace {

// Loads each lane's theta for an exact pass (ws.lane[b].start with v = 0, or .theta) into cp.lp; parks the others.
bool load_lanes(const SharedDesign& d, const std::array<bool, kLanes>& which, int n_fits, bool at_start,
                CoxWorkspace& ws) {
  bool any = false;
  for (int b = 0; b < kLanes; ++b) {
    if (b < n_fits && which[static_cast<std::size_t>(b)]) {
      CoxLaneState& st = ws.lane[b];
      ws.theta = at_start ? st.start : st.theta;
      if (at_start) ws.theta(d.n_cov()) = 0.0;
      lane_detail::load_theta(d, ws.theta, true, b, ws.lanes.lp);
      any = true;
    } else {
      lane_detail::park(d, b, ws.lanes.lp);
    }
  }
  return any;
}

// Lane b's score (into ws.u) and information (into ws.info) after cox_lane_exact, for its active columns.
void take_exact(const SharedDesign& d, int b, CoxWorkspace& ws) {
  ws.cols = ws.lane[b].cols;
  ws.with_v = 1;
  ws.u.setZero(d.c_rows.cols());
  lane_detail::unpack(d, ws.lanes.lp.score_pad, ws.lanes.lp.level_score, ws.lanes.lp.score_v[b], true, b, ws.u);
  cox_detail::lane_exact_information(d, ws.exact, 0, b, ws.info);
}

// The exact pass at (ws.lane[b].start, 0) of the lanes with `which` (their covariates-only estimate known, .cols
// the full model's): the log-likelihood and the score test into loglik0 / score0 (NaN where the information is
// not positive definite), and that information as the full chord's fixed matrix (complete[b]; its first step is
// then Newton's).
void exact_start(const SharedDesign& d, const CoxSurvival& s, const lane_detail::LaneRows& rows, const CoxOptions& opt,
                 const std::array<bool, kLanes>& which, int n_fits, CoxWorkspace& ws, std::array<double, kLanes>& loglik0,
                 std::array<double, kLanes>& score0, std::array<bool, kLanes>& complete) {
  if (!ws.exact.fits(d, s)) ws.exact.resize(d, s);
  if (!load_lanes(d, which, n_fits, true, ws)) return;
  cox_detail::cox_lane_exact(d, rows, s, opt.ties, false, ws.lanes, ws.exact);
  for (int b = 0; b < n_fits; ++b) {
    if (!which[static_cast<std::size_t>(b)]) continue;
    loglik0[static_cast<std::size_t>(b)] = ws.lanes.loglik[b];
    take_exact(d, b, ws);
    if (!std::isfinite(loglik0[static_cast<std::size_t>(b)]) || !factor(ws, opt.singular_rcond)) continue;
    score0[static_cast<std::size_t>(b)] = solve_step(ws);
    ws.lane[b].info = ws.info;
    complete[static_cast<std::size_t>(b)] = true;
  }
}

// The exact pass at the chord's estimate of the lanes with `which`: the Newton check with the exact information,
// the SEs and (opt.ph_test) cox.zph. finished[b]: out[b] is complete; a lane whose check fails (singular, or a step
// above opt.tol) is left to the per-fit path.
void exact_estimate(const SharedDesign& d, const CoxSurvival& s, const lane_detail::LaneRows& rows,
                    const CoxOptions& opt, std::span<std::optional<Problem>> pr, const std::array<bool, kLanes>& which,
                    const std::array<int, kLanes>& null_steps, const std::array<double, kLanes>& loglik0,
                    const std::array<double, kLanes>& score0, CoxWorkspace& ws, std::span<CoxFit> out,
                    std::array<bool, kLanes>& finished) {
  const auto n_fits = static_cast<int>(pr.size());
  CoxLaneExact& ex = ws.exact;
  if (!ex.fits(d, s)) ex.resize(d, s);
  if (!load_lanes(d, which, n_fits, false, ws)) return;
  if (opt.ph_test) cox_detail::cox_lane_km(s, ws.lanes.lp.mask, ex);
  cox_detail::cox_lane_exact(d, rows, s, opt.ties, opt.ph_test, ws.lanes, ex);
  for (int b = 0; b < n_fits; ++b) {
    const auto bb = static_cast<std::size_t>(b);
    if (!which[bb]) continue;
    const Problem& p = *pr[bb];
    CoxLaneState& st = ws.lane[b];
    CoxFit& fit = out[bb];
    const double loglik = ws.lanes.loglik[b];
    take_exact(d, b, ws);
    ws.theta = st.theta;
    if (!std::isfinite(loglik) || !factor(ws, opt.singular_rcond)) continue;
    const double gain2 = solve_step(ws);
    if (!(eta_bound(p, ws) <= opt.tol)) continue;
    NewtonResult r;
    r.loglik_start = std::isnan(loglik0[bb]) ? loglik : loglik0[bb];
    r.score_start = std::isnan(score0[bb]) ? gain2 : score0[bb];
    ws.theta += ws.step;
    r.loglik = loglik + 0.5 * gain2;
    r.status = FitStatus::kOk;
    fit.null_chord_iterations = null_steps[bb];
    fit.chord_iterations = st.steps;
    CoxOptions no_ph = opt;
    no_ph.ph_test = false;
    finish(p, no_ph, r, ws, fit);
    if (opt.ph_test) {
      ws.trial.setZero(d.c_rows.cols());
      lane_detail::unpack(d, ex.ug_pad, ex.ug_levels, ex.ug_v[b], true, b, ws.trial);
      cox_detail::lane_exact_information(d, ex, 1, b, ws.info2);
      cox_detail::lane_exact_information(d, ex, 2, b, ws.info3);
      cox_detail::ph_statistics(ws.info, ws.info2, ws.info3, ws.trial, ws.cols, opt.ph_global, ws, fit);
    }
    finished[bb] = true;
  }
}

// fit_cox_batch with each fit's own weights; with `est`, estimates only (cox_detail::fit_cox_estimates_batch).
void batch(const SharedDesign& d, const CoxSurvival& s, const CoxNull* null, std::span<const double* const> v,
           std::span<const std::span<const std::uint8_t>> keep, std::span<const std::span<const std::uint8_t>> active,
           std::span<const std::span<const double>> weights_of, CoxWorkspace& ws, std::span<CoxFit> out,
           const CoxOptions& opt, const cox_detail::LaneEstimates* est) {
  const std::size_t n_fits = v.size();
  PWAS_ASSERT(n_fits <= static_cast<std::size_t>(kLanes) && keep.size() == n_fits && active.size() == n_fits &&
              out.size() == n_fits && weights_of.size() == n_fits);
  const Index n_cov = d.n_cov();
  const Index n = d.n_samples();
  const Index stride = d.c_rows.cols();
  const Problem blank{d, s, opt.ties, true, n_cov + 1};
  // Lanes need the null's fixed matrix for the chord: the same ties and covariate columns.
  const bool null_usable = opt.chord && null != nullptr && null->ok() && null->ties == opt.ties &&
                           null->risk_z.rows() == n && null->risk_z.cols() == d.z_rows.cols();
  std::array<std::optional<Problem>, kLanes> pr;
  std::array<cox_detail::ChordJob, kLanes> jobs{};
  std::array<bool, kLanes> reuse{}, lanes{};
  std::array<double, kLanes> h0_scale{};
  std::array<int, kLanes> null_steps{};
  CoxLanePass& cp = ws.lanes;
  bool any_lane = false;
  std::array<bool, kLanes> start_lanes{};  // the lanes whose exact pass at the start ran (opt.lane_exact)
  std::array<double, kLanes> loglik0, score0;
  loglik0.fill(kNaN);
  score0.fill(kNaN);
  const lane_detail::LaneRows rows = null_usable ? lane_detail::LaneRows{&null->risk_z, &null->risk_level}
                                                 : lane_detail::LaneRows{};

  // The fits' rows and counts (no copies of design rows yet), and each lane's v and weights.
  for (std::size_t b = 0; b < n_fits; ++b) {
    PWAS_ASSERT(static_cast<Index>(keep[b].size()) == n);
    const std::span<const double> weights = weights_of[b];
    pr[b].emplace(blank);
    Problem& p = *pr[b];
    if (null_usable) {
      p.risk_z = &null->risk_z;
      p.risk_level = &null->risk_level;
    }
    out[b] = empty_fit(n_cov + 1);
    reuse[b] = null != nullptr && null->ok() && null->ties == opt.ties && null->keep.size() == keep[b].size() &&
               same_mask(keep[b], null->keep) && same_mask(active[b], null->active) &&
               same_weights(weights, null->weights);
    lanes[b] = null_usable && same_mask(active[b], null->active);
    if (!lanes[b]) continue;
    cox_detail::prepare(p, v[b], keep[b], weights, ws, false);
    out[b].n_obs = static_cast<int>(p.n_weighted);
    out[b].n_events = static_cast<int>(p.n_events);
    set_columns(d, active[b], true, ws);
    out[b].status = screen(p, opt, static_cast<Index>(ws.cols.size()));
    if (out[b].status != FitStatus::kOk) {
      lanes[b] = false;
      continue;
    }
    if (!any_lane) {
      cp.resize(d, s);
      for (auto* a : {&cp.lp.v, &cp.lp.mask}) std::fill(a->begin(), a->end(), Lane{});
      any_lane = true;
    }
    // Kept row t is ws.rows[t]; the lane arrays are in the risk-set order of s (its kept rows in the same order).
    for (Index t = 0; t < p.n_obs; ++t) {
      const Index i = ws.rows[static_cast<std::size_t>(t)];
      const auto k = static_cast<std::size_t>(s.position[static_cast<std::size_t>(i)]);
      cp.lp.v[k][b] = v[b][i] - p.mean_v;
      cp.lp.mask[k][b] = ws.wk(t);
    }
    h0_scale[b] = null->fit.n_events > 0 ? p.n_events / null->fit.n_events : 1.0;
    CoxLaneState& st = ws.lane[b];
    set_columns(d, active[b], false, ws);
    st.cols = ws.cols;
    null_start(null, stride, ws);
    st.theta = ws.theta;
    st.start = ws.theta;
    // The covariates-only refit's fixed matrix: the null's information, scaled to this fit's events.
    st.info.setZero(n_cov + 1, n_cov + 1);
    st.info.topLeftCorner(n_cov, n_cov) = h0_scale[b] * null->info;
    jobs[b] = {&p, &st, !reuse[b], false};
  }

  // The covariates-only refits on the fits' own rows, as lanes.
  if (any_lane) {
    cox_detail::chord_lanes(opt, false, rows, std::span(jobs.data(), n_fits), cp);
    for (std::size_t b = 0; b < n_fits; ++b) {
      if (!lanes[b] || reuse[b]) continue;
      null_steps[b] = ws.lane[b].steps;
      if (jobs[b].converged) ws.lane[b].start = ws.lane[b].theta;
      jobs[b].run = jobs[b].converged;  // a refit that gave way goes the exact way below
    }
    // The full fits from (refit, 0): the fixed matrix gains the row of v from the first pass.
    for (std::size_t b = 0; b < n_fits; ++b) {
      if (!lanes[b]) continue;
      if (reuse[b]) jobs[b].run = true;
      CoxLaneState& st = ws.lane[b];
      set_columns(d, active[b], true, ws);
      st.cols = ws.cols;
      st.theta = st.start;
      st.theta(n_cov) = 0.0;
      st.info.setZero(n_cov + 1, n_cov + 1);
      st.info.topLeftCorner(n_cov, n_cov) = h0_scale[b] * null->info;
    }
    // With the exact passes in lanes, the one at the start comes first: its information is then the full chord's
    // fixed matrix, exact where the chord starts, instead of the scaled null information and v's column.
    if (est == nullptr && opt.lane_exact) {
      for (std::size_t b = 0; b < n_fits; ++b) start_lanes[b] = lanes[b] && jobs[b].run;
      std::array<bool, kLanes> complete{};
      exact_start(d, s, rows, opt, start_lanes, static_cast<int>(n_fits), ws, loglik0, score0, complete);
      for (std::size_t b = 0; b < n_fits; ++b) jobs[b].complete = complete[b];
    }
    cox_detail::chord_lanes(opt, true, rows, std::span(jobs.data(), n_fits), cp);
  }

  if (est != nullptr) {
    for (std::size_t b = 0; b < n_fits; ++b) {
      const bool refit_done = reuse[b] || jobs[b].run;  // a converged refit (or the null's own rows)
      est->done[b] = lanes[b] && refit_done && jobs[b].converged ? 1 : 0;
      if (!est->done[b]) continue;
      est->refit[b] = ws.lane[b].start.head(n_cov);
      est->full[b] = ws.lane[b].theta.head(n_cov + 1);
    }
    return;
  }

  // The exact passes of the lanes whose chord converged, in lanes; a lane whose Newton check does not pass goes the
  // per-fit way below.
  std::array<bool, kLanes> finished{};
  if (any_lane && opt.lane_exact) {
    std::array<bool, kLanes> exact{};
    for (std::size_t b = 0; b < n_fits; ++b) exact[b] = start_lanes[b] && jobs[b].converged;
    exact_estimate(d, s, rows, opt, std::span(pr.data(), n_fits), exact, null_steps, loglik0, score0, ws, out,
                   finished);
  }

  // Per fit: the exact passes (the score test at the start, the Newton check at the estimate, cox.zph).
  for (std::size_t b = 0; b < n_fits; ++b) {
    const std::span<const double> weights = weights_of[b];
    if (!lanes[b]) {
      if (out[b].status == FitStatus::kOk) out[b] = fit_exact(blank, null, reuse[b], v[b], keep[b], active[b], weights, ws, opt);
      continue;
    }
    if (finished[b]) continue;
    Problem& p = *pr[b];
    CoxFit& fit = out[b];
    CoxLaneState& st = ws.lane[b];
    cox_detail::prepare(p, v[b], keep[b], weights, ws);
    const bool refit_failed = !reuse[b] && !jobs[b].run;
    if (refit_failed) {
      set_columns(d, active[b], false, ws);
      null_start(null, stride, ws);
      const NewtonResult r0 = newton(p, opt, ws);
      if (r0.status != FitStatus::kOk) {
        fit.status = r0.status;
        continue;
      }
      st.start = ws.theta;
    }
    fit.null_chord_iterations = null_steps[b];
    set_columns(d, active[b], true, ws);
    ws.theta = st.start;
    ws.theta(n_cov) = 0.0;
    NewtonResult r;
    Index n_rank = 0;
    const double loglik0 = cox_detail::pass(p, ws.theta, true, ws, &n_rank);
    r.loglik_start = loglik0;
    if (std::isfinite(loglik0) && factor(ws, opt.singular_rcond)) r.score_start = solve_step(ws);
    const bool chord_done = !refit_failed && jobs[b].converged;
    fit.chord_iterations = chord_done ? st.steps : 0;
    if (chord_done) {
      ws.theta = st.theta;
      newton_loop(p, opt, ws, false, kNaN, r);
    } else {
      newton_loop(p, opt, ws, true, loglik0, r);
    }
    finish(p, opt, r, ws, fit);
  }
}

}  // namespace

void fit_cox_batch(const SharedDesign& d, const CoxSurvival& s, const CoxNull* null, std::span<const double* const> v,
                   std::span<const std::span<const std::uint8_t>> keep,
                   std::span<const std::span<const std::uint8_t>> active, std::span<const double> weights,
                   CoxWorkspace& ws, std::span<CoxFit> out, const CoxOptions& opt) {
  PWAS_ASSERT(v.size() <= static_cast<std::size_t>(kLanes));
  std::array<std::span<const double>, kLanes> weights_of;
  weights_of.fill(weights);
  batch(d, s, null, v, keep, active, std::span(weights_of.data(), v.size()), ws, out, opt, nullptr);
}

namespace cox_detail {

void fit_cox_estimates_batch(const SharedDesign& d, const CoxSurvival& s, const CoxNull& null,
                             std::span<const double* const> v, std::span<const std::span<const std::uint8_t>> keep,
                             std::span<const std::span<const std::uint8_t>> active,
                             std::span<const std::span<const double>> weights, CoxWorkspace& ws,
                             const LaneEstimates& est, const CoxOptions& opt) {
  PWAS_ASSERT(opt.chord && est.refit.size() == v.size() && est.full.size() == v.size() && est.done.size() == v.size());
  std::array<CoxFit, kLanes> out;
  batch(d, s, &null, v, keep, active, weights, ws, std::span(out.data(), v.size()), opt, &est);
}

}  // namespace cox_detail

CoxFit fit_cox(const SharedDesign& d, const CoxSurvival& s, const CoxNull* null, Eigen::Ref<const Eigen::VectorXd> v,
               std::span<const std::uint8_t> keep, std::span<const std::uint8_t> active,
               std::span<const double> weights, CoxWorkspace& ws, const CoxOptions& opt) {
  PWAS_ASSERT(v.size() == d.n_samples());
  const double* vp = v.data();
  CoxFit fit;
  fit_cox_batch(d, s, null, std::span(&vp, 1), std::span(&keep, 1), std::span(&active, 1), weights, ws,
                std::span(&fit, 1), opt);
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
  if (opt.chord) {  // only the batched chord reads them
    null.risk_z.resize(n, d.z_rows.cols());
    null.risk_level.resize(n, d.level.cols());
    for (Index k = 0; k < n; ++k) {
      const Index i = s.order[static_cast<std::size_t>(k)];
      null.risk_z.row(k) = d.z_rows.row(i);
      null.risk_level.row(k) = d.level.row(i);
    }
  }
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
  ws.theta.setZero(d.c_rows.cols());
  CoxOptions newton_only = opt;
  newton_only.chord = false;  // from beta = 0 the information moves too much for a fixed-matrix iteration
  const NewtonResult r = newton(pr, newton_only, ws);
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
