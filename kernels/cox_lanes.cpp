// The Cox chord pass for a batch of fits, one per lane (kernels/lanes.hpp): the O(n p) work of a chord step, eta and
// the score X'm, reads the design once for up to kLanes fits instead of streaming each fit's own copy of its rows.
// Rows stay in sample order for the two design passes (kernels/lane_blocks.hpp); only the per-row lane scalars
// (r, v, w) are visited in risk-set order for the running sums.
//   forward, groups in s's order (strata, then time descending):  S0 += r, and per group with deaths the
//     Efron/Breslow terms h, a (and l11, l21, l22, cox_detail::group_terms) from S0, e0, d
//   backward (suffix sums within a stratum): Lambda_g = sum_{g' >= g} h_g', omega_i = r_i (Lambda - delta_i a),
//     m_i = w_i delta_i - omega_i, the martingale residual: U = X'm
// The information column of v, I e_v = sum_i omega_i v_i x_i - sum_g [S1 e1]_g M_g [S1v e1v]_g' (cox_detail::
// information), is also one X' pass: with c_g = l11 S1v + l21 e1v, alpha_g = l11 c_g, beta_g = l21 c_g + l22^2 e1v,
//   sum_g alpha_g S1_g = sum_i r_i x_i A_g(i) (A = suffix sums of alpha), sum_g beta_g e1_g = sum_deaths r_i x_i beta_g(i),
// so I e_v = X'q with q_i = omega_i v_i - r_i (A_g(i) + delta_i beta_g(i)).
// Every operation is elementwise over lanes and in a fixed order, so a lane's result does not depend on the others.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/assert.hpp"
#include "kernels/cox_detail.hpp"
#include "kernels/lane_blocks.hpp"

