#include "kernels/linear.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <span>

#include "kernels/assert.hpp"
#include "kernels/gram.hpp"
#include "kernels/level_gram.hpp"
#include "kernels/lane_cross.hpp"
#include "kernels/row_list.hpp"

// The fit works in the parametrisation centred at the kept-row means: with x~_j = x_j - mean_kept(x_j)
// and y~ = y - ybar, the intercept decouples (1'x~_j = 0), so y~ is regressed on the q = p - 1 centred
// columns and the intercept of the original columns is  a = ybar - mu'b,  Var(a) = sigma2/n + mu'Cov(b)mu
// (Cov(ybar, b) = 0 because the centred columns are orthogonal to 1).  Centring is exact algebra here,
// not an approximation, and removes the cancellation of uncentred normal equations.

namespace pwas::kernels {
namespace {

using Eigen::Index;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Rows gathered per Gram update (256 KB at 64 columns: stays in L2 while the tiles sweep it).
constexpr Index kBlock = 512;
// A covariate whose centred sum of squares is below this fraction of its uncentred one lost more than
// 8 digits to cancellation in G - s s'/n: the normal equations are not trusted, QR recentres exactly.
constexpr double kCancellation = 1e-8;
// RSS = Syy - b'r loses log10(Syy / RSS) digits; past 3 digits it is recomputed from the residuals.
constexpr double kRssRecompute = 1e-3;

// Largest absolute column sum of a square matrix with both triangles filled.
double norm1(const Eigen::MatrixXd& m) { return m.cwiseAbs().colwise().sum().maxCoeff(); }

// The mean of the finite entries of x [n] (two passes: the second adds back what rounding left); 0 if none.
double finite_mean(const double* x, Index n) {
  double sum = 0.0, count = 0.0;
  for (Index i = 0; i < n; ++i)
    if (std::isfinite(x[i])) {
      sum += x[i];
      count += 1.0;
    }
  if (count == 0.0) return 0.0;
  const double mean = sum / count;
  double residue = 0.0;
  for (Index i = 0; i < n; ++i)
    if (std::isfinite(x[i])) residue += x[i] - mean;
  return mean + residue / count;
}

// Centred sufficient statistics of v and y on the kept rows.
struct Moments {
  Index n_obs = 0;
  double mean_v = 0.0, mean_y = 0.0;   // kept-row means
  double sum_dv = 0.0, sum_dy = 0.0;   // sums of the centred values (rounding residue, ~0)
  double svv = 0.0, svy = 0.0, syy = 0.0;
  bool v_constant = false, y_constant = false;
  unsigned unstored = 0;               // the columns of ws.dvy not written yet (bit 0: v, bit 1: y)
};

// kLanes rows at a time as one vector (kernels/lanes.hpp): the kept mask, and values with the dropped rows' (possibly
// NaN) entries replaced by 0.
using KeepMask = std::int64_t __attribute__((vector_size(kLanes * sizeof(double))));
KeepMask load_keep(const std::uint8_t* k) {
  KeepMask m;
  for (int j = 0; j < kLanes; ++j) m[j] = k[j] != 0 ? -1 : 0;
  return m;
}
Lane load_kept(const double* x, KeepMask k) {
  Lane v;
  std::memcpy(&v, x, sizeof v);
  return k ? v : Lane{};
}
double lane_sum(Lane x) {
  double t = 0.0;
  for (int j = 0; j < kLanes; ++j) t += x[j];
  return t;
}

// Two-pass means (the second pass adds back what rounding left), then the centred values into ws.dvy
// (0 on dropped rows, whose v and y, possibly NaN, are never read again). kLanes rows per step with selects, not
// branches; the partial sums are reduced in one fixed order, so a result does not depend on anything but the input.
Moments centred_moments(Eigen::Ref<const Eigen::VectorXd> v, Eigen::Ref<const Eigen::VectorXd> y,
                        std::span<const std::uint8_t> keep, unsigned unstored, LinearWorkspace& ws) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const Index n = v.size();
  const double* vp = v.data();
  const double* yp = y.data();
  const std::uint8_t* kp = keep.data();
  const Index n_body = n / kLanes * kLanes;
  Moments m;
  Lane sv{}, sy{}, cnt{}, bad{}, vmin = Lane{} + kInf, ymin = Lane{} + kInf, vmax = Lane{} - kInf, ymax = Lane{} - kInf;
  const Lane one = Lane{} + 1.0;
  for (Index i0 = 0; i0 < n_body; i0 += kLanes) {
    const KeepMask k = load_keep(kp + i0);
    const Lane vi = load_kept(vp + i0, k), yi = load_kept(yp + i0, k);
    bad += (vi - vi) + (yi - yi);  // NaN unless both finite
    cnt += k ? one : Lane{};
    sv += vi;
    sy += yi;
    vmin = (k & (vi < vmin)) ? vi : vmin;
    vmax = (k & (vi > vmax)) ? vi : vmax;
    ymin = (k & (yi < ymin)) ? yi : ymin;
    ymax = (k & (yi > ymax)) ? yi : ymax;
  }
  for (Index i = n_body; i < n; ++i) {
    if (!kp[i]) continue;
    const Index j = i - n_body;
    bad[j] += (vp[i] - vp[i]) + (yp[i] - yp[i]);
    cnt[j] += 1.0;
    sv[j] += vp[i];
    sy[j] += yp[i];
    vmin[j] = std::min(vmin[j], vp[i]);
    vmax[j] = std::max(vmax[j], vp[i]);
    ymin[j] = std::min(ymin[j], yp[i]);
    ymax[j] = std::max(ymax[j], yp[i]);
  }
  PWAS_ASSERT(lane_sum(bad) == 0.0);
  double lo_v = kInf, hi_v = -kInf, lo_y = kInf, hi_y = -kInf;
  for (int j = 0; j < kLanes; ++j) {
    lo_v = std::min(lo_v, vmin[j]);
    hi_v = std::max(hi_v, vmax[j]);
    lo_y = std::min(lo_y, ymin[j]);
    hi_y = std::max(hi_y, ymax[j]);
  }
  m.n_obs = static_cast<Index>(lane_sum(cnt));
  m.v_constant = !(lo_v < hi_v);
  m.y_constant = !(lo_y < hi_y);
  if (m.n_obs == 0) return m;
  const double n_obs = static_cast<double>(m.n_obs);
  m.mean_v = lane_sum(sv) / n_obs;
  m.mean_y = lane_sum(sy) / n_obs;
  Lane rv{}, ry{};
  for (Index i0 = 0; i0 < n_body; i0 += kLanes) {
    const KeepMask k = load_keep(kp + i0);
    rv += k ? load_kept(vp + i0, k) - m.mean_v : Lane{};
    ry += k ? load_kept(yp + i0, k) - m.mean_y : Lane{};
  }
  for (Index i = n_body; i < n; ++i)
    if (kp[i]) {
      rv[i - n_body] += vp[i] - m.mean_v;
      ry[i - n_body] += yp[i] - m.mean_y;
    }
  m.mean_v += lane_sum(rv) / n_obs;
  m.mean_y += lane_sum(ry) / n_obs;

