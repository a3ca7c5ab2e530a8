#pragma once
// Weighted Grams of up to kLanes fits at once over one set of shared compressed rows (kernels/lanes.hpp): lane b's
// Gram is sum_i w_ib x_ib x_ib' with x_ib = (z_i, v_ib, level codes of row i), z_i the rows' dense columns
// (SharedDesign's compressed layout: column 0 the intercept), v_ib lane b's own column and w_ib its row weights
// (any sign; 0 on rows the lane leaves out). The rows are read once for every lane, and no lane's rows are copied:
// the fits of a batch share the design and differ in their weights. Per lane the sums are those of
// kernels/level_gram.hpp (dense block, level sums, level pairs), assembled into design order by its
// expand_level_gram. Every operation is elementwise over lanes and in a fixed order, so lane b's Gram does not
// depend on the other lanes.
//
// The dense block runs in register tiles of kGramTileA x kGramTileC lane sums: per row, kGramTileA products w z_a,
// then a fused multiply-add per pair with z_c broadcast from memory. Strips of kGramTileA rows end in a square tile
// on the diagonal, so only its upper part is wasted (9% at 32 dense columns; 4 x 6 tiles over whole 36 columns
// wasted 50%). Forming each row's products z_a z_c once for all lanes and broadcasting those instead was slower:
// their stores cost more than the multiplies they save.
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Dense>

#include "kernels/lane_blocks.hpp"
#include "kernels/lanes.hpp"
#include "kernels/level_gram.hpp"
#include "kernels/shared_design.hpp"

namespace pwas::kernels {

/// The dense block's register tiles (rows x columns of lane sums): 4 x 6 with 32 vector registers, 2 x 6 with 16.
inline constexpr Eigen::Index kGramTileA = kVectorRegisters >= 32 ? 4 : 2;
inline constexpr Eigen::Index kGramTileC = 6;

/// Adds sum_t s_t x_t[a] x_t[c] for c <= a < n (n a multiple of kGramTileA; the diagonal tiles also fill some c > a,
/// which nothing reads) to acc [n x n, row-major], over m rows x_t = x + t * stride (T = double: rows shared by the
/// lanes; T = Lane: each lane its own rows). Columns up to n are read: pad them with zeros.
template <class T>
void lane_syrk(const T* x, Eigen::Index stride, Eigen::Index m, const Lane* s, Eigen::Index n, Lane* acc);

/// lane_prefix_gram's flushes: at the e-th flagged row of a block, out[k] += coef[k][e] * (the running sums).
struct PrefixFlush {
  static constexpr int kMaxOut = 3;
  int n_out = 0;
  const Lane* coef[kMaxOut] = {};
  Lane* out[kMaxOut] = {};
};
inline constexpr std::uint8_t kPrefixReset = 1;  // the running sums restart at this row
inline constexpr std::uint8_t kPrefixFlush = 2;  // after this row, flush them

/// Running dense Grams: over m rows z_t (shared), prefix += s_t z_t z_t' (reset to 0 before rows flagged
/// kPrefixReset), and after each row flagged kPrefixFlush, out[k] += coef[k][e] prefix (e counts the block's flushes).
/// prefix and out[k] are [n x n] row-major (lower; tiles as in lane_syrk), prefix carried from block to block.
/// Sums of the form sum_g h_g (sum over rows up to g of s z z') cost one Gram plus the flushes, whatever the
/// number of k: the Cox information's sum_i r_i Lambda_i x x' = sum_g h_g Q_g over its risk-set Grams Q_g.
void lane_prefix_gram(const double* z, Eigen::Index zstride, Eigen::Index m, const Lane* s, const std::uint8_t* flags,
                      const PrefixFlush& fl, Eigen::Index n, Lane* prefix);

/// The sums of kLanes weighted Grams over compressed rows (see above).
struct LaneGram {
  Eigen::Index nd = 0;            // dense columns
  Eigen::Index nd_padded = 0;     // nd rounded up to kGramTileA
  std::vector<Lane> dense;        // [nd_padded x nd_padded] row-major, (a, c) for c <= a: sum w z_a z_c
  std::vector<Lane> dense_v;      // [nd] sum w v z_a
  Lane vv{};                      // sum w v^2
  std::vector<Lane> level_sums;   // [level rows x (nd + 1)] sum over a code's rows of w z, then w v (skipped codes 0)
  std::vector<Lane> level_cross;  // [level rows x level rows] sum of w at the codes of two groups (row: the later)
  std::vector<Lane> wv;           // [kBlockRows] scratch: w v
  std::vector<Eigen::Index> run_rows, run_start;  // scratch: a block's rows sorted by one group's code (then
                                                  // 0, 1, ..., kBlockRows - 1); run ends
};

/// Zeroes g's sums for d (sizing them on first use or when d's layout changes).
void lane_gram_reset(const SharedDesign& d, LaneGram& g);

/// Adds rows [i0, i0 + m) of `rows` (m <= lane_detail::kBlockRows) with lane weights w [m] and lane columns v [m].
/// Without with_dense, all but the dense block (for callers that sum it otherwise, e.g. by lane_prefix_gram).
void lane_gram_rows(const SharedDesign& d, const lane_detail::LaneRows& rows, const Lane* v, const Lane* w,
                    Eigen::Index i0, Eigen::Index m, LaneGram& g, bool with_dense = true);

/// Adds `scale` times lane b's Gram (lower triangle, design order, v at column n_cov) to out [n_cov + 1 x n_cov + 1];
/// scratch holds the lane's sums meanwhile.
void lane_gram_add_to(const SharedDesign& d, const LaneGram& g, int b, double scale, LevelGram& scratch,
                      Eigen::Ref<Eigen::MatrixXd> out);

}  // namespace pwas::kernels
