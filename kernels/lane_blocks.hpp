#pragma once
// The building blocks of a lane pass over a SharedDesign's compressed layout (kernels/lanes.hpp), shared by the
// logistic chord (logistic_lanes.cpp) and the Cox chord (cox_lanes.cpp): eta of a block of rows at every lane's
// theta, and the score sums of one lane vector per row. Per lane, every sum runs in one fixed order: eta_i =
// ((sum_j z_ij theta_j, j ascending) - kappa + the groups' level terms in group order) + theta_v v_i; score sums
// run over rows in ascending order. Tiling (rows in tiles for eta, columns in chunks for the score) changes no
// lane's order of operations.
#include "kernels/logistic_lanes.hpp"

namespace pwas::kernels::lane_detail {

/// Rows per block: a block's eta and per-row lane values stay in L1.
inline constexpr Eigen::Index kBlockRows = 256;

inline Lane broadcast(double x) { return Lane{} + x; }

inline Lane lane_abs(Lane x) {
  Lane out;
  for (int b = 0; b < kLanes; ++b) out[b] = x[b] < 0.0 ? -x[b] : x[b];
  return out;
}

inline Lane lane_max(Lane a, Lane b) {
  Lane out;
  for (int l = 0; l < kLanes; ++l) out[l] = a[l] < b[l] ? b[l] : a[l];
  return out;
}

/// The rows a pass reads: d's compressed rows in d's own order, or a copy in another order (the Cox passes read
/// them in risk-set order). lp.v and lp.mask are indexed in the same order.
struct LaneRows {
  const RowMatrixXd* z = nullptr;     // [n x z stride]
  const LevelCodes* level = nullptr;  // [n x n_groups]
};

inline LaneRows design_rows(const SharedDesign& d) { return {&d.z_rows, &d.level}; }

/// eta [m] of rows [i0, i0 + m) (m <= kBlockRows) at lp's theta; prefetches the next block's rows of z.
void block_eta(const SharedDesign& d, const LaneRows& rows, const LanePass& lp, Eigen::Index i0, Eigen::Index m,
               Lane* eta);

/// score [z stride] += sum_t z_t s_t (dense columns), levels [level rows] += s_t at each group's level row,
/// sv += s_t v_t, over rows [i0, i0 + m).
void block_score(const SharedDesign& d, const LaneRows& rows, const LanePass& lp, Eigen::Index i0, Eigen::Index m,
                 const Lane* s, Lane* score, Lane* levels, Lane& sv);

/// Lane b of lp's theta from theta [n_cov + 1] in design order (column n_cov: v, used when has_v): the dense
/// columns, each group's level terms (code 0 stays 0) and kappa = sum over dummy columns of mean_j theta_j.
void load_theta(const SharedDesign& d, const Eigen::VectorXd& theta, bool has_v, int b, LanePass& lp);

/// A lane that no longer iterates: theta 0, so that it stays finite in the passes that remain.
void park(const SharedDesign& d, int b, LanePass& lp);

/// Lane b of compressed sums (dense, per level, v) as X's sums in design order into out[0 .. n_cov] (out sized by
/// the caller): (X'r)_j = R_j - m_j sum r for a dummy column j, sum r = the intercept's entry.
void unpack(const SharedDesign& d, const std::vector<Lane>& pad, const std::vector<Lane>& levels, double v_entry,
            bool has_v, int b, Eigen::VectorXd& out);

}  // namespace pwas::kernels::lane_detail
