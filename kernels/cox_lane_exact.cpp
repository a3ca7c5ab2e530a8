// The exact passes of a batch of Cox fits, one per lane (see cox_lanes.cpp for the chord passes): at each lane's
// theta, the log partial likelihood, the score and the information
//   I = sum_i omega_i x_i x_i' - sum_g R_g R_g',  R_g = l11 S1_g + l21 e1_g and l22 e1_g (cox_detail::information)
// with omega and the group factors from cox_lane_pass, the weighted Gram over the shared rows in risk-set order
// (kernels/lane_gram.hpp) and the rank rows from running sums S1 = sum r x over the risk set, e1 over the group's
// deaths, expanded to design order and multiplied out in lanes. With cox.zph (cox_zph.cpp), also its g-weighted
// score and informations: row weights omega_g^(k) = r (Lambda^(k) - delta g^k a), Lambda^(k) the suffix sums of
// g^k h, and the rank rows weighted by g^k. One read of the rows serves the Grams and the rank rows; no lane's rows
// are copied. Every operation is elementwise over lanes and in a fixed order, so a lane's results do not depend on
// the other lanes.
#include <algorithm>
#include <cmath>

#include "kernels/assert.hpp"
#include "kernels/cox_detail.hpp"
#include "kernels/lane_blocks.hpp"

