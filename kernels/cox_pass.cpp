// The partial-likelihood pass (cox_detail.hpp): kept rows in risk-set order, then loglik, score and
// information by running sums over the descending-time order of each stratum.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/assert.hpp"
#include "kernels/cox_detail.hpp"

namespace pwas::kernels::cox_detail {

using Eigen::Index;

namespace {
// Rows per Gram block: 512 rows of <= 64 doubles stay in L2 (as the logistic kernel).
constexpr Index kBlock = 512;
}  // namespace

void prepare(Problem& pr, const double* v, std::span<const std::uint8_t> keep, std::span<const double> weights,
             CoxWorkspace& ws, bool copy_rows) {
  const SharedDesign& d = pr.d;
  const CoxSurvival& s = pr.s;
  const Index n = d.n_samples();
  const Index n_cov = d.n_cov();
  PWAS_ASSERT(s.n_samples() == n && static_cast<Index>(keep.size()) == n);
  PWAS_ASSERT(weights.empty() || static_cast<Index>(weights.size()) == n);
  const Index stride = d.c_rows.cols();
  const Index zstride = d.z_rows.cols();
  PWAS_ASSERT(stride > n_cov && zstride > d.n_dense());
  // Sized on first use and whenever a fit brings another design width, sample count or more tie groups (one
  // workspace per thread serves every analysis and outcome); then no allocation per fit.
  const Index n_groups = s.n_groups();
  if (ws.xk.rows() != n || ws.xk.cols() != zstride || ws.xs.cols() != stride) {
    ws.xk.setZero(n, zstride);
    ws.xs.setZero(kBlock, stride);
    ws.xs2.setZero(kBlock, stride);
    ws.rank.resize(0, 0);
  }
  if (ws.wk.size() != n) {
    ws.wk.resize(n);
    ws.eta.resize(n);
    ws.r.resize(n);
    ws.omega.resize(n);
    ws.resid.resize(n);
    ws.ident.resize(static_cast<std::size_t>(n));
    for (Index i = 0; i < n; ++i) ws.ident[static_cast<std::size_t>(i)] = i;
    ws.dk.resize(static_cast<std::size_t>(n));
    ws.rows.reserve(static_cast<std::size_t>(n));
    ws.zph_w.resize(0);
  }
  if (ws.rank.rows() < 2 * n_groups) {
    ws.gstart.reserve(static_cast<std::size_t>(n_groups + 1));
    ws.gfirst.reserve(static_cast<std::size_t>(n_groups));
    ws.h.resize(n_groups);
    ws.a.resize(n_groups);
    ws.lam.resize(n_groups);
    ws.gt.resize(n_groups);
    ws.rank.setZero(2 * n_groups, stride);
    ws.rank_coef.setZero(n_groups, 3);
    ws.rank_group.resize(static_cast<std::size_t>(2 * n_groups));
  }
  if (ws.zph_w.size() < std::max<Index>(n, 2 * n_groups)) ws.zph_w.resize(std::max<Index>(n, 2 * n_groups));
  ws.rows.clear();
  ws.gstart.clear();
  ws.gfirst.clear();
  double sum_w = 0.0, sum_events = 0.0, sum_wv = 0.0;
  double vmin = std::numeric_limits<double>::infinity(), vmax = -vmin;
  bool pending_first = false;
  for (Index g = 0; g < s.n_groups(); ++g) {
    pending_first = pending_first || s.stratum_first[static_cast<std::size_t>(g)];
    const Index before = static_cast<Index>(ws.rows.size());
    for (Index k = s.group_start[static_cast<std::size_t>(g)]; k < s.group_start[static_cast<std::size_t>(g) + 1]; ++k) {
      const Index i = s.order[static_cast<std::size_t>(k)];
      if (!keep[i]) continue;
      const double w = weights.empty() ? 1.0 : weights[i];
      PWAS_ASSERT(w >= 0.0 && w == std::floor(w));  // frequency weights
      if (w == 0.0) continue;
      const Index t = static_cast<Index>(ws.rows.size());
      ws.rows.push_back(i);
      ws.wk(t) = w;
      ws.dk[static_cast<std::size_t>(t)] = s.event[i];
      sum_w += w;
      sum_events += w * s.event[i];
      if (v != nullptr) {
        PWAS_ASSERT(std::isfinite(v[i]));
        sum_wv += w * v[i];
        vmin = std::min(vmin, v[i]);
        vmax = std::max(vmax, v[i]);
      }
    }
    if (static_cast<Index>(ws.rows.size()) > before) {
      ws.gstart.push_back(before);
      ws.gfirst.push_back(pending_first ? 1 : 0);
      pending_first = false;
    }
  }
  pr.n_obs = static_cast<Index>(ws.rows.size());
  pr.n_groups = static_cast<Index>(ws.gfirst.size());
  ws.gstart.push_back(pr.n_obs);
  pr.n_weighted = sum_w;
  pr.n_events = sum_events;
  pr.v_constant = v != nullptr && !(vmin < vmax);
  pr.mean_v = 0.0;
  if (v != nullptr && pr.n_obs > 0) {
    // Mean with one correction sweep (the centred column then sums to ~0 to rounding).
    double mean_v = sum_wv / sum_w, residue = 0.0;
    for (Index t = 0; t < pr.n_obs; ++t) residue += ws.wk(t) * (v[ws.rows[static_cast<std::size_t>(t)]] - mean_v);
    pr.mean_v = mean_v + residue / sum_w;
  }
  pr.abs_max_v = 0.0;
  if (v != nullptr)
    for (Index t = 0; t < pr.n_obs; ++t) pr.abs_max_v = std::max(pr.abs_max_v, std::abs(v[ws.rows[static_cast<std::size_t>(t)]] - pr.mean_v));
  if (!copy_rows) return;
  if (ws.lk.rows() != n || ws.lk.cols() != d.level.cols()) ws.lk.resize(n, d.level.cols());
  // Design rows in risk-set order are random reads: fetch a few rows ahead (latency, not bandwidth, bounds a gather).
  constexpr Index kAhead = 8;
  const auto row_bytes = static_cast<std::size_t>(zstride) * sizeof(double);
  const Index nd = d.n_dense();
  if (pr.risk_z != nullptr) {
    // Kept rows in risk-set order are an increasing subsequence of the risk-ordered copy: a sequential read.
    for (Index t = 0; t < pr.n_obs; ++t) {
      const Index i = ws.rows[static_cast<std::size_t>(t)];
      const Index k = s.position[static_cast<std::size_t>(i)];
      ws.xk.row(t) = pr.risk_z->row(k);
      ws.lk.row(t) = pr.risk_level->row(k);
      ws.xk(t, nd) = v != nullptr ? v[i] - pr.mean_v : 0.0;
    }
    return;
  }
  for (Index t = 0; t < pr.n_obs; ++t) {
    if (t + kAhead < pr.n_obs) {
      const char* ahead = reinterpret_cast<const char*>(d.z_rows.row(ws.rows[static_cast<std::size_t>(t + kAhead)]).data());
      for (std::size_t b = 0; b < row_bytes; b += 64) __builtin_prefetch(ahead + b);
    }
    const Index i = ws.rows[static_cast<std::size_t>(t)];
    ws.xk.row(t) = d.z_rows.row(i);
    ws.lk.row(t) = d.level.row(i);
    ws.xk(t, nd) = v != nullptr ? v[i] - pr.mean_v : 0.0;
  }
  ws.s1.setZero(stride);
  ws.e1.setZero(stride);
  ws.u.setZero(stride);
}

GroupTerms group_terms(CoxTies ties, double s0, double e0, double dw) {
  GroupTerms gt;
  if (ties == CoxTies::kBreslow || dw == 1.0) {
    gt.h = dw / s0;
    gt.log_sum = dw * std::log(s0);
    gt.l11 = std::sqrt(dw) / s0;
    return gt;
  }
  // Efron: the tied deaths leave the risk set in equal fractions over the d terms.
  const auto n_terms = static_cast<long>(dw);
  double m11 = 0.0, m12 = 0.0, m22 = 0.0;
  for (long k = 0; k < n_terms; ++k) {
    const double f = static_cast<double>(k) / dw;
    const double inv = 1.0 / (s0 - f * e0);
    gt.log_sum -= std::log(inv);
    gt.h += inv;
    gt.a += f * inv;
    m11 += inv * inv;
    m12 -= f * inv * inv;
    m22 += f * f * inv * inv;
  }
  // M = L L' with L = [[l11, 0], [l21, l22]]: the rank rows are l11 S1 + l21 e1 and l22 e1.
  gt.l11 = std::sqrt(m11);
  gt.l21 = m12 / gt.l11;
  gt.l22 = std::sqrt(std::max(m22 - gt.l21 * gt.l21, 0.0));
  return gt;
}

void kept_eta(const Problem& pr, const Eigen::VectorXd& theta, CoxWorkspace& ws, double* eta) {
  const SharedDesign& d = pr.d;
  const Index nd = d.n_dense();
  const auto n_groups = static_cast<Index>(d.groups.size());
  // theta in the compressed layout: dense columns and v; per level code the dummy's coefficient (code 0: none),
  // and kappa = sum_j m_j theta_j for the centring of the dummies (c_j = 1{level = j} - m_j).
  ws.zt.setZero(ws.xk.cols());
  for (Index a = 0; a < nd; ++a) ws.zt(a) = theta(d.dense_cols[static_cast<std::size_t>(a)]);
  ws.zt(nd) = theta(d.n_cov());
  ws.lt.setZero(d.level_rows);
  double kappa = 0.0;
  for (const DummyGroup& g : d.groups)
    for (std::size_t k = 0; k < g.cols.size(); ++k) {
      ws.lt(g.offset + 1 + static_cast<Index>(k)) = theta(g.cols[k]);
      kappa += d.mean(g.cols[k]) * theta(g.cols[k]);
    }
  rows_dot(ws.xk.data(), ws.xk.cols(), ws.ident.data(), pr.n_obs, ws.zt.data(), eta);
  for (Index t = 0; t < pr.n_obs; ++t) {
    double e = eta[t] - kappa;
    const std::uint16_t* lev = ws.lk.row(t).data();
    for (Index g = 0; g < n_groups; ++g) e += ws.lt(d.groups[static_cast<std::size_t>(g)].offset + lev[g]);
    eta[t] = e;
  }
}

namespace {

// Sums in the compressed layout [dense columns, v] (z) and per level code (lev) as X's sums in design order:
// (X'w)_j = L_j - m_j sum w for a dummy column j, sum w = the intercept's entry.

}  // namespace

void kept_cross_begin(const Problem& pr, CoxWorkspace& ws) {
  ws.zt.setZero(ws.xk.cols());
  ws.lt.setZero(pr.d.level_rows);
}

void kept_cross_rows(const Problem& pr, const double* w, Index t0, Index t1, CoxWorkspace& ws) {
  const SharedDesign& d = pr.d;
  const auto n_groups = static_cast<Index>(d.groups.size());
  rows_axpy(ws.xk.data(), ws.xk.cols(), ws.ident.data() + t0, t1 - t0, w + t0, ws.zt.data());
  for (Index t = t0; t < t1; ++t) {
    const std::uint16_t* lev = ws.lk.row(t).data();
    for (Index g = 0; g < n_groups; ++g) ws.lt(d.groups[static_cast<std::size_t>(g)].offset + lev[g]) += w[t];
  }
}

void kept_cross_end(const Problem& pr, CoxWorkspace& ws, Eigen::VectorXd& out) {
  out.setZero(pr.d.c_rows.cols());
  expand(pr.d, ws.zt.data(), ws.lt.data(), out.data());
}

void kept_cross(const Problem& pr, const double* w, CoxWorkspace& ws, Eigen::VectorXd& out) {
  kept_cross_begin(pr, ws);
  kept_cross_rows(pr, w, 0, pr.n_obs, ws);
  kept_cross_end(pr, ws, out);
}

double risk_sets(const Problem& pr, const Eigen::VectorXd& theta, CoxWorkspace& ws) {
  const Index n_obs = pr.n_obs;
  PWAS_ASSERT(theta.size() == pr.d.c_rows.cols());
  double* eta = ws.eta.data();
  kept_eta(pr, theta, ws, eta);
  // exp(eta - max) cannot overflow; the shift cancels from every ratio and adds c per event term to log D.
  const double shift = ws.eta.head(n_obs).maxCoeff();
  ws.r.head(n_obs).array() = ws.wk.head(n_obs).array() * (ws.eta.head(n_obs).array() - shift).exp();

  ws.shift = shift;
  double loglik = 0.0, s0 = 0.0;
  for (Index g = 0; g < pr.n_groups; ++g) {
    if (ws.gfirst[static_cast<std::size_t>(g)]) s0 = 0.0;
    double e0 = 0.0, dw = 0.0;
    for (Index t = ws.gstart[static_cast<std::size_t>(g)]; t < ws.gstart[static_cast<std::size_t>(g) + 1]; ++t) {
      s0 += ws.r(t);
      if (ws.dk[static_cast<std::size_t>(t)]) {
        e0 += ws.r(t);
        dw += ws.wk(t);
        loglik += ws.wk(t) * eta[t];
      }
    }
    if (dw == 0.0) {
      ws.h(g) = ws.a(g) = 0.0;
      ws.rank_coef.row(g).setZero();
      continue;
    }
    const GroupTerms gt = group_terms(pr.ties, s0, e0, dw);
    ws.h(g) = gt.h;
    ws.a(g) = gt.a;
    loglik -= gt.log_sum + dw * shift;
    ws.rank_coef.row(g) << gt.l11, gt.l21, gt.l22;
  }
  // Lambda at each group: the hazard increments of the group and of every later group of its stratum
  // (earlier in time), i.e. suffix sums within the stratum in this descending order.
  for (Index g = pr.n_groups - 1; g >= 0; --g) {
    const bool last_of_stratum = g == pr.n_groups - 1 || ws.gfirst[static_cast<std::size_t>(g) + 1];
    ws.lam(g) = ws.h(g) + (last_of_stratum ? 0.0 : ws.lam(g + 1));
  }
  for (Index g = 0; g < pr.n_groups; ++g)
    for (Index t = ws.gstart[static_cast<std::size_t>(g)]; t < ws.gstart[static_cast<std::size_t>(g) + 1]; ++t) {
      const bool death = ws.dk[static_cast<std::size_t>(t)] != 0;
      ws.omega(t) = ws.r(t) * (ws.lam(g) - (death ? ws.a(g) : 0.0));
      ws.resid(t) = (death ? ws.wk(t) : 0.0) - ws.omega(t);
    }
  return loglik;
}

void score(const Problem& pr, CoxWorkspace& ws) { kept_cross(pr, ws.resid.data(), ws, ws.u); }

Index information(const Problem& pr, CoxWorkspace& ws) {
  // One pass over the kept rows, block by block (a block of xk stays in L2 for its three uses): the weighted
  // Gram sum omega x x', the score X'm, and the rank rows, which need S1 and e1 at each group with deaths:
  // running sums of r x in the compressed layout (dense columns and v; per level code), expanded to design order
  // where a group needs them.
  const SharedDesign& d = pr.d;
  const Index p = pr.p;
  const Index zstride = ws.xk.cols();
  const auto n_groups = static_cast<Index>(d.groups.size());
  const Index stride = d.c_rows.cols();
  CoxGramSums& acc = ws.gram_sums[0];
  gram_begin(pr, acc, ws);
  ws.zt.setZero(zstride);
  ws.lt.setZero(d.level_rows);
  ws.zs1.setZero(zstride);
  ws.ze1.setZero(zstride);
  ws.ls1.setZero(d.level_rows);
  ws.le1.setZero(d.level_rows);
  ws.s1.setZero(stride);
  ws.e1.setZero(stride);
  Index nr = 0, g = 0;
  for (Index t0 = 0; t0 < pr.n_obs; t0 += kGramBlock) {
    const Index t1 = std::min(t0 + kGramBlock, pr.n_obs);
    gram_rows(pr, ws.omega.data(), t0, t1, acc, ws);
    rows_axpy(ws.xk.data(), zstride, ws.ident.data() + t0, t1 - t0, ws.resid.data() + t0, ws.zt.data());
    for (Index t = t0; t < t1; ++t) {
      if (t == ws.gstart[static_cast<std::size_t>(g)]) {
        if (ws.gfirst[static_cast<std::size_t>(g)]) {
          ws.zs1.setZero();
          ws.ls1.setZero();
        }
        if (ws.rank_coef(g, 0) != 0.0) {
          ws.ze1.setZero();
          ws.le1.setZero();
        }
      }
      const double rt = ws.r(t);
      const double* x = ws.xk.row(t).data();
      const std::uint16_t* lev = ws.lk.row(t).data();
      double* zs1 = ws.zs1.data();
      for (Index a = 0; a < zstride; ++a) zs1[a] += rt * x[a];
      for (Index k = 0; k < n_groups; ++k) {
        const Index row = d.groups[static_cast<std::size_t>(k)].offset + lev[k];
        ws.ls1(row) += rt;
        ws.lt(row) += ws.resid(t);
      }
      if (ws.dk[static_cast<std::size_t>(t)]) {
        double* ze1 = ws.ze1.data();
        for (Index a = 0; a < zstride; ++a) ze1[a] += rt * x[a];
        for (Index k = 0; k < n_groups; ++k) ws.le1(d.groups[static_cast<std::size_t>(k)].offset + lev[k]) += rt;
      }
      if (t + 1 < ws.gstart[static_cast<std::size_t>(g) + 1]) continue;
      // The last row of group g.
      if (ws.rank_coef(g, 0) != 0.0) {
        expand(d, ws.zs1.data(), ws.ls1.data(), ws.s1.data());
        expand(d, ws.ze1.data(), ws.le1.data(), ws.e1.data());
        const double l11 = ws.rank_coef(g, 0), l21 = ws.rank_coef(g, 1), l22 = ws.rank_coef(g, 2);
        ws.rank_group[static_cast<std::size_t>(nr)] = g;
        ws.rank.row(nr++) = (l11 * ws.s1 + l21 * ws.e1).transpose();
        if (l21 != 0.0) {  // Efron groups of more than one (weighted) death
          ws.rank_group[static_cast<std::size_t>(nr)] = g;
          ws.rank.row(nr++) = (l22 * ws.e1).transpose();
        }
      }
      ++g;
    }
  }
  ws.u.setZero(stride);
  expand(d, ws.zt.data(), ws.lt.data(), ws.u.data());
  ws.info.setZero(p, p);
  gram_end(pr, acc, ws.info);
  ws.info2.setZero(p, p);
  for (Index k0 = 0; k0 < nr; k0 += kBlock)
    add_gram_lower(ws.info2, ws.rank.middleRows(k0, std::min(kBlock, nr - k0)).leftCols(p));
  ws.info.triangularView<Eigen::Lower>() -= ws.info2;
  ws.n_rank = nr;
  return nr;
}

double pass(const Problem& pr, const Eigen::VectorXd& theta, bool with_information, CoxWorkspace& ws, Index* n_rank) {
  const double loglik = risk_sets(pr, theta, ws);
  *n_rank = 0;
  if (with_information) *n_rank = information(pr, ws);
  else score(pr, ws);
  return loglik;
}

void signed_gram(const RowMatrixXd& xk, const Eigen::VectorXd& w, Index n, Eigen::Ref<Eigen::MatrixXd> g,
                 CoxWorkspace& ws) {
  const Index p = g.rows();
  // Rows of positive and of negative weight go to two Grams: sum w x x' = G(sqrt(w+) x) - G(sqrt(w-) x).
  ws.neg.setZero(p, p);
  Index np = 0, nn = 0;
  auto flush = [&](bool positive) {
    if (positive) {
      add_gram_lower(g, ws.xs.topRows(np).leftCols(p));
      np = 0;
    } else {
      add_gram_lower(ws.neg, ws.xs2.topRows(nn).leftCols(p));
      nn = 0;
    }
  };
  for (Index t = 0; t < n; ++t) {
    const double wt = w(t);
    if (wt > 0.0) {
      ws.xs.row(np++) = std::sqrt(wt) * xk.row(t);
      if (np == kBlock) flush(true);
    } else if (wt < 0.0) {
      ws.xs2.row(nn++) = std::sqrt(-wt) * xk.row(t);
      if (nn == kBlock) flush(false);
    }
  }
  if (np > 0) flush(true);
  if (nn > 0) flush(false);
  g.triangularView<Eigen::Lower>() -= ws.neg;
}

}  // namespace pwas::kernels::cox_detail
