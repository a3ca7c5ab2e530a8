#include "kernels/logistic.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <span>

#include "kernels/assert.hpp"
#include "kernels/gram.hpp"
#include "kernels/lane_blocks.hpp"
#include "kernels/lane_gram.hpp"
#include "kernels/level_gram.hpp"
#include "kernels/logistic_detail.hpp"

// Both paths work in the parametrisation of the pre-centred C and v centred at its kept mean, theta; the
// original one is beta_j = theta_j (j >= 1) and beta_0 = theta_0 - sum_{j>=1} mean_j theta_j - mean_v theta_v,
// i.e. beta = T theta with T = I except row 0, so Var(beta_0) = t' Cov(theta) t for t = row 0 of T.
//   score       U = X'(y - mu)
//   information I = X'WX, W = diag(mu (1 - mu))
//   deviance    D = 2 sum_i [softplus(eta_i) - y_i eta_i],  softplus(eta) = log(1 + e^eta)
// Inactive covariate columns (the `active` mask) keep theta_j = 0 and are left out of every solve: the
// linear algebra runs on the q active columns ("compacted"), the row passes on whole rows.
//
// Newton (IRLS): each sweep streams the kept rows once in blocks: eta = X theta, mu, w, then U and
// (sqrt(w) X)' (sqrt(w) X) by the register-tiled Gram kernel: O(n p^2) per iteration. A step that moves no
// eta by more than kNegligibleEta is taken without another sweep (the information at the previous iterate
// serves for the SEs).
//
// Chord: a protein's effect is small, so the information at the null estimate, H0 = X'W0X with the null
// model's weights w0, is close to the information at the estimate. Its C'W0C block is the null's Gram
// downdated by the rows this fit drops (as fit_linear downdates C'C); C'W0v and v'W0v come with the first
// score pass. With H0 factored once, theta_{k+1} = theta_k + H0^{-1} U(theta_k) costs one O(n p) pass per
// step and converges linearly at rate rho = spectral radius of I - H0^{-1} I(theta*) ~ |beta_v| |1 - 2 mu|
// (~0.1 at OR 1.2 per SD), accelerated by Anderson mixing. ||s||_H0^2 = s'U for s = H0^{-1} U comes free
// and measures progress: a mean contraction above chord_max_rate per step sends the fit to Newton (as do
// |eta| > separation_eta and chord_max_iter). The iteration stops once a step moves no eta by more than
// chord_tol (1e-10; bounded by sum_j |s_j| max_i |x_ij|), the remaining error then being smaller still.
// One Newton sweep at that estimate gives X'WX for the SEs and a final Newton step, negligible by
// construction; the Newton loop checks it and keeps iterating if it is not. In a batch that sweep is one lane pass
// for all its converged fits (lane_information_pass: X'WX by the lane Gram over the shared rows, no row copies);
// a fit whose step is not negligible then sweeps its own rows.
//
// Rows are read in SharedDesign's compressed layout (dense columns + a level code per dummy group), see
// below: the chord passes are memory-bound, the Gram flop-bound, and both shrink with the dummies gone.
// The chord iteration itself runs in kernels/logistic_chord.cpp for a batch of up to kLanes fits in lockstep, its
// passes shared (kernels/logistic_lanes.cpp: one fit per vector lane); fit_logistic is a batch of one.

