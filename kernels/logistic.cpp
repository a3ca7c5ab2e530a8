#include "kernels/logistic.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "kernels/assert.hpp"
#include "kernels/gram.hpp"

// Newton-Raphson (= IRLS for the canonical logit link) in the parametrisation of the pre-centred C and
// v centred at its kept mean, theta; the original one is beta_j = theta_j (j >= 1) and
// beta_0 = theta_0 - sum_{j>=1} mean_j theta_j - mean_v theta_v, i.e. beta = T theta with T = I except
// row 0, so Var(beta_0) = t' Cov(theta) t for t = row 0 of T.
//   score       U = X'(y - mu)
//   information I = X'WX, W = diag(mu (1 - mu))
//   deviance    D = 2 sum_i [softplus(eta_i) - y_i eta_i],  softplus(eta) = log(1 + e^eta)
// Each sweep streams the kept rows once in blocks: gather, eta = X theta, mu, w, then U and (sqrt(w) X)'
// (sqrt(w) X) by the register-tiled Gram kernel, so the information at the final estimate comes with the
// convergence test at no extra cost.

namespace pwas::kernels {
namespace {

using Eigen::Index;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Rows per block: 512 x 64 doubles = 256 KB of gathered design stays in L2 for the Gram tiles.
constexpr Index kBlock = 512;
// Step halving when the deviance rises by more than rounding (relative to |D| + 0.1, as the test).
constexpr double kHalvingSlack = 1e-9;
constexpr int kMaxHalvings = 30;
// At a finite MLE the next Newton step moves eta by ~ the square of the last one (quadratic
// convergence; ~1e-8 or less after the deviance test). Along a separating direction it moves eta of the
// separated rows by ~1 per step, however far out: the signature of (quasi-)separation.
constexpr double kDriftTol = 1e-3;

double norm1(const Eigen::MatrixXd& m) { return m.cwiseAbs().colwise().sum().maxCoeff(); }

struct Problem {
  const SharedDesign& d;
  bool has_v;
  Index p;            // columns of X
  double mean_v;      // kept mean of v (0 without v)
  double abs_max_v;   // max |v - mean_v| on kept rows
};

struct SweepStats {
  double deviance = 0.0;
  double max_abs_eta = 0.0;
};

// Gathers kept rows [k0, k0 + m) of X = [C, v - mean_v] into ws.x as contiguous row copies.
void gather_block(const Problem& pr, Index k0, Index m, LogisticWorkspace& ws) {
  const Index pc = pr.d.n_cov();
  const Index* rows = ws.rows.data() + k0;
  for (Index t = 0; t < m; ++t) ws.x.row(t) = pr.d.c_rows.row(rows[t]);
  if (pr.has_v) ws.x.col(pc).head(m) = ws.vk.segment(k0, m);
}

// The stretch of C's rows that the block starting at kept row k0 will gather (dropped rows included).
std::span<const double> next_block_rows(const Problem& pr, Index k0, const LogisticWorkspace& ws) {
  const Index n_obs = static_cast<Index>(ws.rows.size());
  if (k0 >= n_obs) return {};
  const Index last = ws.rows[std::min(k0 + kBlock, n_obs) - 1];
  const double* first = pr.d.c_rows.row(ws.rows[k0]).data();
  const double* end = pr.d.c_rows.row(last).data() + pr.d.c_rows.cols();
  return {first, static_cast<std::size_t>(end - first)};
}

// One pass over the kept rows at `theta`: deviance and max |eta|; with `information` also the score
// into ws.u and the lower triangle of X'WX into ws.b.
SweepStats sweep(const Problem& pr, const Eigen::VectorXd& theta, bool information, LogisticWorkspace& ws) {
  const Index p = pr.p;
  const Index n_obs = static_cast<Index>(ws.rows.size());
  if (information) {
    ws.b.setZero(p, p);
    ws.u.setZero(p);
  }
  SweepStats st;
  for (Index k0 = 0; k0 < n_obs; k0 += kBlock) {
    const Index m = std::min(kBlock, n_obs - k0);
    gather_block(pr, k0, m, ws);
    auto x = ws.x.topRows(m).leftCols(p);
    auto eta = ws.z.head(m);
    eta.noalias() = x * theta;
    const auto ea = eta.array();
    const auto ya = ws.yk.segment(k0, m).array();
    // e = exp(-|eta|) keeps every term finite: 1 / (1 + e) is mu for eta >= 0 and 1 - mu otherwise,
    // mu = exp(min(eta, 0)) / (1 + e), w = mu (1 - mu) = e / (1 + e)^2, softplus = max(eta, 0) + log(1 + e).
    auto e = ws.w.head(m).array();
    e = (-ea.abs()).exp();
    ws.resid.head(m).array() = ya - ea.min(0.0).exp() / (1.0 + e);
    st.deviance += 2.0 * (ea.max(0.0) + (1.0 + e).log() - ya * ea).sum();
    st.max_abs_eta = std::max(st.max_abs_eta, ea.abs().maxCoeff());
    if (!information) continue;
    ws.u.noalias() += x.transpose() * ws.resid.head(m);
    e = e.sqrt() / (1.0 + e);  // sqrt(w)
    for (Index t = 0; t < m; ++t) x.row(t) *= e(t);
    add_gram_lower(ws.b, x, next_block_rows(pr, k0 + m, ws));
  }
  return st;
}

// max_i |x_i' delta| over the kept rows.
double max_abs_linear(const Problem& pr, const Eigen::VectorXd& delta, LogisticWorkspace& ws) {
  const Index n_obs = static_cast<Index>(ws.rows.size());
  double mx = 0.0;
  for (Index k0 = 0; k0 < n_obs; k0 += kBlock) {
    const Index m = std::min(kBlock, n_obs - k0);
    gather_block(pr, k0, m, ws);
    ws.z.head(m).noalias() = ws.x.topRows(m).leftCols(pr.p) * delta;
    mx = std::max(mx, ws.z.head(m).cwiseAbs().maxCoeff());
  }
  return mx;
}

// Equilibrates the information in ws.b (lower) into ws.a = D I D (lower), D = diag(I)^{-1/2} in
// ws.scale, and factors it. False when I is not numerically positive definite.
bool factor_information(const Problem& pr, LogisticWorkspace& ws) {
  const Index p = pr.p;
  ws.scale.resize(p);
  for (Index j = 0; j < p; ++j) {
    const double djj = ws.b(j, j);
    if (!(djj > 0.0) || !std::isfinite(djj)) return false;
    ws.scale(j) = 1.0 / std::sqrt(djj);
  }
  ws.a.resize(p, p);
  for (Index j = 0; j < p; ++j)
    for (Index i = j; i < p; ++i) {
      ws.a(i, j) = ws.b(i, j) * ws.scale(i) * ws.scale(j);
      if (!std::isfinite(ws.a(i, j))) return false;
    }
  ws.llt.compute(ws.a);
  return ws.llt.info() == Eigen::Success;
}

// Newton step ws.step = I^{-1} U from the factorisation of the equilibrated information.
void newton_step(LogisticWorkspace& ws) {
  ws.step.resize(ws.u.size());
  ws.step = ws.scale.cwiseProduct(ws.u);
  ws.llt.solveInPlace(ws.step);
  ws.step.array() *= ws.scale.array();
}

LogisticFit fit_core(const SharedDesign& d, const double* v, Eigen::Ref<const Eigen::VectorXd> y,
                     std::span<const std::uint8_t> keep, const Eigen::VectorXd* start, LogisticWorkspace& ws,
                     const LogisticOptions& opt) {
  const Index n = d.n_samples();
  const Index pc = d.n_cov();
  const bool has_v = v != nullptr;
  const Index p = pc + (has_v ? 1 : 0);
  PWAS_ASSERT(y.size() == n && static_cast<Index>(keep.size()) == n);

  LogisticFit fit;
  fit.beta = Eigen::VectorXd::Constant(p, kNaN);
  fit.se = Eigen::VectorXd::Constant(p, kNaN);
  fit.deviance = kNaN;

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
  if (n_obs <= p || n_cases == 0 || n_cases == n_obs) {
    fit.status = FitStatus::kTooFewCases;
    return fit;
  }
  if (has_v && !(vmin < vmax)) {
    fit.status = FitStatus::kConstant;
    return fit;
  }

  Problem pr{d, has_v, p, 0.0, 0.0};
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
  if (ws.x.rows() != kBlock || ws.x.cols() != d.c_rows.cols()) ws.x.setZero(kBlock, d.c_rows.cols());
  ws.z.resize(kBlock);
  ws.w.resize(kBlock);
  ws.resid.resize(kBlock);

  // Start: `start` mapped to theta (theta_0 = beta_0 + sum mean_j beta_j), unless it fits worse than the
  // intercept-only MLE theta = (logit(ybar), 0, ...), whose deviance is known in closed form; Newton from
  // a start that bad (weights underflowing to 0) can fail to descend at all.
  const double ybar = static_cast<double>(n_cases) / static_cast<double>(n_obs);
  const double n_controls = static_cast<double>(n_obs - n_cases);
  const double dev_intercept_only =
      -2.0 * (static_cast<double>(n_cases) * std::log(ybar) + n_controls * std::log1p(-ybar));
  SweepStats st;
  bool from_start = false;
  ws.theta.setZero(p);
  if (start != nullptr) {
    PWAS_ASSERT(start->size() == p && start->allFinite());
    ws.theta = *start;
    for (Index j = 1; j < pc; ++j) ws.theta(0) += d.mean(j) * (*start)(j);
    if (has_v) ws.theta(0) += pr.mean_v * (*start)(pc);
    st = sweep(pr, ws.theta, true, ws);
    from_start = st.deviance <= dev_intercept_only;
  }
  if (!from_start) {
    ws.theta.setZero(p);
    ws.theta(0) = std::log(ybar / (1.0 - ybar));
    st = sweep(pr, ws.theta, true, ws);
  }
  bool converged = false;
  bool information_ok = true;
  int iterations = 0;
  ws.trial.resize(p);
  while (iterations < opt.max_iter) {
    if (!factor_information(pr, ws)) {
      information_ok = false;
      break;
    }
    newton_step(ws);
    const double dev_old = st.deviance;
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
    // R's glm.fit rule: |D - D_old| / (|D| + 0.1) < epsilon; a shortened step's small change proves nothing.
    if (halvings == 0 && std::abs(st.deviance - dev_old) / (std::abs(st.deviance) + 0.1) < opt.tol) {
      converged = true;
      break;
    }
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
    return fit;
  }
  // Covariance at the final estimate: ws.b holds X'WX there (the last sweep computed it).
  if (!factor_information(pr, ws)) {
    fit.status = extreme ? FitStatus::kSeparation : FitStatus::kSingular;
    return fit;
  }
  fill_upper_from_lower(ws.a);
  const double norm_i = norm1(ws.a);
  ws.a.setIdentity(p, p);
  ws.llt.solveInPlace(ws.a);
  const double rcond = 1.0 / (norm_i * norm1(ws.a));
  if (!(rcond >= opt.singular_rcond)) {
    fit.status = extreme ? FitStatus::kSeparation : FitStatus::kSingular;
    return fit;
  }
  // Separation: a linear predictor beyond separation_eta, or a next Newton step that still moves eta.
  ws.trial = ws.scale.cwiseProduct(ws.u);
  ws.step.noalias() = ws.a * ws.trial;
  ws.step.array() *= ws.scale.array();
  double drift_bound = 0.0;
  for (Index j = 0; j < pc; ++j) drift_bound += std::abs(ws.step(j)) * d.abs_max(j);
  if (has_v) drift_bound += std::abs(ws.step(pc)) * pr.abs_max_v;
  const bool drifting = drift_bound > kDriftTol && max_abs_linear(pr, ws.step, ws) > kDriftTol;
  if (st.max_abs_eta > opt.separation_eta || drifting) {
    fit.status = FitStatus::kSeparation;
    return fit;
  }

  ws.a = ws.scale.asDiagonal() * ws.a * ws.scale.asDiagonal();  // Cov(theta) = D M^{-1} D
  fit.beta = ws.theta;
  for (Index j = 0; j < p; ++j) fit.se(j) = std::sqrt(ws.a(j, j));
  // beta_0 = t' theta, Var(beta_0) = t' Cov t with t = (1, -mean_1, ..., -mean_{pc-1}, -mean_v).
  ws.trial.setZero(p);
  ws.trial(0) = 1.0;
  for (Index j = 1; j < pc; ++j) ws.trial(j) = -d.mean(j);
  if (has_v) ws.trial(pc) = -pr.mean_v;
  fit.beta(0) = ws.trial.dot(ws.theta);
  double var0 = 0.0;
  for (Index j = 0; j < p; ++j) var0 += ws.trial(j) * ws.a.col(j).dot(ws.trial);
  fit.se(0) = std::sqrt(var0);
  fit.status = FitStatus::kOk;
  return fit;
}

}  // namespace

LogisticFit fit_logistic(const SharedDesign& d, Eigen::Ref<const Eigen::VectorXd> v,
                         Eigen::Ref<const Eigen::VectorXd> y, std::span<const std::uint8_t> keep,
                         const Eigen::VectorXd* start, LogisticWorkspace& ws, const LogisticOptions& opt) {
  PWAS_ASSERT(v.size() == d.n_samples());
  return fit_core(d, v.data(), y, keep, start, ws, opt);
}

LogisticFit fit_logistic_null(const SharedDesign& d, Eigen::Ref<const Eigen::VectorXd> y,
                              std::span<const std::uint8_t> keep, LogisticWorkspace& ws,
                              const LogisticOptions& opt) {
  return fit_core(d, nullptr, y, keep, nullptr, ws, opt);
}

}  // namespace pwas::kernels
