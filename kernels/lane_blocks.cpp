#include "kernels/lane_blocks.hpp"

#include <algorithm>

namespace pwas::kernels::lane_detail {
namespace {

using Eigen::Index;

// Rows whose eta accumulators share each theta load, and score accumulators held in registers while a block's rows
// stream past: 8 each with AVX-512, 6 with AVX2 (kernels/lanes.hpp).
constexpr Index kTileRows = std::min(8, kLaneAccumulators);
constexpr Index kScoreCols = std::min(8, kLaneAccumulators);

}  // namespace

// eta of rows [i0, i0 + m) into eta [m]. Only the dense columns of C are read (not v's column or the padding).
void block_eta(const SharedDesign& d, const LaneRows& rows, const LanePass& lp, Index i0, Index m, Lane* eta) {
  const Index stride = rows.z->cols();
  const Index nd = d.n_dense();
  const Index n = rows.z->rows();
  const double* z = rows.z->data();
  const Lane* theta = lp.theta_pad.data();
  // The next block's rows of z, v and mask, a tile's worth per tile: L3 latency hidden behind this block's work.
  const char* ahead = reinterpret_cast<const char*>(z + std::min(i0 + m, n) * stride);
  const char* ahead_end = reinterpret_cast<const char*>(z + std::min(i0 + m + kBlockRows, n) * stride);
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
    const std::uint16_t* lev = rows.level->row(i0 + t).data();
    for (Index g = 0; g < n_groups; ++g) e += lp.theta_levels[static_cast<std::size_t>(d.groups[static_cast<std::size_t>(g)].offset + lev[g])];
    eta[t] = e + lp.theta_v * lp.v[static_cast<std::size_t>(i0 + t)];
  }
}

// score [n_dense] += sum_t z_t s_t, levels(level row of each group) += s_t, sv += s_t v_t over rows [i0, i0 + m).
void block_score(const SharedDesign& d, const LaneRows& rows, const LanePass& lp, Index i0, Index m, const Lane* s,
                 Lane* score, Lane* levels, Lane& sv) {
  const Index stride = rows.z->cols();
  // The dense columns rounded up to whole chunks where the padding allows (padding adds exact zeros).
  const Index nd = std::min(stride, (d.n_dense() + kScoreCols - 1) / kScoreCols * kScoreCols);
  const double* z = rows.z->data() + i0 * stride;
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
  // v's sum in a register (sv may alias nothing, but the compiler cannot know); the level sums into kLevelSplit
  // interleaved copies, so that a run of rows at one level makes kLevelSplit chains through memory, not one.
  const auto n_groups = static_cast<Index>(d.groups.size());
  const Index level_rows = d.level_rows;
  Lane acc_v = sv;
  for (Index t = 0; t < m; ++t) {
    const std::uint16_t* lev = rows.level->row(i0 + t).data();
    Lane* copy = levels + (t % kLevelSplit) * level_rows;
    for (Index g = 0; g < n_groups; ++g) copy[d.groups[static_cast<std::size_t>(g)].offset + lev[g]] += s[t];
    acc_v += s[t] * lp.v[static_cast<std::size_t>(i0 + t)];
  }
  sv = acc_v;
}

void reduce_levels(Index level_rows, const Lane* split, Lane* out) {
  for (Index l = 0; l < level_rows; ++l) {
    Lane sum = split[l];
    for (Index k = 1; k < kLevelSplit; ++k) sum += split[k * level_rows + l];
    out[l] = sum;
  }
}

void load_theta(const SharedDesign& d, const Eigen::VectorXd& theta, bool has_v, int b, LanePass& lp) {
  for (Index a = 0; a < d.n_dense(); ++a) lp.theta_pad[static_cast<std::size_t>(a)][b] = theta(d.dense_cols[static_cast<std::size_t>(a)]);
  double kappa = 0.0;
  for (const DummyGroup& g : d.groups)
    for (std::size_t k = 0; k < g.cols.size(); ++k) {
      const double t = theta(g.cols[k]);
      lp.theta_levels[static_cast<std::size_t>(g.offset + 1) + k][b] = t;
      kappa += d.mean(g.cols[k]) * t;
    }
  lp.kappa[b] = kappa;
  lp.theta_v[b] = has_v ? theta(d.n_cov()) : 0.0;
}

void park(const SharedDesign& d, int b, LanePass& lp) {
  for (Index a = 0; a < d.n_dense(); ++a) lp.theta_pad[static_cast<std::size_t>(a)][b] = 0.0;
  for (auto& t : lp.theta_levels) t[b] = 0.0;
  lp.kappa[b] = lp.theta_v[b] = 0.0;
}

void unpack(const SharedDesign& d, const std::vector<Lane>& pad, const std::vector<Lane>& levels, double v_entry,
            bool has_v, int b, Eigen::VectorXd& out) {
  for (Index a = 0; a < d.n_dense(); ++a) out(d.dense_cols[static_cast<std::size_t>(a)]) = pad[static_cast<std::size_t>(a)][b];
  for (const DummyGroup& g : d.groups)
    for (std::size_t k = 0; k < g.cols.size(); ++k)
      out(g.cols[k]) = levels[static_cast<std::size_t>(g.offset + 1) + k][b] - d.mean(g.cols[k]) * out(0);
  if (has_v) out(d.n_cov()) = v_entry;
}

}  // namespace pwas::kernels::lane_detail