namespace pwas::kernels {

void CoxLanePass::resize(const SharedDesign& d, const CoxSurvival& s) {
  const auto n = static_cast<std::size_t>(d.n_samples());
  const auto groups = static_cast<std::size_t>(s.n_groups());
  if (lp.v.size() != n || lp.theta_pad.size() != static_cast<std::size_t>(d.z_rows.cols()) ||
      lp.theta_levels.size() != static_cast<std::size_t>(d.level_rows))
    lp.resize(d);
  for (auto* a : {&r, &m, &q})
    if (a->size() != n) a->assign(n, Lane{});
  for (auto* a : {&h, &this->a, &alpha, &beta})
    if (a->size() != groups) a->assign(groups, Lane{});
}

namespace cox_detail {
namespace {

using Eigen::Index;
using lane_detail::kBlockRows;

constexpr Index kAhead = 16;  // rows of the risk-set order prefetched ahead

Lane select_positive(Lane w, Lane x, double other) {
  Lane out;
  for (int b = 0; b < kLanes; ++b) out[b] = w[b] > 0.0 ? x[b] : other;
  return out;
}

// eta of every row, the shift (largest eta over each lane's kept rows; 0 for a lane without rows) and r.
void eta_and_risk(const SharedDesign& d, CoxLanePass& cp) {
  const Index n = d.n_samples();
  LanePass& lp = cp.lp;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  Lane top = Lane{} - kInf;
  for (Index i0 = 0; i0 < n; i0 += kBlockRows) {
    const Index m = std::min(kBlockRows, n - i0);
    Lane* eta = cp.r.data() + i0;  // eta first, r in its place below
    lane_detail::block_eta(d, lp, i0, m, eta);
    for (Index t = 0; t < m; ++t) top = lane_detail::lane_max(top, select_positive(lp.mask[static_cast<std::size_t>(i0 + t)], eta[t], -kInf));
  }
  cp.shift = top;
  for (int b = 0; b < kLanes; ++b)
    if (!std::isfinite(cp.shift[b])) cp.shift[b] = 0.0;  // a lane without rows (or parked)
  // r = w exp(eta - shift), exactly 0 off the lane's rows (whatever their eta).
  for (Index i0 = 0; i0 < n; i0 += kBlockRows) {
    const Index m = std::min(kBlockRows, n - i0);
    Lane* r = cp.r.data() + i0;
    for (Index t = 0; t < m; ++t) r[t] = select_positive(lp.mask[static_cast<std::size_t>(i0 + t)], r[t] - cp.shift, -kInf);
    Eigen::Map<Eigen::ArrayXd> ra(reinterpret_cast<double*>(r), m * kLanes);
    ra = ra.exp();
    for (Index t = 0; t < m; ++t) r[t] *= lp.mask[static_cast<std::size_t>(i0 + t)];
  }
}

}  // namespace

void cox_lane_pass(const SharedDesign& d, const CoxSurvival& s, CoxTies ties, bool info_column, CoxLanePass& cp) {
  const Index n = d.n_samples();
  LanePass& lp = cp.lp;
  PWAS_ASSERT(s.n_samples() == n && static_cast<Index>(cp.r.size()) == n &&
              static_cast<Index>(cp.h.size()) == s.n_groups());
  eta_and_risk(d, cp);

  const Index n_groups = s.n_groups();
  const Index* order = s.order.data();
  const Lane* r = cp.r.data();
  const Lane* v = lp.v.data();
  const Lane* w = lp.mask.data();
  // Forward: the group terms.
  Lane s0{}, s1v{};
  for (Index g = 0; g < n_groups; ++g) {
    if (s.stratum_first[static_cast<std::size_t>(g)]) s0 = s1v = Lane{};
    Lane e0{}, dw{}, e1v{};
    bool deaths = false;
    for (Index k = s.group_start[static_cast<std::size_t>(g)]; k < s.group_start[static_cast<std::size_t>(g) + 1]; ++k) {
      if (k + kAhead < n) {
        const Index ia = order[k + kAhead];
        __builtin_prefetch(r + ia);
        __builtin_prefetch(w + ia);
        if (info_column) __builtin_prefetch(v + ia);
      }
      const Index i = order[k];
      s0 += r[i];
      if (info_column) s1v += r[i] * v[i];
      if (s.event[static_cast<std::size_t>(i)]) {
        deaths = true;
        e0 += r[i];
        dw += w[i];
        if (info_column) e1v += r[i] * v[i];
      }
    }
    Lane h{}, a{}, alpha{}, beta{};
    if (deaths)
      for (int b = 0; b < kLanes; ++b) {
        if (!(dw[b] > 0.0)) continue;
        const GroupTerms gt = group_terms(ties, s0[b], e0[b], dw[b]);
        h[b] = gt.h;
        a[b] = gt.a;
        const double c = gt.l11 * s1v[b] + gt.l21 * e1v[b];
        alpha[b] = gt.l11 * c;
        beta[b] = gt.l21 * c + gt.l22 * gt.l22 * e1v[b];
      }
    cp.h[static_cast<std::size_t>(g)] = h;
    cp.a[static_cast<std::size_t>(g)] = a;
    cp.alpha[static_cast<std::size_t>(g)] = alpha;
    cp.beta[static_cast<std::size_t>(g)] = beta;
  }
  // Backward: suffix sums within each stratum, and the two row weights.
  Lane lam{}, big_a{};
  Lane* m = cp.m.data();
  Lane* q = cp.q.data();
  for (Index g = n_groups - 1; g >= 0; --g) {
    if (g == n_groups - 1 || s.stratum_first[static_cast<std::size_t>(g) + 1]) lam = big_a = Lane{};
    lam += cp.h[static_cast<std::size_t>(g)];
    big_a += cp.alpha[static_cast<std::size_t>(g)];
    const Lane a = cp.a[static_cast<std::size_t>(g)];
    const Lane beta = cp.beta[static_cast<std::size_t>(g)];
    for (Index k = s.group_start[static_cast<std::size_t>(g) + 1] - 1; k >= s.group_start[static_cast<std::size_t>(g)]; --k) {
      if (k >= kAhead) {
        const Index ia = order[k - kAhead];
        __builtin_prefetch(r + ia);
        __builtin_prefetch(w + ia);
        __builtin_prefetch(m + ia, 1);
        if (info_column) {
          __builtin_prefetch(v + ia);
          __builtin_prefetch(q + ia, 1);
        }
      }
      const Index i = order[k];
      if (s.event[static_cast<std::size_t>(i)]) {
        const Lane omega = r[i] * (lam - a);
        m[i] = w[i] - omega;
        if (info_column) q[i] = omega * v[i] - r[i] * (big_a + beta);
      } else {
        const Lane omega = r[i] * lam;
        m[i] = -omega;
        if (info_column) q[i] = omega * v[i] - r[i] * big_a;
      }
    }
  }

  // U = X'm (and X'q).
  std::fill(lp.score_pad.begin(), lp.score_pad.end(), Lane{});
  std::fill(lp.level_score.begin(), lp.level_score.end(), Lane{});
  lp.score_v = Lane{};
  if (info_column) {
    std::fill(lp.cw_pad.begin(), lp.cw_pad.end(), Lane{});
    std::fill(lp.level_cw.begin(), lp.level_cw.end(), Lane{});
    lp.svv = Lane{};
  }
  for (Index i0 = 0; i0 < n; i0 += kBlockRows) {
    const Index len = std::min(kBlockRows, n - i0);
    lane_detail::block_score(d, lp, i0, len, m + i0, lp.score_pad.data(), lp.level_score.data(), lp.score_v);
    if (info_column)
      lane_detail::block_score(d, lp, i0, len, q + i0, lp.cw_pad.data(), lp.level_cw.data(), lp.svv);
  }
}

}  // namespace cox_detail
}  // namespace pwas::kernels