namespace pwas::kernels {

bool CoxLaneExact::fits(const SharedDesign& d, const CoxSurvival& s) const {
  const Eigen::Index p = d.n_cov() + 1;
  return pp == (p + kGramTileA - 1) / kGramTileA * kGramTileA && prefix.size() == static_cast<std::size_t>(
             ((d.n_dense() + kGramTileA - 1) / kGramTileA * kGramTileA) * ((d.n_dense() + kGramTileA - 1) / kGramTileA * kGramTileA)) &&
         gt.size() == static_cast<std::size_t>(s.n_groups()) && s1l.size() == static_cast<std::size_t>(d.level_rows) &&
         s1z.size() == static_cast<std::size_t>(d.n_dense() + 1) && ug_pad.size() == static_cast<std::size_t>(d.z_rows.cols());
}

void CoxLaneExact::resize(const SharedDesign& d, const CoxSurvival& s) {
  const auto groups = static_cast<std::size_t>(s.n_groups());
  const Eigen::Index p = d.n_cov() + 1;
  pp = (p + kGramTileA - 1) / kGramTileA * kGramTileA;
  const auto lr = static_cast<std::size_t>(d.level_rows);
  const auto nz = static_cast<std::size_t>(d.n_dense() + 1);
  rank.assign(static_cast<std::size_t>(kRankRows * pp), Lane{});
  for (auto& r : rank_s) r.assign(static_cast<std::size_t>(kRankRows), Lane{});
  for (auto& g : rank_gram) g.assign(static_cast<std::size_t>(pp * pp), Lane{});
  for (auto* a : {&s1z, &e1z}) a->assign(nz, Lane{});
  for (auto* a : {&s1l, &e1l, &rl}) a->assign(lr, Lane{});
  rz.assign(nz, Lane{});
  // cox.zph's row arrays and the Kaplan-Meier ones are sized where they are first used (cox_lane_exact with zph,
  // cox_lane_km: as many as the outcome has distinct times): a run without cox.zph never holds them.
  for (auto* a : {&gt, &lam1, &lam2}) a->assign(groups, Lane{});
  ug_pad.assign(static_cast<std::size_t>(d.z_rows.cols()), Lane{});
  ug_levels.assign(lr, Lane{});
  ug_split.assign(lr * static_cast<std::size_t>(lane_detail::kLevelSplit), Lane{});
  expanded.assign(static_cast<std::size_t>(pp), Lane{});
  const Eigen::Index ndp = (d.n_dense() + kGramTileA - 1) / kGramTileA * kGramTileA;
  prefix.assign(static_cast<std::size_t>(ndp * ndp), Lane{});
  death_z.assign(static_cast<std::size_t>(lane_detail::kBlockRows * d.z_rows.cols()), 0.0);
  for (auto& a : death_s) a.assign(static_cast<std::size_t>(lane_detail::kBlockRows), Lane{});
  for (auto& a : flush_coef) a.assign(static_cast<std::size_t>(lane_detail::kBlockRows), Lane{});
  flags.assign(static_cast<std::size_t>(lane_detail::kBlockRows), 0);
}

namespace cox_detail {
namespace {

using Eigen::Index;
using lane_detail::kBlockRows;

bool is_event(const CoxSurvival& s, Index k) { return s.event[static_cast<std::size_t>(s.order[static_cast<std::size_t>(k)])] != 0; }

// The buffered rank rows into the rank Grams.
void flush_rank(Index& nr, bool zph, CoxLaneExact& ex) {
  if (nr == 0) return;
  for (int k = 0; k < (zph ? 3 : 1); ++k)
    lane_syrk(ex.rank.data(), ex.pp, nr, ex.rank_s[static_cast<std::size_t>(k)].data(), ex.pp,
              ex.rank_gram[static_cast<std::size_t>(k)].data());
  nr = 0;
}

// Appends one rank row (design order, from ex.expanded) with weight 1 and, for cox.zph, g and g^2.
void push_rank(const Lane* row, Lane g, bool zph, Index& nr, CoxLaneExact& ex) {
  std::copy(row, row + ex.pp, ex.rank.data() + nr * ex.pp);
  ex.rank_s[0][static_cast<std::size_t>(nr)] = Lane{} + 1.0;
  if (zph) {
    ex.rank_s[1][static_cast<std::size_t>(nr)] = g;
    ex.rank_s[2][static_cast<std::size_t>(nr)] = g * g;
  }
  if (++nr == CoxLaneExact::kRankRows) flush_rank(nr, zph, ex);
}

// cox.zph's row weights (w1, w2: the g- and g^2-weighted omega) and m_g = g delta w - w1, from the pass's r, h, a.
void zph_weights(const CoxSurvival& s, const CoxLanePass& cp, CoxLaneExact& ex) {
  const Index n_groups = s.n_groups();
  Lane lam1{}, lam2{};
  for (Index g = n_groups - 1; g >= 0; --g) {
    if (g == n_groups - 1 || s.stratum_first[static_cast<std::size_t>(g) + 1]) lam1 = lam2 = Lane{};
    const Lane c1 = ex.gt[static_cast<std::size_t>(g)];
    const Lane c2 = c1 * c1;
    const Lane h = cp.h[static_cast<std::size_t>(g)];
    lam1 = c1 * h + lam1;
    lam2 = c2 * h + lam2;
    const Lane a = cp.a[static_cast<std::size_t>(g)];
    for (Index k = s.group_start[static_cast<std::size_t>(g)]; k < s.group_start[static_cast<std::size_t>(g) + 1]; ++k) {
      const auto kk = static_cast<std::size_t>(k);
      const Lane r = cp.r[kk];
      if (is_event(s, k)) {
        ex.w1[kk] = r * (lam1 - c1 * a);
        ex.w2[kk] = r * (lam2 - c2 * a);
        ex.mg[kk] = c1 * cp.lp.mask[kk] - ex.w1[kk];
      } else {
        ex.w1[kk] = r * lam1;
        ex.w2[kk] = r * lam2;
        ex.mg[kk] = Lane{} - ex.w1[kk];
      }
    }
  }
}

// The death rows' terms of the three informations' dense blocks, -sum r a g^k z z' over the buffered death rows.
void flush_deaths(const lane_detail::LaneRows& rows, Index& nd_rows, CoxLaneExact& ex) {
  if (nd_rows == 0) return;
  const Index zstride = rows.z->cols();
  for (int k = 0; k < 3; ++k)
    lane_syrk(ex.death_z.data(), zstride, nd_rows, ex.death_s[static_cast<std::size_t>(k)].data(), ex.gram[k].nd_padded,
              ex.gram[k].dense.data());
  nd_rows = 0;
}

// The dense blocks of the information and of cox.zph's g- and g^2-weighted ones over rows [i0, i0 + m), as
//   sum_i r_i (Lambda^(k)_g(i) - delta_i g^k a) z z' = sum_g g^k h_g Q_g - sum_deaths r_i g^k a z z',
// Q_g = sum of r z z' over the risk set of group g (rows of its stratum up to g): one running Gram flushed at each
// group with deaths (lane_prefix_gram) instead of three weighted Grams, and the death rows' terms, buffered.
// g_block: the group of row i0 and whether it has had deaths before i0 (both carried past the block);
// n_death_rows: death rows buffered.
void prefix_block(const lane_detail::LaneRows& rows, const CoxSurvival& s, const CoxLanePass& cp, Index i0, Index m,
                  Index& g_block, bool& deaths, Index& n_death_rows, CoxLaneExact& ex) {
  const Index zstride = rows.z->cols();
  Index e = 0;
  Index g = g_block;
  for (Index k = i0; k < i0 + m; ++k) {
    std::uint8_t f = 0;
    if (k == s.group_start[static_cast<std::size_t>(g)]) {
      if (s.stratum_first[static_cast<std::size_t>(g)]) f |= kPrefixReset;
      deaths = false;
    }
    if (is_event(s, k)) {
      deaths = true;
      const auto gg = static_cast<std::size_t>(g);
      const Lane ra = cp.r[static_cast<std::size_t>(k)] * cp.a[gg];
      std::copy(rows.z->data() + k * zstride, rows.z->data() + (k + 1) * zstride, ex.death_z.data() + n_death_rows * zstride);
      ex.death_s[0][static_cast<std::size_t>(n_death_rows)] = Lane{} - ra;
      ex.death_s[1][static_cast<std::size_t>(n_death_rows)] = Lane{} - ra * ex.gt[gg];
      ex.death_s[2][static_cast<std::size_t>(n_death_rows)] = Lane{} - ra * ex.gt[gg] * ex.gt[gg];
      if (++n_death_rows == kBlockRows) flush_deaths(rows, n_death_rows, ex);
    }
    if (k + 1 == s.group_start[static_cast<std::size_t>(g) + 1]) {
      if (deaths) {
        f |= kPrefixFlush;
        const auto gg = static_cast<std::size_t>(g);
        const Lane h = cp.h[gg], c = ex.gt[gg];
        ex.flush_coef[0][static_cast<std::size_t>(e)] = h;
        ex.flush_coef[1][static_cast<std::size_t>(e)] = c * h;
        ex.flush_coef[2][static_cast<std::size_t>(e)] = c * c * h;
        ++e;
      }
      ++g;
    }
    ex.flags[static_cast<std::size_t>(k - i0)] = f;
  }
  g_block = g;
  PrefixFlush fl;
  fl.n_out = 3;
  for (int k = 0; k < 3; ++k) {
    fl.coef[k] = ex.flush_coef[static_cast<std::size_t>(k)].data();
    fl.out[k] = ex.gram[k].dense.data();
  }
  lane_prefix_gram(rows.z->data() + i0 * zstride, zstride, m, cp.r.data() + i0, ex.flags.data(), fl,
                   ex.gram[0].nd_padded, ex.prefix.data());
}

}  // namespace

void cox_lane_km(const CoxSurvival& s, const std::vector<Lane>& mask, CoxLaneExact& ex) {
  const Index n = s.n_samples();
  Index distinct = 0;
  for (std::size_t k = 0; k < s.time_order.size(); ++k)
    distinct += k == 0 || s.time(s.time_order[k]) != s.time(s.time_order[k - 1]) ? 1 : 0;
  if (static_cast<Index>(ex.km_time.size()) < distinct) {  // grows only: no allocation once sized
    ex.km_time.resize(static_cast<std::size_t>(distinct));
    ex.km_at_risk.resize(static_cast<std::size_t>(distinct));
    ex.km_deaths.resize(static_cast<std::size_t>(distinct));
  }
  // Distinct times, descending, with each lane's weight at risk (time >= t) and events at t.
  Index n_times = 0;
  Lane cum{};
  for (const Index i : s.time_order) {
    const Index k = s.position[static_cast<std::size_t>(i)];
    const Lane w = mask[static_cast<std::size_t>(k)];
    if (n_times == 0 || s.time(i) != ex.km_time[static_cast<std::size_t>(n_times - 1)]) {
      ex.km_time[static_cast<std::size_t>(n_times)] = s.time(i);
      ex.km_deaths[static_cast<std::size_t>(n_times)] = Lane{};
      ++n_times;
    }
    cum += w;
    ex.km_at_risk[static_cast<std::size_t>(n_times - 1)] = cum;
    if (s.event[static_cast<std::size_t>(i)]) ex.km_deaths[static_cast<std::size_t>(n_times - 1)] += w;
  }
  // g at t_j = 1 - prod over earlier times of (1 - d / n) (a time without a lane's events leaves its product as is).
  Lane surv = Lane{} + 1.0;
  for (Index j = n_times - 1; j >= 0; --j) {
    const Lane deaths = ex.km_deaths[static_cast<std::size_t>(j)];
    const Lane at_risk = ex.km_at_risk[static_cast<std::size_t>(j)];
    ex.km_deaths[static_cast<std::size_t>(j)] = 1.0 - surv;  // now g(t_j)
    for (int b = 0; b < kLanes; ++b)
      if (deaths[b] != 0.0) surv[b] *= 1.0 - deaths[b] / at_risk[b];
  }
  // Per group, g of its time, centred at the lanes' weighted means over their events.
  Lane sum_g{}, events{};
  for (Index g = 0; g < s.n_groups(); ++g) {
    const Index k0 = s.group_start[static_cast<std::size_t>(g)];
    const double time = s.time(s.order[static_cast<std::size_t>(k0)]);
    const Index j = std::lower_bound(ex.km_time.data(), ex.km_time.data() + n_times, time, std::greater<>()) -
                    ex.km_time.data();
    PWAS_ASSERT(j < n_times && ex.km_time[static_cast<std::size_t>(j)] == time);
    const Lane gt = ex.km_deaths[static_cast<std::size_t>(j)];
    ex.gt[static_cast<std::size_t>(g)] = gt;
    for (Index k = k0; k < s.group_start[static_cast<std::size_t>(g) + 1]; ++k)
      if (is_event(s, k)) sum_g += mask[static_cast<std::size_t>(k)] * gt;
  }
  for (Index k = 0; k < n; ++k)
    if (is_event(s, k)) events += mask[static_cast<std::size_t>(k)];
  for (int b = 0; b < kLanes; ++b)
    if (!(events[b] > 0.0)) events[b] = 1.0;  // a lane without events (parked): any finite g
  const Lane mean = sum_g / events;
  for (Lane& gt : ex.gt) gt -= mean;
}

void cox_lane_exact(const SharedDesign& d, const lane_detail::LaneRows& rows, const CoxSurvival& s, CoxTies ties,
                    bool zph, CoxLanePass& cp, CoxLaneExact& ex) {
  const Index n = d.n_samples();
  const Index nd = d.n_dense();
  const auto n_groups_d = static_cast<Index>(d.groups.size());
  LanePass& lp = cp.lp;
  cox_lane_pass(d, rows, s, ties, false, cp, true);
  if (zph) {
    for (auto* a : {&ex.w1, &ex.w2, &ex.mg})
      if (a->size() != static_cast<std::size_t>(n)) a->assign(static_cast<std::size_t>(n), Lane{});
    zph_weights(s, cp, ex);
    std::fill(ex.ug_pad.begin(), ex.ug_pad.end(), Lane{});
    std::fill(ex.ug_split.begin(), ex.ug_split.end(), Lane{});
    ex.ug_v = Lane{};
  }
  for (int k = 0; k < (zph ? 3 : 1); ++k) {
    lane_gram_reset(d, ex.gram[k]);
    std::fill(ex.rank_gram[k].begin(), ex.rank_gram[k].end(), Lane{});
  }
  const Lane* v = lp.v.data();
  const Lane* r = cp.r.data();
  Lane s1v{}, e1v{};
  Index g = 0, nr = 0;
  bool deaths = false;
  Lane* s1z = ex.s1z.data();
  Lane* e1z = ex.e1z.data();
  Lane* s1l = ex.s1l.data();
  Lane* e1l = ex.e1l.data();
  // With cox.zph, the three informations' dense blocks come from one running Gram (see prefix_block).
  if (zph) std::fill(ex.prefix.begin(), ex.prefix.end(), Lane{});
  Index g_block = 0, n_death_rows = 0;
  bool block_deaths = false;
  for (Index i0 = 0; i0 < n; i0 += kBlockRows) {
    const Index m = std::min(kBlockRows, n - i0);
    lane_gram_rows(d, rows, v + i0, cp.omega.data() + i0, i0, m, ex.gram[0], !zph);
    if (zph) {
      lane_gram_rows(d, rows, v + i0, ex.w1.data() + i0, i0, m, ex.gram[1], false);
      lane_gram_rows(d, rows, v + i0, ex.w2.data() + i0, i0, m, ex.gram[2], false);
      prefix_block(rows, s, cp, i0, m, g_block, block_deaths, n_death_rows, ex);
      lane_detail::block_score(d, rows, lp, i0, m, ex.mg.data() + i0, ex.ug_pad.data(), ex.ug_split.data(), ex.ug_v);
    }
    // The running sums and, at the last row of each group with deaths, its rank rows.
    for (Index k = i0; k < i0 + m; ++k) {
      if (k == s.group_start[static_cast<std::size_t>(g)]) {
        if (s.stratum_first[static_cast<std::size_t>(g)]) {
          std::fill(s1z, s1z + nd, Lane{});
          std::fill(s1l, s1l + d.level_rows, Lane{});
          s1v = Lane{};
        }
        std::fill(e1z, e1z + nd, Lane{});
        std::fill(e1l, e1l + d.level_rows, Lane{});
        e1v = Lane{};
        deaths = false;
      }
      const double* z = rows.z->data() + k * rows.z->cols();
      const std::uint16_t* lev = rows.level->row(k).data();
      const Lane rk = r[k];
      for (Index a = 0; a < nd; ++a) s1z[a] += rk * z[a];
      s1v += rk * v[k];
      for (Index c = 0; c < n_groups_d; ++c) s1l[d.groups[static_cast<std::size_t>(c)].offset + lev[c]] += rk;
      const bool death = is_event(s, k);
      if (death) {
        deaths = true;
        for (Index a = 0; a < nd; ++a) e1z[a] += rk * z[a];
        e1v += rk * v[k];
        for (Index c = 0; c < n_groups_d; ++c) e1l[d.groups[static_cast<std::size_t>(c)].offset + lev[c]] += rk;
      }
      if (k + 1 < s.group_start[static_cast<std::size_t>(g) + 1]) continue;
      // The last row of group g: its rank rows when it has deaths (l11 = 0 in a lane without them there).
      if (deaths) {
        const Lane l11 = cp.l11[static_cast<std::size_t>(g)], l21 = cp.l21[static_cast<std::size_t>(g)],
                   l22 = cp.l22[static_cast<std::size_t>(g)];
        const Lane gg = zph ? ex.gt[static_cast<std::size_t>(g)] : Lane{};
        // R1 = l11 S1 + l21 e1, in the compressed layout, then expanded.
        Lane* out = ex.expanded.data();
        s1z[nd] = s1v;
        e1z[nd] = e1v;
        for (Index a = 0; a <= nd; ++a) ex.rz[static_cast<std::size_t>(a)] = l11 * s1z[a] + l21 * e1z[a];
        for (Index c = 0; c < d.level_rows; ++c) ex.rl[static_cast<std::size_t>(c)] = l11 * s1l[c] + l21 * e1l[c];
        expand(d, ex.rz.data(), ex.rl.data(), out);
        push_rank(out, gg, zph, nr, ex);
        bool second = false;
        for (int b = 0; b < kLanes; ++b) second = second || l22[b] != 0.0 || l21[b] != 0.0;
        if (second) {
          for (Index a = 0; a <= nd; ++a) ex.rz[static_cast<std::size_t>(a)] = l22 * e1z[a];
          for (Index c = 0; c < d.level_rows; ++c) ex.rl[static_cast<std::size_t>(c)] = l22 * e1l[c];
          expand(d, ex.rz.data(), ex.rl.data(), out);
          push_rank(out, gg, zph, nr, ex);
        }
      }
      ++g;
    }
  }
  flush_rank(nr, zph, ex);
  if (zph) flush_deaths(rows, n_death_rows, ex);
  if (zph) lane_detail::reduce_levels(d.level_rows, ex.ug_split.data(), ex.ug_levels.data());
}

void lane_exact_information(const SharedDesign& d, CoxLaneExact& ex, int which, int b, Eigen::MatrixXd& out) {
  const Index p = d.n_cov() + 1;
  out.setZero(p, p);
  lane_gram_add_to(d, ex.gram[which], b, 1.0, ex.scratch, out);
  const Lane* rg = ex.rank_gram[static_cast<std::size_t>(which)].data();
  for (Index j = 0; j < p; ++j)
    for (Index i = j; i < p; ++i) out(i, j) -= rg[i * ex.pp + j][b];
}

}  // namespace cox_detail
}  // namespace pwas::kernels
