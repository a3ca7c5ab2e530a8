// The Cox chord passes for a batch of fits, one per lane (kernels/lanes.hpp): the O(n p) work of a chord step, eta and
// the score, reads the design once for up to kLanes fits instead of each fit's own copy of its rows. The design's
// compressed rows and every per-row lane array are in the risk-set order of the survival outcome (strata, then
// time descending: a risk set is a prefix of its stratum), so that all passes read them sequentially.
//
// cox_lane_pass, two sweeps (the first pass of a chord: it fixes the exp() shift and can give the information
// column of v):
//   forward: eta and r = w exp(eta - shift) of every row, then per group with deaths the Efron/Breslow terms h, a
//     (and l11, l21, l22, cox_detail::group_terms) from the running S0, e0, d
//   backward (suffix sums within a stratum): Lambda_g = sum_{g' >= g} h_g', omega_i = r_i (Lambda - delta_i a),
//     m_i = w_i delta_i - omega_i, the martingale residual: U = X'm
// The information column of v, I e_v = sum_i omega_i v_i x_i - sum_g [S1 e1]_g M_g [S1v e1v]_g' (cox_detail::
// information), is also one X' pass: with c_g = l11 S1v + l21 e1v, alpha_g = l11 c_g, beta_g = l21 c_g + l22^2 e1v,
//   sum_g alpha_g S1_g = sum_i r_i x_i A_g(i) (A = suffix sums of alpha), sum_g beta_g e1_g = sum_deaths r_i x_i beta_g(i),
// so I e_v = X'q with q_i = omega_i v_i - r_i (A_g(i) + delta_i beta_g(i)).
//
// cox_lane_sweep, one sweep (the chord's later passes, at the shift of the pass before): U = sum_deaths w x -
// sum_g (h_g S1_g - a_g e1_g) from running sums of r x, so each row is read once.
//
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
  const auto zstride = static_cast<std::size_t>(d.z_rows.cols());
  const auto levels = static_cast<std::size_t>(d.level_rows);
  if (lp.v.size() != n || lp.theta_pad.size() != zstride || lp.theta_levels.size() != levels) lp.resize(d);
  for (auto* a : {&r, &m, &q, &omega})
    if (a->size() != n) a->assign(n, Lane{});
  for (auto* a : {&h, &this->a, &alpha, &beta, &l11, &l21, &l22})
    if (a->size() != groups) a->assign(groups, Lane{});
  for (auto* a : {&s1z, &e1z})
    if (a->size() != zstride) a->assign(zstride, Lane{});
  // s1l: kLevelTrash slots past the level rows (cox_lane_sweep).
  if (s1l.size() != levels + kLevelTrash) s1l.assign(levels + kLevelTrash, Lane{});
  if (e1l.size() != levels) e1l.assign(levels, Lane{});
}