  ws.dvy.resize(n, 2);
  double* dv = ws.dvy.col(0).data();
  double* dy = ws.dvy.col(1).data();
  Lane s_dv{}, s_dy{}, svv{}, svy{}, syy{};
  for (Index i0 = 0; i0 < n_body; i0 += kLanes) {
    const KeepMask k = load_keep(kp + i0);
    const Lane a = k ? load_kept(vp + i0, k) - m.mean_v : Lane{};
    const Lane b = k ? load_kept(yp + i0, k) - m.mean_y : Lane{};
    if ((unstored & 1U) == 0) std::memcpy(dv + i0, &a, sizeof a);
    if ((unstored & 2U) == 0) std::memcpy(dy + i0, &b, sizeof b);
    s_dv += a;
    s_dy += b;
    svv += a * a;
    svy += a * b;
    syy += b * b;
  }
  for (Index i = n_body; i < n; ++i) {
    const Index j = i - n_body;
    const double a = kp[i] ? vp[i] - m.mean_v : 0.0, b = kp[i] ? yp[i] - m.mean_y : 0.0;
    if ((unstored & 1U) == 0) dv[i] = a;
    if ((unstored & 2U) == 0) dy[i] = b;
    s_dv[j] += a;
    s_dy[j] += b;
    svv[j] += a * a;
    svy[j] += a * b;
    syy[j] += b * b;
  }
  m.sum_dv = lane_sum(s_dv);
  m.sum_dy = lane_sum(s_dy);
  m.svv = lane_sum(svv);
  m.svy = lane_sum(svy);
  m.syy = lane_sum(syy);
  m.unstored = unstored;
  return m;
}

// Stores the columns of ws.dvy that centred_moments left out (mo.unstored), as it would have: v and y as given.
void store_centred(const double* v, const double* y, std::span<const std::uint8_t> keep, Moments& mo,
                   LinearWorkspace& ws) {
  for (int c = 0; c < 2; ++c) {
    if ((mo.unstored & (1U << c)) == 0) continue;
    const double* x = c == 0 ? v : y;
    const double mean = c == 0 ? mo.mean_v : mo.mean_y;
    double* out = ws.dvy.col(c).data();
    for (std::size_t i = 0; i < keep.size(); ++i) out[i] = keep[i] ? x[i] - mean : 0.0;
  }
  mo.unstored = 0;
}

// The Gram (lower triangle into ws.b) and column sums (ws.colsum) of the rows of C that are wanted: the dropped
// rows for the downdate, or the kept rows when they are fewer. Rows are read in SharedDesign's compressed layout
// (dense columns + a level code per dummy group; kernels/level_gram.hpp), gathered in blocks with the rows a few
// ahead prefetched (they are scattered over the design: each is a cache miss otherwise). With the study's 25 dense
// of 64 columns that is ~5x fewer flops than the dense Gram of C. The column sums are the Gram's intercept column.
// With s0 (the shared vector, centred; LinearShared), s0 is one more column (pc) of those rows: its spare dense slot.
void gram_rows(const SharedDesign& d, std::span<const std::uint8_t> keep, bool gram_of_dropped, const double* s0,
               LinearWorkspace& ws) {
  const Index n = d.n_samples();
  const Index pc = d.n_cov();
  const Index nd = d.n_dense();
  const Index nz = s0 != nullptr ? nd + 1 : nd;
  const Index zstride = d.z_rows.cols();
  // The wanted rows' indices (list_rows: few mispredicted branches on a protein's scattered missing rows).
  if (ws.gather.size() < static_cast<std::size_t>(n)) ws.gather.resize(static_cast<std::size_t>(n));
  const std::size_t m = list_rows(keep, !gram_of_dropped, ws.gather.data());
  if (ws.block.rows() != kBlock || ws.block.cols() != zstride) ws.block.setZero(kBlock, zstride);
  if (ws.ones.size() != kBlock) ws.ones.setOnes(kBlock);
  level_gram_reset(d, kBlock, ws.gram);
  constexpr std::size_t kAhead = 32;
  const auto row_bytes = static_cast<std::size_t>(zstride) * sizeof(double);
  Index t = 0;
  for (std::size_t k = 0; k < m; ++k) {
    if (k + kAhead < m) {
      const char* ahead = reinterpret_cast<const char*>(d.z_rows.row(ws.gather[k + kAhead]).data());
      for (std::size_t b = 0; b < row_bytes; b += 64) __builtin_prefetch(ahead + b, 0, 1);
    }
    ws.block.row(t) = d.z_rows.row(ws.gather[k]);
    if (s0 != nullptr) ws.block(t, nd) = s0[ws.gather[k]];
    if (++t == kBlock) {
      level_gram_add(d, nz, ws.gather.data() + (k + 1 - kBlock), kBlock, ws.ones.data(), ws.block, {}, ws.gram);
      t = 0;
    }
  }
  if (t > 0) level_gram_add(d, nz, ws.gather.data() + (m - t), t, ws.ones.data(), ws.block, {}, ws.gram);
  level_gram_assemble(d, nz, nz > nd ? pc + 1 : pc,
                      [&](Index a) { return a < nd ? d.dense_cols[static_cast<std::size_t>(a)] : pc; }, ws.gram, ws.b);
  ws.colsum.setZero(d.c_rows.cols());
  ws.colsum.head(pc) = ws.b.col(0);
}

// Fills beta/se of `fit` from the centred solution ws.coef [q] with covariance sigma2 * ws.cov and the
// offsets ws.offset [q] (kept means of the raw columns), intercept a = ybar - offset'coef; unknown j is
// column ws.cols[j] of [C, v].
void finish_estimates(double mean_y, double rss, LinearWorkspace& ws, LinearFit& fit) {
  const Index q = ws.coef.size();
  const double n_obs = static_cast<double>(fit.n_obs);
  fit.sigma2 = rss / static_cast<double>(fit.df_residual);
  ws.cov *= fit.sigma2;
  for (Index j = 0; j < q; ++j) {
    fit.beta(ws.cols[j]) = ws.coef(j);
    fit.se(ws.cols[j]) = std::sqrt(ws.cov(j, j));
  }
  fit.beta(0) = mean_y - ws.offset.dot(ws.coef);
  double quad = 0.0;  // offset' Cov(b) offset
  for (Index j = 0; j < q; ++j) quad += ws.offset(j) * ws.cov.col(j).dot(ws.offset);
  const double var0 = fit.sigma2 / n_obs + quad;
  fit.se(0) = std::sqrt(var0);
  fit.status = FitStatus::kOk;
}

// As finish_estimates with only v's SE: inv_vv = the v entry of the inverse of the centred normal matrix.
void finish_v_only(double mean_y, double rss, double inv_vv, LinearWorkspace& ws, LinearFit& fit) {
  const Index q = ws.coef.size();
  fit.sigma2 = rss / static_cast<double>(fit.df_residual);
  for (Index j = 0; j < q; ++j) fit.beta(ws.cols[j]) = ws.coef(j);
  fit.beta(0) = mean_y - ws.offset.dot(ws.coef);
  fit.se(ws.cols[q - 1]) = std::sqrt(fit.sigma2 * inv_vv);
  fit.status = FitStatus::kOk;
}

// Column-pivoted Householder QR on the gathered, exactly centred, unit-norm kept rows. Returns false
// when the design is rank-deficient. ws.offset must hold the kept means of the raw columns; the exact
// recentring adds its residue to them.
bool fit_by_qr(const SharedDesign& d, std::span<const std::uint8_t> keep, const Moments& mo,
               const Eigen::MatrixXd& gram_kept_lower, double mean_y, const LinearOptions& opt,
               LinearWorkspace& ws, LinearFit& fit) {
  const Index n = d.n_samples();
  const Index q = static_cast<Index>(ws.cols.size());
  const Index n_obs = mo.n_obs;
  ws.a.resize(n_obs, q);
  ws.w.resize(n_obs);
  for (Index j = 0; j + 1 < q; ++j) {
    const Index col = ws.cols[j];
    const double* cj = d.c.col(col).data();
    const double shift = ws.offset(j) - d.mean(col);  // kept mean of the pre-centred column
    Index k = 0;
    for (Index i = 0; i < n; ++i)
      if (keep[i]) ws.a(k++, j) = cj[i] - shift;
  }
  {
    Index k = 0;
    for (Index i = 0; i < n; ++i)
      if (keep[i]) {
        ws.a(k, q - 1) = ws.dvy(i, 0);
        ws.w(k) = ws.dvy(i, 1);
        ++k;
      }
  }
  const double y_shift = ws.w.mean();
  ws.w.array() -= y_shift;
  ws.scale.resize(q);
  for (Index j = 0; j < q; ++j) {
    auto col = ws.a.col(j);
    const double shift = col.mean();
    col.array() -= shift;
    ws.offset(j) += shift;
    // Uncentred scale: a column that centring reduced to rounding noise is constant on the kept rows,
    // i.e. aliased with the intercept.
    const double reference = j + 1 < q ? std::sqrt(gram_kept_lower(ws.cols[j], ws.cols[j]))
                                        : std::sqrt(mo.svv + static_cast<double>(n_obs) * mo.mean_v * mo.mean_v);
    const double norm = col.norm();
    if (!(norm > opt.rank_tol * reference)) return false;
    ws.scale(j) = 1.0 / norm;
    col *= ws.scale(j);
  }
  ws.qr.compute(ws.a);
  const auto& qr_r = ws.qr.matrixQR();
  const double r00 = std::abs(qr_r(0, 0));
  for (Index j = 0; j < q; ++j)
    if (!(std::abs(qr_r(j, j)) > opt.rank_tol * r00)) return false;

  ws.coef.resize(q);
  ws.coef = ws.qr.solve(ws.w);
  ws.w.noalias() -= ws.a * ws.coef;  // residuals
  const double rss = ws.w.squaredNorm();
  // (A'A)^{-1} = P R^{-1} R^{-T} P' for A P = Q R.
  ws.b.setIdentity(q, q);
  qr_r.topLeftCorner(q, q).triangularView<Eigen::Upper>().solveInPlace(ws.b);
  ws.cov.resize(q, q);
  ws.cov.noalias() = ws.b * ws.b.transpose();
  const auto& perm = ws.qr.colsPermutation().indices();
  for (Index j = 0; j < q; ++j)
    for (Index i = 0; i < q; ++i)
      ws.b(perm(i), perm(j)) = ws.cov(i, j) * ws.scale(perm(i)) * ws.scale(perm(j));
  ws.cov.swap(ws.b);
  ws.coef.array() *= ws.scale.array();
  fit.used_qr = true;
  finish_estimates(mean_y + y_shift, rss, ws, fit);
  return true;
}

// A fit up to its cross products: the active columns (ws.cols), the centred v and y (ws.dvy) and their moments.
// Returns false with fit.status set when the fit cannot run.
bool set_up(const SharedDesign& d, Eigen::Ref<const Eigen::VectorXd> v, Eigen::Ref<const Eigen::VectorXd> y,
            std::span<const std::uint8_t> keep, std::span<const std::uint8_t> active, unsigned unstored,
            LinearWorkspace& ws, Moments& mo, LinearFit& fit) {
  const Index n = d.n_samples();
  const Index pc = d.n_cov();
  PWAS_ASSERT(v.size() == n && y.size() == n && static_cast<Index>(keep.size()) == n);
  PWAS_ASSERT(active.empty() || (static_cast<Index>(active.size()) == pc && active[0] != 0));
  // Centred unknowns: the active covariates 1..pc-1, then v (column pc).
  ws.cols.clear();
  for (Index j = 1; j < pc; ++j)
    if (active.empty() || active[j]) ws.cols.push_back(j);
  ws.cols.push_back(pc);
  const Index q = static_cast<Index>(ws.cols.size());
  const Index p_active = q + 1;

  fit = LinearFit{};
  fit.beta = Eigen::VectorXd::Constant(pc + 1, kNaN);
  fit.se = Eigen::VectorXd::Constant(pc + 1, kNaN);
  fit.sigma2 = kNaN;

  mo = centred_moments(v, y, keep, unstored, ws);
  fit.n_obs = static_cast<int>(mo.n_obs);
  fit.df_residual = static_cast<int>(mo.n_obs - p_active);
  if (mo.n_obs <= p_active) {
    fit.status = FitStatus::kTooFewCases;
    return false;
  }
  if (mo.v_constant || mo.y_constant) {
    fit.status = FitStatus::kConstant;
    return false;
  }
  return true;
}


// The batch's shared vector (LinearShared): s0 = s - s_mean (0 where s is not finite: such rows are never kept), C's0 over all rows, and which
// column of ws.cross / ws.dvy it is (0 = v, 1 = y).
struct SharedSide {
  const double* s = nullptr;   // as given [n_samples]
  const double* s0 = nullptr;
  const double* cs0 = nullptr;
  double s_mean = 0.0;
  int side = 0;
};

// The rest of a fit after set_up, with ws.cross [row stride x 2] = C'[dv dy] over the kept rows (but for the shared
// side's column, filled here): the kept-row Gram, the centred normal equations and their solution (or the pivoted QR).
void finish(const SharedDesign& d, const double* v, const double* y, std::span<const std::uint8_t> keep, Moments mo,
            const SharedSide* shared, const LinearOptions& opt, LinearWorkspace& ws, LinearFit& fit) {
  // The centred v and y (ws.dvy), which only the residual and QR paths below read.
  const auto store_shared = [&] { store_centred(v, y, keep, mo, ws); };
  const Index n = d.n_samples();
  const Index pc = d.n_cov();
  const Index q = static_cast<Index>(ws.cols.size());
  // Kept-row Gram of C: downdate the full Gram by the dropped rows, or sum the kept rows when fewer.
  const Index n_dropped = n - mo.n_obs;
  const bool downdate = n_dropped <= mo.n_obs;
  gram_rows(d, keep, downdate, shared != nullptr ? shared->s0 : nullptr, ws);
  if (downdate) {
    for (Index j = 0; j < pc; ++j)
      for (Index i = j; i < pc; ++i) ws.b(i, j) = d.gram(i, j) - ws.b(i, j);
    ws.colsum.head(pc) = d.gram.col(0) - ws.colsum.head(pc);
    if (shared != nullptr)
      for (Index j = 0; j < pc; ++j) ws.b(pc, j) = shared->cs0[j] - ws.b(pc, j);
  }
  if (shared != nullptr) {
    // sum_kept c_j (s_i - m_s) = sum_kept c_j s0_i - (m_s - s_mean) sum_kept c_j.
    const double delta = (shared->side == 0 ? mo.mean_v : mo.mean_y) - shared->s_mean;
    for (Index j = 0; j < pc; ++j) ws.cross(j, shared->side) = ws.b(pc, j) - delta * ws.colsum(j);
  }
  const Eigen::MatrixXd& gk = ws.b;  // lower triangle valid; colsum(0) = n_obs
  const double n_obs = static_cast<double>(mo.n_obs);

  // Centred normal equations S b = r over the q centred columns (0..q-2 active covariates, q-1 = v).
  ws.offset.resize(q);
  ws.rhs.resize(q);
  ws.cov.resize(q, q);
  bool trust_normal_equations = true;
  for (Index k = 0; k + 1 < q; ++k) {
    const Index a = ws.cols[k];
    const double ma = ws.colsum(a) / n_obs;  // kept mean of the pre-centred column
    ws.offset(k) = d.mean(a) + ma;
    for (Index l = 0; l <= k; ++l) {
      const Index b = ws.cols[l];
      ws.cov(k, l) = gk(a, b) - ws.colsum(a) * (ws.colsum(b) / n_obs);
    }
    ws.cov(q - 1, k) = ws.cross(a, 0) - ma * mo.sum_dv;
    ws.rhs(k) = ws.cross(a, 1) - ma * mo.sum_dy;
    if (!(ws.cov(k, k) > kCancellation * gk(a, a))) trust_normal_equations = false;
  }
  ws.offset(q - 1) = mo.mean_v;
  ws.cov(q - 1, q - 1) = mo.svv;
  ws.rhs(q - 1) = mo.svy;

  if (trust_normal_equations) {
    // Equilibrate to unit diagonal (van der Sluis: near-optimal scaling for the condition number).
    ws.scale.resize(q);
    ws.scale = ws.cov.diagonal().cwiseSqrt().cwiseInverse();
    fill_upper_from_lower(ws.cov);
    ws.cov = ws.scale.asDiagonal() * ws.cov * ws.scale.asDiagonal();
    const double norm_s = norm1(ws.cov);
    ws.llt.compute(ws.cov);
    if (ws.llt.info() == Eigen::Success) {
      // The inverse (every SE, and the exact rcond) unless only v's SE is wanted and the estimate is far from the
      // threshold.
      const double estimate = opt.all_se ? 0.0 : ws.llt.rcond();
      const bool inverse = opt.all_se || estimate < 10.0 * opt.qr_rcond;
      double rcond = estimate;
      if (inverse) {
        ws.cov.setIdentity(q, q);
        ws.llt.solveInPlace(ws.cov);
        rcond = 1.0 / (norm_s * norm1(ws.cov));
      }
      if (rcond >= opt.qr_rcond) {
        ws.coef.resize(q);
        ws.coef = ws.scale.cwiseProduct(ws.rhs);
        ws.llt.solveInPlace(ws.coef);
        ws.coef.array() *= ws.scale.array();
        double rss = mo.syy - ws.coef.dot(ws.rhs);
        if (!(rss > kRssRecompute * mo.syy)) {
          // e_i = dy_i - sum_j (c_ij - m_j) b_j - dv_i b_v over the kept rows.
          store_shared();
          ws.w.setZero(n);
          double shift = 0.0;
          for (Index k = 0; k + 1 < q; ++k) {
            ws.w.noalias() += d.c.col(ws.cols[k]) * ws.coef(k);
            shift += (ws.offset(k) - d.mean(ws.cols[k])) * ws.coef(k);
          }
          const double bv = ws.coef(q - 1);
          rss = 0.0;
          for (Index i = 0; i < n; ++i)
            if (keep[i]) {
              const double e = ws.dvy(i, 1) - (ws.w(i) - shift) - ws.dvy(i, 0) * bv;
              rss += e * e;
            }
        }
        if (!inverse) {
          const double l_vv = ws.llt.matrixL()(q - 1, q - 1);
          finish_v_only(mo.mean_y, rss, ws.scale(q - 1) * ws.scale(q - 1) / (l_vv * l_vv), ws, fit);
          return;
        }
        ws.cov = ws.scale.asDiagonal() * ws.cov * ws.scale.asDiagonal();
        finish_estimates(mo.mean_y, rss, ws, fit);
        return;
      }
    }
  }
  // Ill-conditioned or cancellation-prone: pivoted QR on the kept rows decides rank and solves.
  store_shared();
  if (!fit_by_qr(d, keep, mo, gk, mo.mean_y, opt, ws, fit)) {
    fit.used_qr = true;
    fit.status = FitStatus::kSingular;
  }
}

// fit_linear_batch into out [fits].
void run_batch(const SharedDesign& d, std::span<const double* const> v, std::span<const double* const> y,
               std::span<const std::span<const std::uint8_t>> keep, std::span<const std::span<const std::uint8_t>> active,
               std::span<LinearWorkspace* const> ws, const LinearOptions& opt, std::span<LinearFit> out) {
  const std::size_t n_fits = v.size();
  PWAS_ASSERT(n_fits >= 1 && n_fits <= static_cast<std::size_t>(kLanes) && y.size() == n_fits &&
              keep.size() == n_fits && active.size() == n_fits && ws.size() == n_fits && out.size() == n_fits);
  const Index n = d.n_samples();
  const bool one_sided = opt.shared != LinearShared::kNone;
  SharedSide shared;
  if (one_sided) shared.side = opt.shared == LinearShared::kV ? 0 : 1;
  Moments mo[kLanes];
  bool live[kLanes];
  bool any = false;
  for (std::size_t f = 0; f < n_fits; ++f) {
    const Eigen::Map<const Eigen::VectorXd> vf(v[f], n), yf(y[f], n);
    // Neither centred column is stored: the lanes centre their inputs as they load them, and only the residual and
    // QR paths (finish) store them.
    live[f] = set_up(d, vf, yf, keep[f], active[f], 3U, *ws[f], mo[f], out[f]);
    any = any || live[f];
  }
  if (!any) return;
  // C'[dv dy] of every live fit from one pass over the design (lane f = fit f). With a shared side only the other
  // vector takes lanes; the pass also forms C's0 for the shared one.
  LaneCross& lc = ws[0]->lanes;
  if (lc.s.size() != static_cast<std::size_t>(n) || lc.dense_a.size() != static_cast<std::size_t>(d.z_rows.cols()) ||
      lc.level_a.size() != static_cast<std::size_t>(d.level_rows))
    lc.resize(d, false);  // the inputs come from the LaneFill below, block by block
  if (one_sided) {
    const double* s = shared.side == 0 ? v[0] : y[0];
    for (std::size_t f = 1; f < n_fits; ++f) PWAS_ASSERT((shared.side == 0 ? v[f] : y[f]) == s);
    shared.s = s;
    shared.s_mean = finite_mean(s, n);
    for (Index i = 0; i < n; ++i) lc.s[static_cast<std::size_t>(i)] = std::isfinite(s[i]) ? s[i] - shared.s_mean : 0.0;
    shared.s0 = lc.s.data();
  }
  // The lanes' inputs, kLanes rows at a time: each live fit's kLanes centred values (as centred_moments forms them:
  // x - mean on kept rows, 0 elsewhere) as one vector, transposed in registers into the rows' lane vectors (a scalar
  // store per value took ~1/3 of the batch's setup). A lane without a live fit gets zeros.
  const int own = shared.side == 0 ? 1 : 0;  // one-sided: the column the lanes carry (in lc.b)
  struct Source {
    const double* x = nullptr;  // nullptr: zeros
    const std::uint8_t* keep = nullptr;
    double mean = 0.0;
  };
  Source src_a[kLanes], src_b[kLanes];
  for (std::size_t f = 0; f < static_cast<std::size_t>(kLanes); ++f) {
    if (f >= n_fits || !live[f]) continue;
    const int col_b = one_sided ? own : 1;
    if (!one_sided) src_a[f] = {v[f], keep[f].data(), mo[f].mean_v};
    src_b[f] = {col_b == 0 ? v[f] : y[f], keep[f].data(), col_b == 0 ? mo[f].mean_v : mo[f].mean_y};
  }
  // Rows [i0, i0 + m) of the lanes' inputs, as lane_cross asks for them block by block (kLaneBlockRows rows).
  const auto to_lanes = [&](const Source* src, Index i0, Index m, Lane* dst) {
    const Index body = m / kLanes * kLanes;
    for (Index t0 = 0; t0 < body; t0 += kLanes) {
      Lane r[kLanes];
      for (int f = 0; f < kLanes; ++f) {
        r[f] = Lane{};
        if (src[f].x == nullptr) continue;
        const KeepMask k = load_keep(src[f].keep + i0 + t0);
        r[f] = k ? load_kept(src[f].x + i0 + t0, k) - src[f].mean : Lane{};
      }
      transpose_lanes(r);
      std::memcpy(dst + t0, r, sizeof r);
    }
    for (Index t = body; t < m; ++t)
      for (int f = 0; f < kLanes; ++f) {
        const Source& sf = src[f];
        const Index i = i0 + t;
        dst[t][f] = sf.x != nullptr && sf.keep[i] ? sf.x[i] - sf.mean : 0.0;
      }
  };
  const auto fill = [&](Index i0, Index m, Lane* a, Lane* b) {
    if (!one_sided) to_lanes(src_a, i0, m, a);
    to_lanes(src_b, i0, m, b);
  };
  lane_cross(d, lc, !one_sided, one_sided, LaneFill::of(fill));
  if (one_sided) {
    ws[0]->cs0.resize(d.n_cov());
    unpack_shared(d, lc, ws[0]->cs0.data());
    shared.cs0 = ws[0]->cs0.data();
  }
  for (std::size_t f = 0; f < n_fits; ++f) {
    if (!live[f]) continue;
    LinearWorkspace& w = *ws[f];
    w.cross.setZero(d.c_rows.cols(), 2);
    if (one_sided) unpack_cross(d, lc, static_cast<int>(f), nullptr, w.cross.col(own).data());
    else unpack_cross(d, lc, static_cast<int>(f), w.cross.col(0).data(), w.cross.col(1).data());
    finish(d, v[f], y[f], keep[f], mo[f], one_sided ? &shared : nullptr, opt, w, out[f]);
  }
}

}  // namespace