namespace pwas::kernels {
namespace logistic_detail {
namespace {

using Eigen::Index;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Rows per block: 512 rows of <= 64 doubles (<= 256 KB) stay in L2 between the passes over a block.
constexpr Index kBlock = 512;
// Step halving when the deviance rises by more than rounding (relative to |D| + 0.1, as the test).
constexpr double kHalvingSlack = 1e-9;
constexpr int kMaxHalvings = 30;
// At a finite MLE the next Newton step moves eta by ~ the square of the last one (quadratic
// convergence; ~1e-8 or less after the deviance test). Along a separating direction it moves eta of the
// separated rows by ~1 per step, however far out: the signature of (quasi-)separation.
constexpr double kDriftTol = 1e-3;
// A Newton step that moves no linear predictor by more than this (bounded by sum_j |step_j| max_i |x_ij|)
// is taken without another sweep: the information at the previous iterate equals the one at the estimate
// to this relative accuracy (|dw / w| = |1 - 2 mu| |d eta| <= |d eta|), so the SEs are exact to ~5e-11.
constexpr double kNegligibleEta = 1e-10;

double norm1(const Eigen::MatrixXd& m) { return m.cwiseAbs().colwise().sum().maxCoeff(); }

struct SweepStats {
  double deviance = 0.0;
  double max_abs_eta = 0.0;
};

// Rows are read in SharedDesign's compressed layout: z = [dense columns of C, v - mean_v] (nz of them, v at
// dense index n_dense) and one level code per dummy group. With c_ij = 1{level = j} - m_j for a dummy column j,
//   x_i' theta   = z_i' theta_z + sum_g theta_{level_g(i)} - kappa,       kappa = sum_{dummies} m_j theta_j
//   (X'r)_j      = R_j - m_j sum_i r_i,                                   R_j = sum over level j's rows of r
// and X'WX follows from sum w z z', the per-level sums S_j = sum w z, and, for each pair of groups, the
// sums of w over the rows at each pair of their levels (assemble_gram).

// Design column of dense index a (v after the dense columns of C).
Index dense_col(const Problem& pr, Index a) {
  return a < pr.d.n_dense() ? pr.d.dense_cols[static_cast<std::size_t>(a)] : pr.d.n_cov();
}

// Gathers kept rows [k0, k0 + m) of z, scaled by sqrt_w [m], into ws.x as contiguous rows (for the Gram kernel).
void gather_scaled(const Problem& pr, Index k0, Index m, const double* sqrt_w, LogisticWorkspace& ws) {
  const Index nd = pr.d.n_dense();
  const Index* rows = ws.rows.data() + k0;
  for (Index t = 0; t < m; ++t) ws.x.row(t) = sqrt_w[t] * pr.d.z_rows.row(rows[t]);
  if (pr.has_v) ws.x.col(nd).head(m) = ws.vk.segment(k0, m).cwiseProduct(Eigen::Map<const Eigen::VectorXd>(sqrt_w, m));
}

// The stretch of z's rows that the block starting at kept row k0 will gather (dropped rows included).
std::span<const double> next_block_rows(const Problem& pr, Index k0, const LogisticWorkspace& ws) {
  const Index n_obs = static_cast<Index>(ws.rows.size());
  if (k0 >= n_obs) return {};
  const Index last = ws.rows[std::min(k0 + kBlock, n_obs) - 1];
  const double* first = pr.d.z_rows.row(ws.rows[k0]).data();
  const double* end = pr.d.z_rows.row(last).data() + pr.d.z_rows.cols();
  return {first, static_cast<std::size_t>(end - first)};
}

// theta [p] in the compressed layout: ws.theta_pad [z stride] (dense columns of C, zero-padded),
// ws.theta_levels [level rows] (0 for each group's code 0); returns kappa.
double prepare_theta(const Problem& pr, const Eigen::VectorXd& theta, LogisticWorkspace& ws) {
  const SharedDesign& d = pr.d;
  ws.theta_pad.setZero(d.z_rows.cols());
  for (Index a = 0; a < d.n_dense(); ++a) ws.theta_pad(a) = theta(d.dense_cols[static_cast<std::size_t>(a)]);
  ws.theta_levels.setZero(d.level_rows);
  double kappa = 0.0;
  for (const DummyGroup& g : d.groups)
    for (std::size_t k = 0; k < g.cols.size(); ++k) {
      const double t = theta(g.cols[k]);
      ws.theta_levels(g.offset + 1 + static_cast<Index>(k)) = t;
      kappa += d.mean(g.cols[k]) * t;
    }
  return kappa;
}

// eta = X theta on kept rows [k0, k0 + m) into ws.z, from prepare_theta's layout (read in place).
void block_eta(const Problem& pr, double kappa, double theta_v, Index k0, Index m, LogisticWorkspace& ws) {
  const SharedDesign& d = pr.d;
  const Index* rows = ws.rows.data() + k0;
  double* eta = ws.z.data();
  rows_dot(d.z_rows.data(), d.z_rows.cols(), rows, m, ws.theta_pad.data(), eta);
  const auto n_groups = static_cast<Index>(d.groups.size());
  for (Index t = 0; t < m; ++t) {
    double e = eta[t] - kappa;
    const std::uint16_t* lev = d.level.row(rows[t]).data();
    for (Index g = 0; g < n_groups; ++g) e += ws.theta_levels(d.groups[static_cast<std::size_t>(g)].offset + lev[g]);
    eta[t] = e;
  }
  if (pr.has_v) ws.z.head(m) += theta_v * ws.vk.segment(k0, m);
}

// From eta in ws.z: e = exp(-|eta|) into ws.w and y - mu into ws.resid. With e = exp(-|eta|) every term
// stays finite: mu = 1 / (1 + e) for eta >= 0 and e / (1 + e) otherwise, w = mu (1 - mu) = e / (1 + e)^2,
// softplus = max(eta, 0) + log(1 + e).
void block_residuals(Index k0, Index m, LogisticWorkspace& ws) {
  const auto ea = ws.z.head(m).array();
  auto e = ws.w.head(m).array();
  e = (-ea.abs()).exp();
  ws.resid.head(m).array() = ws.yk.segment(k0, m).array() - (ea >= 0.0).select(1.0 / (1.0 + e), e / (1.0 + e));
}

// Adds sum_t s_t over kept rows [k0, k0 + m) to table(level row of each group of each row).
void scatter_levels(const Problem& pr, const Index* rows, Index m, const double* s, Eigen::VectorXd& table) {
  const SharedDesign& d = pr.d;
  const auto n_groups = static_cast<Index>(d.groups.size());
  for (Index t = 0; t < m; ++t) {
    const std::uint16_t* lev = d.level.row(rows[t]).data();
    for (Index g = 0; g < n_groups; ++g) table(d.groups[static_cast<std::size_t>(g)].offset + lev[g]) += s[t];
  }
}

// (X'r)_j of the dummy columns into u [p] from the level sums R (table) and sum_i r_i (= u(0)).
void dummy_score(const Problem& pr, const Eigen::VectorXd& table, Eigen::VectorXd& u) {
  for (const DummyGroup& g : pr.d.groups)
    for (std::size_t k = 0; k < g.cols.size(); ++k)
      u(g.cols[k]) = table(g.offset + 1 + static_cast<Index>(k)) - pr.d.mean(g.cols[k]) * u(0);
}

// Adds the rows of ws.x [m x nz] (zero-padded to the z stride), already scaled by sqrt(w) (sqrt_w [m]), of
// design rows `rows`: the dense Gram, the per-level sums S_j += sqrt(w) x and the level-pair sums of w
// (kernels/level_gram.hpp; each group's most frequent level is filled in by assemble_gram).
void add_gram_block(const Problem& pr, Index nz, const Index* rows, Index m, const double* sqrt_w,
                    std::span<const double> prefetch, LogisticWorkspace& ws) {
  level_gram_add(pr.d, nz, rows, m, sqrt_w, ws.x, prefetch, ws.gram);
}

// Expands the accumulated Gram into the lower triangle of out [p x p] in design order (p = n_cov, plus v when
// nz = n_dense + 1); the formulas are in kernels/level_gram.hpp.
void assemble_gram(const Problem& pr, Index nz, LogisticWorkspace& ws, Eigen::MatrixXd& out) {
  const Index p = pr.d.n_cov() + (nz > pr.d.n_dense() ? 1 : 0);
  level_gram_assemble(pr.d, nz, p, [&](Index a) { return dense_col(pr, a); }, ws.gram, out);
}

// One pass over the kept rows at `theta`: deviance and max |eta|; with `information` also the score
// into ws.u and the lower triangle of X'WX into ws.b.
SweepStats sweep(const Problem& pr, const Eigen::VectorXd& theta, bool information, LogisticWorkspace& ws) {
  const SharedDesign& d = pr.d;
  const Index nz = d.n_dense() + (pr.has_v ? 1 : 0);
  const Index n_obs = static_cast<Index>(ws.rows.size());
  const double kappa = prepare_theta(pr, theta, ws);
  const double theta_v = pr.has_v ? theta(d.n_cov()) : 0.0;
  if (information) {
    level_gram_reset(pr.d, kBlock, ws.gram);
    ws.score_pad.setZero(d.z_rows.cols());
    ws.level_score.setZero(d.level_rows);
  }
  double score_v = 0.0;
  SweepStats st;
  for (Index k0 = 0; k0 < n_obs; k0 += kBlock) {
    const Index m = std::min(kBlock, n_obs - k0);
    const Index* rows = ws.rows.data() + k0;
    block_eta(pr, kappa, theta_v, k0, m, ws);
    block_residuals(k0, m, ws);
    const auto ea = ws.z.head(m).array();
    auto e = ws.w.head(m).array();
    st.deviance += 2.0 * (ea.max(0.0) + (1.0 + e).log() - ws.yk.segment(k0, m).array() * ea).sum();
    st.max_abs_eta = std::max(st.max_abs_eta, ea.abs().maxCoeff());
    if (!information) continue;
    rows_axpy(d.z_rows.data(), d.z_rows.cols(), rows, m, ws.resid.data(), ws.score_pad.data());
    scatter_levels(pr, rows, m, ws.resid.data(), ws.level_score);
    if (pr.has_v) score_v += ws.resid.head(m).dot(ws.vk.segment(k0, m));
    e = e.sqrt() / (1.0 + e);  // sqrt(w)
    gather_scaled(pr, k0, m, ws.w.data(), ws);
    add_gram_block(pr, nz, rows, m, ws.w.data(), next_block_rows(pr, k0 + m, ws), ws);
  }
  if (information) {
    assemble_gram(pr, nz, ws, ws.b);
    ws.u.resize(pr.p);
    for (Index a = 0; a < d.n_dense(); ++a) ws.u(d.dense_cols[static_cast<std::size_t>(a)]) = ws.score_pad(a);
    dummy_score(pr, ws.level_score, ws.u);
    if (pr.has_v) ws.u(d.n_cov()) = score_v;
  }
  return st;
}

// max_i |x_i' delta| over the kept rows.
double max_abs_linear(const Problem& pr, const Eigen::VectorXd& delta, LogisticWorkspace& ws) {
  const Index n_obs = static_cast<Index>(ws.rows.size());
  const double kappa = prepare_theta(pr, delta, ws);
  const double delta_v = pr.has_v ? delta(pr.d.n_cov()) : 0.0;
  double mx = 0.0;
  for (Index k0 = 0; k0 < n_obs; k0 += kBlock) {
    const Index m = std::min(kBlock, n_obs - k0);
    block_eta(pr, kappa, delta_v, k0, m, ws);
    mx = std::max(mx, ws.z.head(m).cwiseAbs().maxCoeff());
  }
  return mx;
}

}  // namespace

// sum_j |delta_j| max_i |x_ij|: a bound for max_i |x_i' delta| over the kept rows without a pass.
double eta_bound(const Problem& pr, const Eigen::VectorXd& delta) {
  const Index pc = pr.d.n_cov();
  double bound = max_abs_row_bound(pr.d, delta.data());
  if (pr.has_v) bound += std::abs(delta(pc)) * pr.abs_max_v;
  return bound;
}

// Equilibrates the active block of the lower triangle of `info` [p x p] into ws.a = D I D (lower),
// D = diag(I)^{-1/2} in ws.scale [q], and factors it. False when it is not numerically positive definite.
bool factor_compact(const Eigen::MatrixXd& info, LogisticWorkspace& ws) {
  const auto& cols = ws.cols;
  const Index q = static_cast<Index>(cols.size());
  ws.scale.resize(q);
  for (Index k = 0; k < q; ++k) {
    const double djj = info(cols[k], cols[k]);
    if (!(djj > 0.0) || !std::isfinite(djj)) return false;
    ws.scale(k) = 1.0 / std::sqrt(djj);
  }
  ws.a.resize(q, q);
  for (Index l = 0; l < q; ++l)
    for (Index k = l; k < q; ++k) {
      ws.a(k, l) = info(cols[k], cols[l]) * ws.scale(k) * ws.scale(l);
      if (!std::isfinite(ws.a(k, l))) return false;
    }
  ws.llt.compute(ws.a);
  return ws.llt.info() == Eigen::Success;
}

// ws.step [p] = I^{-1} ws.u on the active columns (0 elsewhere), from the factorisation of factor_compact.
void solve_step(Index p, LogisticWorkspace& ws) {
  const auto& cols = ws.cols;
  const Index q = static_cast<Index>(cols.size());
  ws.cs.resize(q);
  for (Index k = 0; k < q; ++k) ws.cs(k) = ws.scale(k) * ws.u(cols[k]);
  ws.llt.solveInPlace(ws.cs);
  ws.step.setZero(p);
  for (Index k = 0; k < q; ++k) ws.step(cols[k]) = ws.scale(k) * ws.cs(k);
}

namespace {

// sum_i w_i c_i c_i' over the rows i with take(i) into the lower triangle of g [n_cov x n_cov].
template <class Take>
void weighted_gram(const Problem& pr, const Eigen::VectorXd& w, Take take, Eigen::MatrixXd& g,
                   LogisticWorkspace& ws) {
  const SharedDesign& d = pr.d;
  const Index nz = d.n_dense();
  level_gram_reset(pr.d, kBlock, ws.gram);
  Index t = 0;
  auto flush = [&] {
    add_gram_block(pr, nz, ws.block_rows.data(), t, ws.resid.data(), {}, ws);
    t = 0;
  };
  for (Index i = 0; i < d.n_samples(); ++i) {
    if (!take(i)) continue;
    const double sw = std::sqrt(w(i));
    ws.x.row(t) = sw * d.z_rows.row(i);  // padding (and the spare v column) stays 0
    ws.resid(t) = sw;
    ws.block_rows[static_cast<std::size_t>(t)] = i;
    if (++t == kBlock) flush();
  }
  if (t > 0) flush();
  assemble_gram(pr, nz, ws, g);
}

}  // namespace

// C'W0C over this fit's kept rows into the lower triangle of ws.h0: the null's Gram minus the rows it has
// and this fit drops (plus any it lacks), or summed over the kept rows when those are fewer.
void kept_null_gram(const Problem& pr, const LogisticNull& null, std::span<const std::uint8_t> keep,
                    LogisticWorkspace& ws) {
  const SharedDesign& d = pr.d;
  const Index pc = d.n_cov();
  Index n_diff = 0;
  for (Index i = 0; i < d.n_samples(); ++i) n_diff += (keep[i] != 0) != (null.keep[i] != 0);
  if (n_diff <= static_cast<Index>(ws.rows.size())) {
    weighted_gram(pr, null.w, [&](Index i) { return null.keep[i] && !keep[i]; }, ws.dropped, ws);
    ws.h0.resize(pc, pc);
    for (Index j = 0; j < pc; ++j)
      for (Index i = j; i < pc; ++i) ws.h0(i, j) = null.gram(i, j) - ws.dropped(i, j);
    if (n_diff > 0) {
      weighted_gram(pr, null.w, [&](Index i) { return keep[i] && !null.keep[i]; }, ws.dropped, ws);
      for (Index j = 0; j < pc; ++j)
        for (Index i = j; i < pc; ++i) ws.h0(i, j) += ws.dropped(i, j);
    }
  } else {
    weighted_gram(pr, null.w, [&](Index i) { return keep[i] != 0; }, ws.h0, ws);
  }
}

namespace {

// Everything a fit needs before its first pass: the active columns (ws.cols), kept rows (ws.rows), kept y and
// centred v (ws.yk, ws.vk) and the problem. Returns nullopt with fit.status set when the fit cannot run.
std::optional<Problem> set_up(const SharedDesign& d, const double* v, Eigen::Ref<const Eigen::VectorXd> y,
                              std::span<const std::uint8_t> keep, std::span<const std::uint8_t> active,
                              LogisticWorkspace& ws, LogisticFit& fit) {
  const Index n = d.n_samples();
  const Index pc = d.n_cov();
  const bool has_v = v != nullptr;
  const Index p = pc + (has_v ? 1 : 0);
  PWAS_ASSERT(y.size() == n && static_cast<Index>(keep.size()) == n);
  PWAS_ASSERT(active.empty() || (static_cast<Index>(active.size()) == pc && active[0] != 0));

  fit = LogisticFit{};
  fit.beta = Eigen::VectorXd::Constant(p, kNaN);
  fit.se = Eigen::VectorXd::Constant(p, kNaN);
  fit.deviance = kNaN;

  ws.cols.clear();
  for (Index j = 0; j < pc; ++j)
    if (active.empty() || active[j]) ws.cols.push_back(j);
  const bool masked = static_cast<Index>(ws.cols.size()) < pc;
  if (has_v) ws.cols.push_back(pc);
  const Index q = static_cast<Index>(ws.cols.size());

  ws.rows.clear();
  Index n_cases = 0;
  double sum_v = 0.0;
  double vmin = std::numeric_limits<double>::infinity(), vmax = -vmin;
  for (Index i = 0; i < n; ++i) {
    if (!keep[i]) continue;
    ws.rows.push_back(i);
    PWAS_ASSERT(y[i] == 0.0 || y[i] == 1.0);
    n_cases += y[i] == 1.0;
    if (has_v) {
      PWAS_ASSERT(std::isfinite(v[i]));
      sum_v += v[i];
      vmin = std::min(vmin, v[i]);
      vmax = std::max(vmax, v[i]);
    }
  }
  const Index n_obs = static_cast<Index>(ws.rows.size());
  fit.n_obs = static_cast<int>(n_obs);
  fit.n_cases = static_cast<int>(n_cases);
  if (n_obs <= q || n_cases == 0 || n_cases == n_obs) {
    fit.status = FitStatus::kTooFewCases;
    return std::nullopt;
  }
  if (has_v && !(vmin < vmax)) {
    fit.status = FitStatus::kConstant;
    return std::nullopt;
  }

  Problem pr{d, has_v, p, 0.0, 0.0, masked};
  // yk and vk are sized for all samples so that masks of varying size never reallocate them.
  if (ws.yk.size() != n) ws.yk.resize(n);
  for (Index k = 0; k < n_obs; ++k) ws.yk(k) = y[ws.rows[k]];
  if (has_v) {
    double mean_v = sum_v / static_cast<double>(n_obs);
    double residue = 0.0;
    for (const Index i : ws.rows) residue += v[i] - mean_v;
    mean_v += residue / static_cast<double>(n_obs);
    if (ws.vk.size() != n) ws.vk.resize(n);
    for (Index k = 0; k < n_obs; ++k) ws.vk(k) = v[ws.rows[k]] - mean_v;
    pr.mean_v = mean_v;
    pr.abs_max_v = ws.vk.head(n_obs).cwiseAbs().maxCoeff();
  }
  if (ws.x.rows() != kBlock || ws.x.cols() != d.z_rows.cols()) ws.x.setZero(kBlock, d.z_rows.cols());
  ws.z.resize(kBlock);
  ws.w.resize(kBlock);
  ws.resid.resize(kBlock);
  ws.block_rows.resize(kBlock);
  return pr;
}

// The rest of a fit after set_up (and the chord iteration when it ran: from_chord says whether it reached the
// estimate, left in ws.theta): Newton from the best start, then the covariance at the estimate.
void newton_finish(const Problem& pr, SweepStats st, bool from_chord, LogisticWorkspace& ws, const LogisticOptions& opt,
                   LogisticFit& fit);

void finish(const Problem& pr, const LogisticNull* null, bool from_chord, LogisticWorkspace& ws,
            const LogisticOptions& opt, LogisticFit& fit) {
  const SharedDesign& d = pr.d;
  const Index pc = d.n_cov();
  const Index p = pr.p;
  const Index q = static_cast<Index>(ws.cols.size());
  const Index n_obs = fit.n_obs;
  const Index n_cases = fit.n_cases;
  const bool have_null = null != nullptr && null->ok();
  // Newton start: the chord estimate; else the null estimate with 0 for v (inactive columns 0) unless it
  // fits worse than the intercept-only MLE theta = (logit(ybar), 0, ...), whose deviance is known in closed
  // form: Newton from a start that bad (weights underflowing to 0) can fail to descend at all.
  const double ybar = static_cast<double>(n_cases) / static_cast<double>(n_obs);
  const double n_controls = static_cast<double>(n_obs - n_cases);
  const double dev_intercept_only =
      -2.0 * (static_cast<double>(n_cases) * std::log(ybar) + n_controls * std::log1p(-ybar));
  SweepStats st;
  bool started = false;
  if (from_chord) {
    st = sweep(pr, ws.theta, true, ws);
    started = true;
  } else if (have_null) {
    PWAS_ASSERT(null->theta.size() == pc);
    ws.theta.setZero(p);
    for (Index k = 0; k < q; ++k)
      if (ws.cols[k] < pc) ws.theta(ws.cols[k]) = null->theta(ws.cols[k]);
    st = sweep(pr, ws.theta, true, ws);
    started = st.deviance <= dev_intercept_only;
  }
  if (!started) {
    ws.theta.setZero(p);
    ws.theta(0) = std::log(ybar / (1.0 - ybar));
    st = sweep(pr, ws.theta, true, ws);
  }
  newton_finish(pr, st, from_chord, ws, opt, fit);
}

// The Newton loop of finish from a sweep at ws.theta (st; ws.u and ws.b its score and X'WX), then the status, the
// estimates and their SEs into fit.
void newton_finish(const Problem& pr, SweepStats st, bool from_chord, LogisticWorkspace& ws, const LogisticOptions& opt,
                   LogisticFit& fit) {
  const SharedDesign& d = pr.d;
  const Index pc = d.n_cov();
  const Index p = pr.p;
  const Index q = static_cast<Index>(ws.cols.size());
  bool converged = false;
  bool information_ok = true;
  bool full_step = false;  // the last step was an undamped Newton step (R's deviance test applies)
  double dev_old = kNaN;
  int iterations = 0;
  ws.trial.resize(p);
  while (true) {
    if (!factor_compact(ws.b, ws)) {
      information_ok = false;
      break;
    }
    solve_step(p, ws);
    if (eta_bound(pr, ws.step) <= kNegligibleEta) {
      // Taken without another sweep: D(theta + s) = D - 2 U's + s'Is = D - U's for the Newton step s.
      ws.theta += ws.step;
      st.deviance -= ws.step.dot(ws.u);
      ++iterations;
      converged = true;
      break;
    }
    // R's glm.fit rule: |D - D_old| / (|D| + 0.1) < epsilon; a shortened step's small change proves nothing.
    if (full_step && std::abs(st.deviance - dev_old) / (std::abs(st.deviance) + 0.1) < opt.tol) {
      converged = true;
      break;
    }
    if (iterations >= opt.max_iter) break;
    dev_old = st.deviance;
    const double dev_ceiling = dev_old + kHalvingSlack * (std::abs(dev_old) + 0.1);
    ws.trial = ws.theta + ws.step;
    st = sweep(pr, ws.trial, true, ws);
    int halvings = 0;
    for (; halvings < kMaxHalvings && !(st.deviance <= dev_ceiling); ++halvings) {
      ws.step *= 0.5;
      ws.trial = ws.theta + ws.step;
      st = sweep(pr, ws.trial, true, ws);
    }
    ws.theta = ws.trial;
    ++iterations;
    if (!(st.deviance <= dev_ceiling)) break;  // no descent along the Newton direction
    full_step = halvings == 0;
  }
  fit.iterations = iterations;
  fit.deviance = st.deviance;

  // Fitted probabilities this extreme with a singular information point to separation, not aliasing.
  const bool extreme = st.max_abs_eta > 0.5 * opt.separation_eta;
  if (!converged) {
    if (!information_ok)
      fit.status = extreme ? FitStatus::kSeparation : FitStatus::kSingular;
    else
      fit.status = st.max_abs_eta > opt.separation_eta ? FitStatus::kSeparation : FitStatus::kNotConverged;
    return;
  }
  // Covariance at the estimate: ws.llt factors the equilibrated X'WX of the last sweep (at the estimate, or
  // one negligible step from it), ws.a its input.
  fill_upper_from_lower(ws.a);
  const double norm_i = norm1(ws.a);
  ws.a.setIdentity(q, q);
  ws.llt.solveInPlace(ws.a);
  const double rcond = 1.0 / (norm_i * norm1(ws.a));
  if (!(rcond >= opt.singular_rcond)) {
    fit.status = extreme ? FitStatus::kSeparation : FitStatus::kSingular;
    return;
  }
  // Separation: a linear predictor beyond separation_eta, or a next Newton step (ws.step) that still moves eta.
  const bool drifting = eta_bound(pr, ws.step) > kDriftTol && max_abs_linear(pr, ws.step, ws) > kDriftTol;
  if (st.max_abs_eta > opt.separation_eta || drifting) {
    fit.status = FitStatus::kSeparation;
    return;
  }

  ws.a = ws.scale.asDiagonal() * ws.a * ws.scale.asDiagonal();  // Cov(theta) = D M^{-1} D (compacted)
  for (Index k = 0; k < q; ++k) {
    fit.beta(ws.cols[k]) = ws.theta(ws.cols[k]);
    fit.se(ws.cols[k]) = std::sqrt(ws.a(k, k));
  }
  // beta_0 = t' theta, Var(beta_0) = t' Cov t with t = (1, -mean_1, ..., -mean_{pc-1}, -mean_v) (active).
  ws.cs.resize(q);
  for (Index k = 0; k < q; ++k) {
    const Index j = ws.cols[k];
    ws.cs(k) = j == 0 ? 1.0 : j < pc ? -d.mean(j) : -pr.mean_v;
  }
  double beta0 = 0.0;
  for (Index k = 0; k < q; ++k) beta0 += ws.cs(k) * ws.theta(ws.cols[k]);
  fit.beta(0) = beta0;
  double var0 = 0.0;
  for (Index k = 0; k < q; ++k) var0 += ws.cs(k) * ws.a.col(k).dot(ws.cs);
  fit.se(0) = std::sqrt(var0);
  fit.used_chord = from_chord;
  fit.status = FitStatus::kOk;
}

// Fits of one design, null and outcome: set up each, run the chord iteration of those that have a null model and a
// column v together, then finish each.
void fit_batch(const SharedDesign& d, const LogisticNull* null, std::span<const double* const> v,
               Eigen::Ref<const Eigen::VectorXd> y, std::span<const std::span<const std::uint8_t>> keep,
               std::span<const std::span<const std::uint8_t>> active, std::span<LogisticWorkspace* const> ws,
               const LogisticOptions& opt, std::span<LogisticFit> out) {
  const auto n_fits = v.size();
  PWAS_ASSERT(n_fits >= 1 && n_fits <= static_cast<std::size_t>(kLanes) && keep.size() == n_fits &&
              active.size() == n_fits && ws.size() == n_fits && out.size() == n_fits);
  std::optional<Problem> problems[kLanes];
  ChordLane lanes[kLanes];
  int n_lanes = 0;
  int lane_of[kLanes];
  const bool chord = null != nullptr && null->ok() && opt.chord;
  for (std::size_t f = 0; f < n_fits; ++f) {
    if (auto pr = set_up(d, v[f], y, keep[f], active[f], *ws[f], out[f])) problems[f].emplace(*pr);
    lane_of[f] = -1;
    if (!problems[f] || !chord || v[f] == nullptr) continue;
    lane_of[f] = n_lanes;
    lanes[n_lanes++] = ChordLane{&*problems[f], ws[f], keep[f]};
  }
  if (n_lanes > 0) {
    LanePass& lp = ws[0]->lanes;
    lp.y.resize(static_cast<std::size_t>(d.n_samples()));
    for (Index i = 0; i < d.n_samples(); ++i) lp.y[static_cast<std::size_t>(i)] = std::isfinite(y[i]) ? y[i] : 0.0;
    chord_batch(*null, std::span<ChordLane>(lanes, static_cast<std::size_t>(n_lanes)), opt, lp);
  }
  // The Newton sweep at the converged lanes' estimates as one lane pass (their X'WX by the lane Gram over the shared
  // rows, no row copies); each fit then takes its Newton step from it, and sweeps on its own only if that step is
  // not negligible.
  bool lane_sweep = false;
  Lane deviance{};
  if (n_lanes > 0 && opt.lane_information) {
    LanePass& lp = ws[0]->lanes;
    for (int b = 0; b < kLanes; ++b) {
      if (b < n_lanes && lanes[b].converged) {
        lane_detail::load_theta(d, lanes[b].ws->theta, true, b, lp);
        lane_sweep = true;
      } else {
        lane_detail::park(d, b, lp);
      }
    }
    if (lane_sweep) lane_information_pass(d, lp, ws[0]->lane_gram, deviance);
  }
  for (std::size_t f = 0; f < n_fits; ++f) {
    if (!problems[f]) continue;
    const ChordLane* lane = lane_of[f] >= 0 ? &lanes[lane_of[f]] : nullptr;
    if (lane != nullptr) out[f].chord_iterations = lane->steps;
    if (lane_sweep && lane != nullptr && lane->converged) {
      const int b = lane_of[f];
      const LanePass& lp = ws[0]->lanes;
      LogisticWorkspace& w = *ws[f];
      const Problem& pr = *problems[f];
      SweepStats st;
      st.deviance = deviance[b];
      st.max_abs_eta = lp.max_abs_eta[b];
      w.u.setZero(pr.p);
      lane_detail::unpack(d, lp.score_pad, lp.level_score, lp.score_v[b], true, b, w.u);
      w.b.setZero(pr.p, pr.p);
      lane_gram_add_to(d, ws[0]->lane_gram, b, 1.0, w.lane_scratch, w.b);
      w.trial.resize(pr.p);
      newton_finish(pr, st, true, w, opt, out[f]);
      continue;
    }
    finish(*problems[f], null, lane != nullptr && lane->converged, *ws[f], opt, out[f]);
  }
}

}  // namespace
}  // namespace logistic_detail

using logistic_detail::fit_batch;

LogisticFit fit_logistic(const SharedDesign& d, const LogisticNull* null, Eigen::Ref<const Eigen::VectorXd> v,
                         Eigen::Ref<const Eigen::VectorXd> y, std::span<const std::uint8_t> keep,
                         std::span<const std::uint8_t> active, LogisticWorkspace& ws, const LogisticOptions& opt) {
  PWAS_ASSERT(v.size() == d.n_samples());
  const double* vp = v.data();
  LogisticWorkspace* wp = &ws;
  LogisticFit fit;
  fit_batch(d, null, {&vp, 1}, y, {&keep, 1}, {&active, 1}, {&wp, 1}, opt, {&fit, 1});
  return fit;
}

std::vector<LogisticFit> fit_logistic_batch(const SharedDesign& d, const LogisticNull* null,
                                            std::span<const double* const> v, Eigen::Ref<const Eigen::VectorXd> y,
                                            std::span<const std::span<const std::uint8_t>> keep,
                                            std::span<const std::span<const std::uint8_t>> active,
                                            std::span<LogisticWorkspace* const> ws, const LogisticOptions& opt) {
  std::vector<LogisticFit> out(v.size());
  for (const double* x : v) PWAS_ASSERT(x != nullptr);
  fit_batch(d, null, v, y, keep, active, ws, opt, out);
  return out;
}

LogisticFit fit_logistic_null(const SharedDesign& d, Eigen::Ref<const Eigen::VectorXd> y,
                              std::span<const std::uint8_t> keep, LogisticWorkspace& ws,
                              const LogisticOptions& opt) {
  const double* none = nullptr;
  const std::span<const std::uint8_t> all_active;
  LogisticWorkspace* wp = &ws;
  LogisticFit fit;
  logistic_detail::fit_batch(d, nullptr, {&none, 1}, y, {&keep, 1}, {&all_active, 1}, {&wp, 1}, opt, {&fit, 1});
  return fit;
}

LogisticNull make_logistic_null(const SharedDesign& d, Eigen::Ref<const Eigen::VectorXd> y,
                                std::span<const std::uint8_t> keep_all, LogisticWorkspace& ws,
                                const LogisticOptions& opt) {
  using namespace logistic_detail;
  using Eigen::Index;
  const Index n = d.n_samples();
  const Index pc = d.n_cov();
  LogisticNull null;
  null.keep.assign(keep_all.begin(), keep_all.end());
  null.fit = fit_logistic_null(d, y, keep_all, ws, opt);
  if (null.fit.status != FitStatus::kOk) return null;
  null.theta = ws.theta.head(pc);  // fit_core leaves the estimate in the centred parametrisation here
  // w = e / (1 + e)^2 with e = exp(-|eta|), as in the fits' sweeps.
  null.w.resize(n);
  null.w.noalias() = d.c * null.theta;
  null.w = null.w.array().abs().unaryExpr([](double a) {
    const double e = std::exp(-a);
    return e / ((1.0 + e) * (1.0 + e));
  });
  if (ws.x.rows() != kBlock || ws.x.cols() != d.z_rows.cols()) ws.x.setZero(kBlock, d.z_rows.cols());
  ws.resid.resize(kBlock);
  ws.block_rows.resize(kBlock);
  const Problem pr{d, false, pc, 0.0, 0.0, false};
  weighted_gram(pr, null.w, [&](Index i) { return keep_all[i] != 0; }, null.gram, ws);
  fill_upper_from_lower(null.gram);
  return null;
}

}  // namespace pwas::kernels
