#pragma once
// The building blocks of a lane pass over a SharedDesign's compressed layout (kernels/lanes.hpp), shared by the
// logistic chord (logistic_lanes.cpp) and the Cox chord (cox_lanes.cpp): eta of a block of rows at every lane's
// theta, and the score sums of one lane vector per row. Per lane, every sum runs in one fixed order: eta_i =
// ((sum_j z_ij theta_j, j ascending) - kappa + the groups' level terms in group order) + theta_v v_i; score sums
// run over rows in ascending order. Tiling (rows in tiles for eta, columns in chunks for the score) changes no
// lane's order of operations.
#include <bit>

#include "kernels/logistic_lanes.hpp"

namespace pwas::kernels::lane_detail {

/// Rows per block: a block's eta and per-row lane values stay in L1.
inline constexpr Eigen::Index kBlockRows = 256;

/// block_score's level sums go to kLevelSplit copies of the level table, row t of a block (blocks start at
/// multiples of kLevelSplit) to copy t % kLevelSplit; reduce_levels adds the copies in order.
inline constexpr Eigen::Index kLevelSplit = 4;

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

/// exp(x) per lane for x in [-708, 709] (x below is taken as -708: exp then gives 3.3e-308, not 0; the callers
/// weigh or bound such terms away), to within ~1 ulp: x = k ln 2 + r with |r| <= ln 2 / 2 (ln 2 in two parts),
/// exp(r) by its Taylor polynomial of degree 13 (truncation < 1e-17), times 2^k built in the exponent bits. No
/// division, unlike Eigen's rational exp: the logistic lane pass spent a third of its time in exp and 1 / (1 + e).
inline Lane lane_exp(Lane x) {
  using Bits = long long __attribute__((vector_size(kLanes * sizeof(long long))));
  constexpr double kLog2e = 1.4426950408889634074;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // ln 2 to 32 bits: k * kLn2Hi is exact for |k| < 2^21
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  const Lane round = Lane{} + 6755399441055744.0;         // 1.5 * 2^52: adding it rounds to an integer in the low bits
  x = x < -708.0 ? Lane{} - 708.0 : x;
  x = x > 709.0 ? Lane{} + 709.0 : x;
  const Lane t = x * kLog2e + round;
  const Lane k = t - round;
  const Lane r = (x - k * kLn2Hi) - k * kLn2Lo;
  // Horner from 1/13! down to 1.
  constexpr double kInvFactorial[] = {1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
                                      1.0 / 362880.0,     1.0 / 40320.0,     1.0 / 5040.0,     1.0 / 720.0,
                                      1.0 / 120.0,        1.0 / 24.0,        1.0 / 6.0,        0.5,
                                      1.0,                1.0};
  Lane p = Lane{} + kInvFactorial[0];
  for (int j = 1; j < 14; ++j) p = p * r + kInvFactorial[j];
  // 2^k in the exponent bits (k in [-1021, 1023] here: a normal number).
  const Bits kb = std::bit_cast<Bits>(t) - std::bit_cast<Bits>(round);
  const Bits scale = (kb + 1023) << 52;
  return p * std::bit_cast<Lane>(scale);
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

/// score [z stride] += sum_t z_t s_t (dense columns), levels [kLevelSplit x level rows] += s_t at each group's
/// level row of copy t % kLevelSplit, sv += s_t v_t, over rows [i0, i0 + m).
void block_score(const SharedDesign& d, const LaneRows& rows, const LanePass& lp, Eigen::Index i0, Eigen::Index m,
                 const Lane* s, Lane* score, Lane* levels, Lane& sv);

/// out [level_rows] = the sum of split's kLevelSplit copies, copy 0 first.
void reduce_levels(Eigen::Index level_rows, const Lane* split, Lane* out);

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