namespace cox_detail {
namespace {

using Eigen::Index;
using lane_detail::kBlockRows;
constexpr double kInf = std::numeric_limits<double>::infinity();

Lane select_positive(Lane w, Lane x, double other) {
  Lane out;
  for (int b = 0; b < kLanes; ++b) out[b] = w[b] > 0.0 ? x[b] : other;
  return out;
}

// r [m] = w exp(eta - shift) in place of eta, exactly 0 off the lane's rows (whatever their eta).
void risk_block(const Lane* w, Lane shift, Index m, Lane* r) {
  // Off the lane's rows exp gets -inf, i.e. lane_exp's floor 3.3e-308, and the weight 0 makes that 0.
  for (Index t = 0; t < m; ++t) r[t] = lane_detail::lane_exp(select_positive(w[t], r[t] - shift, -kInf)) * w[t];
}

// The largest eta over each lane's rows of a block (-inf without any).
Lane block_max(const Lane* w, const Lane* eta, Index m, Lane top) {
  for (Index t = 0; t < m; ++t) top = lane_detail::lane_max(top, select_positive(w[t], eta[t], -kInf));
  return top;
}

// Group terms of one group for every lane with deaths in it (dw > 0); with log_terms, adds the group's
// log_sum + dw shift (the log partial likelihood's risk-set term, unshifted) to it.
void lane_group_terms(CoxTies ties, Lane s0, Lane e0, Lane dw, Lane& h, Lane& a, Lane* l11, Lane* l21, Lane* l22,
                      Lane* log_terms = nullptr, Lane shift = Lane{}) {
  h = a = Lane{};
  if (l11 == nullptr && log_terms == nullptr) {  // h and a only (the chord's sweeps): no log or square root
    for (int b = 0; b < kLanes; ++b)
      if (dw[b] > 0.0) group_hazard(ties, s0[b], e0[b], dw[b], h[b], a[b]);
    return;
  }
  for (int b = 0; b < kLanes; ++b) {
    if (!(dw[b] > 0.0)) continue;
    const GroupTerms gt = group_terms(ties, s0[b], e0[b], dw[b]);
    h[b] = gt.h;
    a[b] = gt.a;
    if (log_terms != nullptr) (*log_terms)[b] += gt.log_sum + dw[b] * shift[b];
    if (l11 != nullptr) {
      (*l11)[b] = gt.l11;
      (*l21)[b] = gt.l21;
      (*l22)[b] = gt.l22;
    }
  }
}

void clear_scores(LanePass& lp, bool info_column) {
  std::fill(lp.score_pad.begin(), lp.score_pad.end(), Lane{});
  std::fill(lp.level_score.begin(), lp.level_score.end(), Lane{});
  lp.score_v = Lane{};
  if (!info_column) return;
  std::fill(lp.cw_pad.begin(), lp.cw_pad.end(), Lane{});
  std::fill(lp.level_cw.begin(), lp.level_cw.end(), Lane{});
  lp.svv = Lane{};
}

}  // namespace

void cox_lane_pass(const SharedDesign& d, const lane_detail::LaneRows& rows, const CoxSurvival& s, CoxTies ties,
                   bool info_column, CoxLanePass& cp, bool exact) {
  const Index n = d.n_samples();
  LanePass& lp = cp.lp;
  PWAS_ASSERT(s.n_samples() == n && rows.z->rows() == n && static_cast<Index>(cp.r.size()) == n &&
              static_cast<Index>(cp.h.size()) == s.n_groups());
  Lane* r = cp.r.data();
  const Lane* v = lp.v.data();
  const Lane* w = lp.mask.data();
  // eta (into r), the shift, then r.
  Lane top = Lane{} - kInf;
  for (Index i0 = 0; i0 < n; i0 += kBlockRows) {
    const Index m = std::min(kBlockRows, n - i0);
    lane_detail::block_eta(d, rows, lp, i0, m, r + i0);
    top = block_max(w + i0, r + i0, m, top);
  }
  cp.shift = top;
  for (int b = 0; b < kLanes; ++b)
    if (!std::isfinite(cp.shift[b])) cp.shift[b] = 0.0;  // a lane without rows (or parked)
  cp.max_eta = cp.shift;
  // The log partial likelihood's death terms sum w eta (in row order), before r replaces eta.
  Lane death_eta{};
  if (exact)
    for (Index k = 0; k < n; ++k)
      if (s.event[static_cast<std::size_t>(s.order[static_cast<std::size_t>(k)])]) death_eta += w[k] * r[k];
  for (Index i0 = 0; i0 < n; i0 += kBlockRows) risk_block(w + i0, cp.shift, std::min(kBlockRows, n - i0), r + i0);

  // Forward: the group terms (exact: and the log partial likelihood, sum w eta - sum_g (log_sum + d shift)).
  const Index n_groups = s.n_groups();
  Lane s0{}, s1v{}, log_terms{};
  for (Index g = 0; g < n_groups; ++g) {
    if (s.stratum_first[static_cast<std::size_t>(g)]) s0 = s1v = Lane{};
    Lane e0{}, dw{}, e1v{};
    bool deaths = false;
    for (Index k = s.group_start[static_cast<std::size_t>(g)]; k < s.group_start[static_cast<std::size_t>(g) + 1]; ++k) {
      s0 += r[k];
      if (info_column) s1v += r[k] * v[k];
      if (s.event[static_cast<std::size_t>(s.order[static_cast<std::size_t>(k)])]) {
        deaths = true;
        e0 += r[k];
        dw += w[k];
        if (info_column) e1v += r[k] * v[k];
      }
    }
    Lane h{}, a{}, alpha{}, beta{}, l11{}, l21{}, l22{};
    if (deaths) lane_group_terms(ties, s0, e0, dw, h, a, &l11, &l21, &l22, exact ? &log_terms : nullptr, cp.shift);
    if (exact) {
      cp.l11[static_cast<std::size_t>(g)] = l11;
      cp.l21[static_cast<std::size_t>(g)] = l21;
      cp.l22[static_cast<std::size_t>(g)] = l22;
    }
    if (deaths && info_column) {
      const Lane c = l11 * s1v + l21 * e1v;
      alpha = l11 * c;
      beta = l21 * c + l22 * l22 * e1v;
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
    for (Index k = s.group_start[static_cast<std::size_t>(g)]; k < s.group_start[static_cast<std::size_t>(g) + 1]; ++k) {
      if (s.event[static_cast<std::size_t>(s.order[static_cast<std::size_t>(k)])]) {
        const Lane omega = r[k] * (lam - a);
        m[k] = w[k] - omega;
        if (exact) cp.omega[k] = omega;
        if (info_column) q[k] = omega * v[k] - r[k] * (big_a + beta);
      } else {
        const Lane omega = r[k] * lam;
        m[k] = -omega;
        if (exact) cp.omega[k] = omega;
        if (info_column) q[k] = omega * v[k] - r[k] * big_a;
      }
    }
  }

  // U = X'm (and X'q).
  clear_scores(lp, info_column);
  std::fill(lp.level_score_split.begin(), lp.level_score_split.end(), Lane{});
  if (info_column) std::fill(lp.level_cw_split.begin(), lp.level_cw_split.end(), Lane{});
  for (Index i0 = 0; i0 < n; i0 += kBlockRows) {
    const Index len = std::min(kBlockRows, n - i0);
    lane_detail::block_score(d, rows, lp, i0, len, m + i0, lp.score_pad.data(), lp.level_score_split.data(),
                             lp.score_v);
    if (info_column)
      lane_detail::block_score(d, rows, lp, i0, len, q + i0, lp.cw_pad.data(), lp.level_cw_split.data(), lp.svv);
  }
  lane_detail::reduce_levels(d.level_rows, lp.level_score_split.data(), lp.level_score.data());
  if (info_column) lane_detail::reduce_levels(d.level_rows, lp.level_cw_split.data(), lp.level_cw.data());
  if (exact) cp.loglik = death_eta - log_terms;
}

void cox_lane_sweep(const SharedDesign& d, const lane_detail::LaneRows& rows, const CoxSurvival& s, CoxTies ties,
                    CoxLanePass& cp) {
  const Index n = d.n_samples();
  LanePass& lp = cp.lp;
  PWAS_ASSERT(s.n_samples() == n && rows.z->rows() == n && static_cast<Index>(cp.r.size()) == n);
  const Index zstride = rows.z->cols();
  const Index nd = d.n_dense();
  const auto n_groups_d = static_cast<Index>(d.groups.size());
  const Lane* v = lp.v.data();
  const Lane* w = lp.mask.data();
  // r = w exp(eta - shift) of the block's rows only: nothing after the sweep reads it, and a block-local buffer
  // spares the write-back and re-read of an n-row array (5 MB at n = 40,000) on every chord step.
  alignas(64) Lane r[kBlockRows];
  Lane* s1l = cp.s1l.data();
  Lane* e1l = cp.e1l.data();
  clear_scores(lp, false);
  Lane* uz = lp.score_pad.data();
  Lane* ul = lp.level_score.data();
  Lane* s1z = cp.s1z.data();  // the running sums of the dense columns between blocks
  Lane* e1z = cp.e1z.data();
  std::fill(s1z, s1z + zstride, Lane{});
  std::fill(e1z, e1z + zstride, Lane{});
  // Per row of a block: 1 = stratum start, 2 = death, 4 = last row of a group with deaths; per such group its h, a.
  std::uint8_t flag[kBlockRows];
  Lane gh[kBlockRows], ga[kBlockRows];
  Lane top = Lane{} - kInf;
  Lane s0{}, s1v{}, e0{}, dw{}, e1v{};
  bool deaths = false;
  Index g = 0;
  PWAS_ASSERT(static_cast<Index>(cp.s1l.size()) == d.level_rows + kLevelTrash);
  cp.group_offset.resize(static_cast<std::size_t>(n_groups_d));  // no allocation once sized
  cp.group_skip.resize(static_cast<std::size_t>(n_groups_d));
  Index* offset = cp.group_offset.data();
  Index* skip = cp.group_skip.data();
  for (Index c = 0; c < n_groups_d; ++c) {
    offset[c] = d.groups[static_cast<std::size_t>(c)].offset;
    skip[c] = d.groups[static_cast<std::size_t>(c)].skip;
  }
  const Index trash = d.level_rows;
  for (Index i0 = 0; i0 < n; i0 += kBlockRows) {
    const Index len = std::min(kBlockRows, n - i0);
    lane_detail::block_eta(d, rows, lp, i0, len, r);
    top = block_max(w + i0, r, len, top);
    risk_block(w + i0, cp.shift, len, r);
    // The scalar sums (S0, and v's and the levels' running sums) and each group's h, a.
    Index n_end = 0;
    for (Index k = i0; k < i0 + len; ++k) {
      std::uint8_t f = 0;
      if (k == s.group_start[static_cast<std::size_t>(g)]) {
        if (s.stratum_first[static_cast<std::size_t>(g)]) {
          s0 = s1v = Lane{};
          std::fill(s1l, s1l + d.level_rows, Lane{});
          f |= 1;
        }
        e0 = dw = e1v = Lane{};
        deaths = false;
      }
      const std::uint16_t* lev = rows.level->row(k).data();
      const Lane rk = r[k - i0];
      s0 += rk;
      s1v += rk * v[k];
      // Each group's most frequent code goes to a trash slot, a different one row by row: consecutive rows at one
      // code would chain each sum's load on the store before it. Its sums follow from the totals at the end.
      for (Index c = 0; c < n_groups_d; ++c) {
        const auto skipped = static_cast<Index>(lev[c] == skip[c]);
        s1l[offset[c] + lev[c] + skipped * (trash + (k & (kLevelTrash - 1)) - offset[c] - lev[c])] += rk;
      }
      if (s.event[static_cast<std::size_t>(s.order[static_cast<std::size_t>(k)])]) {
        if (!deaths) std::fill(e1l, e1l + d.level_rows, Lane{});
        deaths = true;
        f |= 2;
        const Lane wk = w[k];
        e0 += rk;
        dw += wk;
        e1v += rk * v[k];
        lp.score_v += wk * v[k];
        for (Index c = 0; c < n_groups_d; ++c) {
          if (lev[c] == skip[c]) continue;
          const auto row = static_cast<std::size_t>(offset[c] + lev[c]);
          e1l[row] += rk;
          ul[row] += wk;
        }
      }
      if (k + 1 == s.group_start[static_cast<std::size_t>(g) + 1]) {
        if (deaths) {
          Lane h, a;
          lane_group_terms(ties, s0, e0, dw, h, a, nullptr, nullptr, nullptr);
          for (Index c = 0; c < d.level_rows; ++c) ul[c] -= h * s1l[c] - a * e1l[c];
          lp.score_v -= h * s1v - a * e1v;
          gh[n_end] = h;
          ga[n_end] = a;
          ++n_end;
          f |= 4;
        }
        ++g;
      }
      flag[k - i0] = f;
    }
    // The dense columns, kChunk at a time with their sums in registers: S1 += r z, at deaths e1 += r z and
    // U += w z, at the end of a group with deaths U -= h S1 - a e1.
    constexpr Index kChunk = std::max(1, kLaneAccumulators / 3);  // 3 accumulators per column: 8 with AVX-512
    for (Index j0 = 0; j0 < nd; j0 += kChunk) {
      const Index nj = std::min(kChunk, nd - j0);
      Lane sa[kChunk], ea[kChunk], ua[kChunk];
      for (Index c = 0; c < kChunk; ++c) {
        sa[c] = c < nj ? s1z[j0 + c] : Lane{};
        ea[c] = c < nj ? e1z[j0 + c] : Lane{};
        ua[c] = c < nj ? uz[j0 + c] : Lane{};
      }
      Index e = 0;
      const double* z = rows.z->data() + i0 * zstride + j0;
      for (Index t = 0; t < len; ++t, z += zstride) {
        const std::uint8_t f = flag[t];
        const Lane rk = r[t];
        if (f & 1)
          for (Index c = 0; c < kChunk; ++c) sa[c] = Lane{};
        for (Index c = 0; c < kChunk; ++c) sa[c] += z[c] * rk;
        if (f & 2) {
          const Lane wk = w[i0 + t];
          for (Index c = 0; c < kChunk; ++c) {
            ea[c] += z[c] * rk;
            ua[c] += z[c] * wk;
          }
        }
        if (f & 4) {
          const Lane h = gh[e], a = ga[e];
          ++e;
          for (Index c = 0; c < kChunk; ++c) {
            ua[c] -= h * sa[c] - a * ea[c];
            ea[c] = Lane{};
          }
        }
      }
      for (Index c = 0; c < nj; ++c) {
        s1z[j0 + c] = sa[c];
        e1z[j0 + c] = ea[c];
        uz[j0 + c] = ua[c];
      }
    }
  }
  // The skipped codes' scores: a group's codes together score as the intercept.
  for (Index c = 0; c < n_groups_d; ++c) {
    const DummyGroup& grp = d.groups[static_cast<std::size_t>(c)];
    Lane rest{};
    for (Index code = 0; code <= static_cast<Index>(grp.cols.size()); ++code)
      if (code != grp.skip) rest += ul[grp.offset + code];
    ul[grp.offset + grp.skip] = uz[0] - rest;
  }
  for (int b = 0; b < kLanes; ++b)
    if (!std::isfinite(top[b])) top[b] = 0.0;
  cp.max_eta = top;
}

}  // namespace cox_detail
}  // namespace pwas::kernels
