#include "kernels/logistic_lanes.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/assert.hpp"
#include "kernels/lane_blocks.hpp"
#include "kernels/lane_gram.hpp"

// The logistic lane pass: eta and the score sums from kernels/lane_blocks.hpp, residuals y - mu in between.

namespace pwas::kernels {
namespace {

using Eigen::Index;

constexpr Index kBlockRows = lane_detail::kBlockRows;
using lane_detail::block_eta;
using lane_detail::block_score;
using lane_detail::broadcast;
using lane_detail::lane_abs;
using lane_detail::lane_max;

// r = mask (y - mu) from eta, mu = 1 / (1 + e) for eta >= 0 and e / (1 + e) otherwise, e = exp(-|eta|) (lane_exp);
// and the running max of mask |eta|. With kInformation, also each row's weight mask mu (1 - mu) = mask e / (1 + e)^2
// into w and the deviance terms mask (max(eta, 0) + log(1 + e) - y eta) added to dev.
template <bool kInformation>
void block_residuals(const LanePass& lp, const double* y, Index i0, Index m, const Lane* eta, Lane* r, Lane& max_eta,
                     Lane* w = nullptr, Lane* dev = nullptr) {
  for (Index t = 0; t < m; ++t) {
    const Lane a = lane_abs(eta[t]);
    const Lane e = lane_detail::lane_exp(-a);
    const Lane inv = 1.0 / (1.0 + e);
    const Lane mu = eta[t] >= 0.0 ? inv : e * inv;
    const Lane mask = lp.mask[static_cast<std::size_t>(i0 + t)];
    const Lane yt = broadcast(y[i0 + t]);
    r[t] = mask * (yt - mu);
    max_eta = lane_max(max_eta, mask * a);
    if constexpr (kInformation) {
      w[t] = mask * (e * inv * inv);
      Lane log1pe;
      for (int b = 0; b < kLanes; ++b) log1pe[b] = std::log1p(e[b]);
      const Lane pos = eta[t] > 0.0 ? eta[t] : Lane{};
      *dev += mask * (pos + log1pe - yt * eta[t]);
    }
  }
}

}  // namespace

void lane_information_pass(const SharedDesign& d, LanePass& lp, LaneGram& g, Lane& deviance) {
  const Index n = d.n_samples();
  PWAS_ASSERT(static_cast<Index>(lp.y.size()) == n && static_cast<Index>(lp.v.size()) == n && static_cast<Index>(lp.mask.size()) == n);
  std::fill(lp.score_pad.begin(), lp.score_pad.end(), Lane{});
  std::fill(lp.level_score_split.begin(), lp.level_score_split.end(), Lane{});
  lp.score_v = lp.max_abs_eta = Lane{};
  lane_gram_reset(d, g);
  const lane_detail::LaneRows rows = lane_detail::design_rows(d);
  alignas(64) Lane eta[kBlockRows];
  alignas(64) Lane r[kBlockRows];
  alignas(64) Lane w[kBlockRows];
  Lane dev{};
  for (Index i0 = 0; i0 < n; i0 += kBlockRows) {
    const Index m = std::min(kBlockRows, n - i0);
    block_eta(d, rows, lp, i0, m, eta);
    block_residuals<true>(lp, lp.y.data(), i0, m, eta, r, lp.max_abs_eta, w, &dev);
    block_score(d, rows, lp, i0, m, r, lp.score_pad.data(), lp.level_score_split.data(), lp.score_v);
    lane_gram_rows(d, rows, lp.v.data() + i0, w, i0, m, g);
  }
  lane_detail::reduce_levels(d.level_rows, lp.level_score_split.data(), lp.level_score.data());
  deviance = 2.0 * dev;
}

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
  level_score_split.assign(levels * lane_detail::kLevelSplit, Lane{});
  level_cw_split.assign(levels * lane_detail::kLevelSplit, Lane{});
  kappa = theta_v = score_v = max_abs_eta = svv = Lane{};
}

void lane_score_pass(const SharedDesign& d, const double* w0, LanePass& lp) {
  const Index n = d.n_samples();
  PWAS_ASSERT(static_cast<Index>(lp.y.size()) == n && static_cast<Index>(lp.v.size()) == n && static_cast<Index>(lp.mask.size()) == n &&
              static_cast<Index>(lp.theta_pad.size()) == d.z_rows.cols() &&
              static_cast<Index>(lp.theta_levels.size()) == d.level_rows);
  std::fill(lp.score_pad.begin(), lp.score_pad.end(), Lane{});
  std::fill(lp.level_score_split.begin(), lp.level_score_split.end(), Lane{});
  lp.score_v = lp.max_abs_eta = Lane{};
  if (w0 != nullptr) {
    std::fill(lp.cw_pad.begin(), lp.cw_pad.end(), Lane{});
    std::fill(lp.level_cw_split.begin(), lp.level_cw_split.end(), Lane{});
    lp.svv = Lane{};
  }
  const lane_detail::LaneRows rows = lane_detail::design_rows(d);
  alignas(64) Lane eta[kBlockRows];
  alignas(64) Lane r[kBlockRows];
  for (Index i0 = 0; i0 < n; i0 += kBlockRows) {
    const Index m = std::min(kBlockRows, n - i0);
    block_eta(d, rows, lp, i0, m, eta);
    block_residuals<false>(lp, lp.y.data(), i0, m, eta, r, lp.max_abs_eta);
    block_score(d, rows, lp, i0, m, r, lp.score_pad.data(), lp.level_score_split.data(), lp.score_v);
    if (w0 == nullptr) continue;
    for (Index t = 0; t < m; ++t) eta[t] = w0[i0 + t] * lp.v[static_cast<std::size_t>(i0 + t)];  // W0 v
    block_score(d, rows, lp, i0, m, eta, lp.cw_pad.data(), lp.level_cw_split.data(), lp.svv);
  }
  lane_detail::reduce_levels(d.level_rows, lp.level_score_split.data(), lp.level_score.data());
  if (w0 != nullptr) lane_detail::reduce_levels(d.level_rows, lp.level_cw_split.data(), lp.level_cw.data());
}

}  // namespace pwas::kernels
