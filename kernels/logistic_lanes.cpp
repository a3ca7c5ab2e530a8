#include "kernels/logistic_lanes.hpp"

#include <algorithm>

#include "kernels/assert.hpp"

// Per lane, every sum runs in one fixed order: eta_i = ((sum_j z_ij theta_j, j ascending) - kappa + the groups'
// level terms in group order) + theta_v v_i; the score sums run over rows in ascending order. Rows are taken in
// blocks of kBlockRows (eta and r of a block stay in L1) and, for eta, in tiles of kTileRows rows whose
// accumulators share each theta load; neither tiling changes any lane's order of operations.

namespace pwas::kernels {
namespace {

using Eigen::Index;

constexpr Index kBlockRows = 256;
constexpr Index kTileRows = 8;
constexpr Index kScoreCols = 8;  // score accumulators held in registers while a block's rows stream past

Lane broadcast(double x) { return Lane{} + x; }

Lane lane_abs(Lane x) {
  Lane out;
  for (int b = 0; b < kLanes; ++b) out[b] = x[b] < 0.0 ? -x[b] : x[b];
  return out;
}

Lane lane_max(Lane a, Lane b) {
  Lane out;
  for (int l = 0; l < kLanes; ++l) out[l] = a[l] < b[l] ? b[l] : a[l];
  return out;
}

// eta of rows [i0, i0 + m) into eta [m]. Only the dense columns of C are read (not v's column or the padding).
void block_eta(const SharedDesign& d, const LanePass& lp, Index i0, Index m, Lane* eta) {
  const Index stride = d.z_rows.cols();
  const Index nd = d.n_dense();
  const double* z = d.z_rows.data();
  const Lane* theta = lp.theta_pad.data();
  // The next block's rows of z, v and mask, a tile's worth per tile: L3 latency hidden behind this block's work.
  const char* ahead = reinterpret_cast<const char*>(z + std::min(i0 + m, d.n_samples()) * stride);
  const char* ahead_end = reinterpret_cast<const char*>(z + std::min(i0 + m + kBlockRows, d.n_samples()) * stride);
  const auto tile_bytes = static_cast<std::size_t>(kTileRows * stride) * sizeof(double);
  Index t = 0;
  for (; t + kTileRows <= m; t += kTileRows) {
    for (std::size_t b = 0; b < tile_bytes && ahead < ahead_end; b += 64, ahead += 64) __builtin_prefetch(ahead, 0, 2);
    Lane acc[kTileRows] = {};
    const double* z0 = z + (i0 + t) * stride;
    for (Index j = 0; j < nd; ++j) {
      const Lane th = theta[j];
      for (Index r = 0; r < kTileRows; ++r) acc[r] += z0[r * stride + j] * th;
    }
    for (Index r = 0; r < kTileRows; ++r) eta[t + r] = acc[r];
  }
  for (; t < m; ++t) {
    Lane acc = {};
    const double* zr = z + (i0 + t) * stride;
    for (Index j = 0; j < nd; ++j) acc += zr[j] * theta[j];
    eta[t] = acc;
  }
  const auto n_groups = static_cast<Index>(d.groups.size());
  for (t = 0; t < m; ++t) {
    Lane e = eta[t] - lp.kappa;
    const std::uint16_t* lev = d.level.row(i0 + t).data();
    for (Index g = 0; g < n_groups; ++g) e += lp.theta_levels[static_cast<std::size_t>(d.groups[static_cast<std::size_t>(g)].offset + lev[g])];
    eta[t] = e + lp.theta_v * lp.v[static_cast<std::size_t>(i0 + t)];
  }
}

// r = mask (y - mu) from eta, mu = 1 / (1 + e) for eta >= 0 and e / (1 + e) otherwise, e = exp(-|eta|); and the
// running max of mask |eta|.
void block_residuals(const LanePass& lp, const double* y, Index i0, Index m, const Lane* eta, Lane* r, Lane& max_eta) {
  const Index len = m * kLanes;
  Eigen::Map<const Eigen::ArrayXd> ea(reinterpret_cast<const double*>(eta), len);
  Eigen::Map<Eigen::ArrayXd> ra(reinterpret_cast<double*>(r), len);
  ra = (-ea.abs()).exp();                // e, in place
  ra = (1.0 + ra).inverse() * (ea >= 0.0).select(1.0, ra);  // mu
  for (Index t = 0; t < m; ++t) {
    const Lane mask = lp.mask[static_cast<std::size_t>(i0 + t)];
    r[t] = mask * (broadcast(y[i0 + t]) - r[t]);
    max_eta = lane_max(max_eta, mask * lane_abs(eta[t]));
  }
}

// score [n_dense] += sum_t z_t s_t, levels(level row of each group) += s_t, sv += s_t v_t over rows [i0, i0 + m).
void block_score(const SharedDesign& d, const LanePass& lp, Index i0, Index m, const Lane* s, Lane* score,
                 Lane* levels, Lane& sv) {
  const Index stride = d.z_rows.cols();
  // The dense columns rounded up to whole chunks where the padding allows (padding adds exact zeros).
  const Index nd = std::min(stride, (d.n_dense() + kScoreCols - 1) / kScoreCols * kScoreCols);
  const double* z = d.z_rows.data() + i0 * stride;
  Index j0 = 0;
  for (; j0 + kScoreCols <= nd; j0 += kScoreCols) {
    Lane acc[kScoreCols];
    for (Index q = 0; q < kScoreCols; ++q) acc[q] = score[j0 + q];
    for (Index t = 0; t < m; ++t) {
      const Lane st = s[t];
      const double* zr = z + t * stride + j0;
      for (Index q = 0; q < kScoreCols; ++q) acc[q] += zr[q] * st;
    }
    for (Index q = 0; q < kScoreCols; ++q) score[j0 + q] = acc[q];
  }
  for (; j0 < nd; ++j0) {
    Lane acc = score[j0];
    for (Index t = 0; t < m; ++t) acc += z[t * stride + j0] * s[t];
    score[j0] = acc;
  }
  const auto n_groups = static_cast<Index>(d.groups.size());
  for (Index t = 0; t < m; ++t) {
    const std::uint16_t* lev = d.level.row(i0 + t).data();
    for (Index g = 0; g < n_groups; ++g) levels[d.groups[static_cast<std::size_t>(g)].offset + lev[g]] += s[t];
    sv += s[t] * lp.v[static_cast<std::size_t>(i0 + t)];
  }
}

}  // namespace

void LanePass::resize(const SharedDesign& d) {
  const auto n = static_cast<std::size_t>(d.n_samples());
  const auto stride = static_cast<std::size_t>(d.z_rows.cols());
  const auto levels = static_cast<std::size_t>(d.level_rows);
  v.assign(n, Lane{});
  mask.assign(n, Lane{});
  theta_pad.assign(stride, Lane{});
  theta_levels.assign(levels, Lane{});
  score_pad.assign(stride, Lane{});
  level_score.assign(levels, Lane{});
  cw_pad.assign(stride, Lane{});
  level_cw.assign(levels, Lane{});
  kappa = theta_v = score_v = max_abs_eta = svv = Lane{};
}

void lane_score_pass(const SharedDesign& d, const double* w0, LanePass& lp) {
  const Index n = d.n_samples();
  PWAS_ASSERT(static_cast<Index>(lp.y.size()) == n && static_cast<Index>(lp.v.size()) == n && static_cast<Index>(lp.mask.size()) == n &&
              static_cast<Index>(lp.theta_pad.size()) == d.z_rows.cols() &&
              static_cast<Index>(lp.theta_levels.size()) == d.level_rows);
  std::fill(lp.score_pad.begin(), lp.score_pad.end(), Lane{});
  std::fill(lp.level_score.begin(), lp.level_score.end(), Lane{});
  lp.score_v = lp.max_abs_eta = Lane{};
  if (w0 != nullptr) {
    std::fill(lp.cw_pad.begin(), lp.cw_pad.end(), Lane{});
    std::fill(lp.level_cw.begin(), lp.level_cw.end(), Lane{});
    lp.svv = Lane{};
  }
  alignas(64) Lane eta[kBlockRows];
  alignas(64) Lane r[kBlockRows];
  for (Index i0 = 0; i0 < n; i0 += kBlockRows) {
    const Index m = std::min(kBlockRows, n - i0);
    block_eta(d, lp, i0, m, eta);
    block_residuals(lp, lp.y.data(), i0, m, eta, r, lp.max_abs_eta);
    block_score(d, lp, i0, m, r, lp.score_pad.data(), lp.level_score.data(), lp.score_v);
    if (w0 == nullptr) continue;
    for (Index t = 0; t < m; ++t) eta[t] = w0[i0 + t] * lp.v[static_cast<std::size_t>(i0 + t)];  // W0 v
    block_score(d, lp, i0, m, eta, lp.cw_pad.data(), lp.level_cw.data(), lp.svv);
  }
}

}  // namespace pwas::kernels