std::vector<LinearFit> fit_linear_batch(const SharedDesign& d, std::span<const double* const> v,
                                        std::span<const double* const> y,
                                        std::span<const std::span<const std::uint8_t>> keep,
                                        std::span<const std::span<const std::uint8_t>> active,
                                        std::span<LinearWorkspace* const> ws, const LinearOptions& opt) {
  std::vector<LinearFit> out(v.size());
  run_batch(d, v, y, keep, active, ws, opt, out);
  return out;
}

LinearFit fit_linear(const SharedDesign& d, Eigen::Ref<const Eigen::VectorXd> v, Eigen::Ref<const Eigen::VectorXd> y,
                     std::span<const std::uint8_t> keep, std::span<const std::uint8_t> active, LinearWorkspace& ws,
                     const LinearOptions& opt) {
  PWAS_ASSERT(v.size() == d.n_samples() && y.size() == d.n_samples());
  // Contiguous copies only when v or y is a strided view (the batch takes plain arrays).
  const double* vp = v.data();
  const double* yp = y.data();
  if (v.innerStride() != 1) vp = (ws.v_copy = v).data();
  if (y.innerStride() != 1) yp = (ws.y_copy = y).data();
  LinearWorkspace* wp = &ws;
  LinearFit fit;
  run_batch(d, {&vp, 1}, {&yp, 1}, {&keep, 1}, {&active, 1}, {&wp, 1}, opt, {&fit, 1});
  return fit;
}

}  // namespace pwas::kernels
