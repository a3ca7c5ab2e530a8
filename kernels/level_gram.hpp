#pragma once
// The Gram matrix X'WX in SharedDesign's compressed layout, expanded: the dense block is summed directly, and a
// dummy column j (level sums S_j = sum over level j's rows of w z, W_j = S_j(0)) is centred by its mean m_j, so
//   e_j'W z = S_j - m_j (sum w z),  e_j'W e_j = (1 - 2 m_j) W_j + m_j^2 W,
//   e_j'W e_k = T_jk - m_k W_j - m_j W_k + m_j m_k W   (T_jk = 0 within a group, the level-pair sum across),
// with W = sum w. Shared by the logistic and Cox kernels.
// Each group's most frequent code (DummyGroup::skip) is left out of the level sums: its S follows from the totals
// (sum over a group's codes of S_c = sum w z), so a group with a dominant level (ethnicity: 94% one level) costs the
// rows outside it.
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Dense>

#include "kernels/gram.hpp"
#include "kernels/shared_design.hpp"

namespace pwas::kernels {

/// Trash slots that the skipped code's entries go to, in turn, instead of a branch (which mispredicts wherever the
/// skipped level is not dominant) or one slot (a chain through store forwarding).
inline constexpr Eigen::Index kLevelTrash = 8;

/// One dummy group's level sums over a block of m entries: sums.row(grp.offset + c) += sum over the entries k of
/// code c of coef(k) x.row(slot_of(k)), for every code c but grp.skip. The entries are counting-sorted by code,
/// then each level's sum runs in registers (rows_axpy): a row-by-row scatter stalls on store forwarding whenever
/// consecutive rows share a level. Within a level, entries keep their block order. sc.start needs the group's codes
/// + 1 + kLevelTrash entries, sc.order and sc.coef m + kLevelTrash.
template <class CodeOf, class SlotOf, class CoefOf>
void add_level_sums(const DummyGroup& grp, Eigen::Index m, CodeOf code_of, SlotOf slot_of, CoefOf coef_of,
                    const double* x, Eigen::Index x_stride, RowMatrixXd& sums, LevelSortScratch& sc) {
  using Eigen::Index;
  const auto n_codes = static_cast<Index>(grp.cols.size()) + 1;
  const Index skip = grp.skip;
  Index* start = sc.start.data();
  // start[c + 1] counts code c; the skipped code counts into start[n_codes + 1 + k % kLevelTrash], past the sums.
  std::fill(start, start + n_codes + 1 + kLevelTrash, Index{0});
  // (Selects by arithmetic: GCC turns the equivalent ?: into a branch.)
  for (Index k = 0; k < m; ++k) {
    const Index c = code_of(k);
    const auto skipped = static_cast<Index>(c == skip);
    ++start[c + 1 + skipped * (n_codes + k % kLevelTrash - c)];
  }
  for (Index c = 0; c < n_codes; ++c) start[c + 1] += start[c];
  // The skipped code's cursors point at trash entries m .. m + kLevelTrash - 1 and stay there.
  for (Index j = 0; j < kLevelTrash; ++j) start[n_codes + 1 + j] = m + j;
  for (Index k = 0; k < m; ++k) {
    const Index c = code_of(k);
    const auto skipped = static_cast<Index>(c == skip);
    Index& cursor = start[c + skipped * (n_codes + 1 + k % kLevelTrash - c)];
    const auto to = static_cast<std::size_t>(cursor);
    cursor += 1 - skipped;
    sc.order[to] = slot_of(k);
    sc.coef[to] = coef_of(k);
  }
  // start[c] is now the end of code c's run.
  for (Index c = 0, first = 0; c < n_codes; first = start[c], ++c)
    if (start[c] > first)
      rows_axpy(x, x_stride, sc.order.data() + first, start[c] - first, sc.coef.data() + first,
                sums.row(grp.offset + c).data());
}

/// Sizes sc for add_level_sums over d's groups in blocks of up to `block` entries.
inline void size_level_sort(const SharedDesign& d, Eigen::Index block, LevelSortScratch& sc) {
  Eigen::Index max_codes = 0;
  for (const DummyGroup& g : d.groups) max_codes = std::max(max_codes, static_cast<Eigen::Index>(g.cols.size()) + 1);
  sc.start.resize(static_cast<std::size_t>(max_codes + 1 + kLevelTrash));
  sc.order.resize(static_cast<std::size_t>(block + kLevelTrash));
  sc.coef.resize(static_cast<std::size_t>(block + kLevelTrash));
}

/// cross(level row of group b, level row of group a) += w for each pair of groups a < b at one row's codes `lev`
/// (every pair of codes: the skipped ones too, which would cost more to select than to add).
inline void add_level_cross(const SharedDesign& d, const std::uint16_t* lev, double w, Eigen::MatrixXd& cross) {
  const auto n_groups = d.groups.size();
  for (std::size_t a = 0; a < n_groups; ++a) {
    double* col = cross.col(d.groups[a].offset + lev[a]).data();
    for (std::size_t b = a + 1; b < n_groups; ++b) col[d.groups[b].offset + lev[b]] += w;
  }
}

/// The accumulators of one compressed weighted Gram: dense columns z (nz of them), level sums, level pairs.
struct LevelGram {
  Eigen::MatrixXd dense;        // [n_dense + 1 x n_dense + 1] sum w z z' (lower; the top-left nz x nz in use)
  RowMatrixXd level_sums;       // [level rows x z stride] sum over a level's rows of w z
  Eigen::MatrixXd level_cross;  // [level rows x level rows] sum of w at two groups' levels
  LevelSortScratch sort;        // a block's rows sorted by level
};

/// Zeroes g for d (one size with and without v: no reallocation) and sizes its sort for blocks of `block` rows.
void level_gram_reset(const SharedDesign& d, Eigen::Index block, LevelGram& g);

/// Adds m rows to g: x's rows [m x >= nz] (row stride x.cols(), zero past nz up to the z stride) are the dense columns of
/// design rows rows[t], already scaled by sqrt_w[t]. `prefetch` (may be empty): memory to pull into L2 meanwhile.
void level_gram_add(const SharedDesign& d, Eigen::Index nz, const Eigen::Index* rows, Eigen::Index m,
                    const double* sqrt_w, const RowMatrixXd& x, std::span<const double> prefetch, LevelGram& g);

/// The lower triangle of the Gram in design order into out [p x p], resized (p = n_cov, plus v when nz = n_dense + 1
/// and col_of gives v's column): completes g's skipped levels first.
template <class ColOf>
void level_gram_assemble(const SharedDesign& d, Eigen::Index nz, Eigen::Index p, ColOf col_of, LevelGram& g,
                         Eigen::MatrixXd& out);

/// Fills in each group's skipped code from the totals: level_sums' row of the skip = dense's column 0 (sum w z over
/// the first nz dense columns; dense lower, column 0 the intercept) minus the group's other rows.
void complete_level_sums(const SharedDesign& d, Eigen::Index nz, const Eigen::MatrixXd& dense, RowMatrixXd& level_sums);

/// Calls put(i, j, value) for every entry of the lower triangle of X'WX in design order: `dense` [nz x nz] (lower)
/// is sum w z z' over the dense columns (column 0 the intercept) and possibly v, `col_of(a)` the design column of
/// dense column a, `level_sums` [level rows x >= nz] and `level_cross` [level rows x level rows] as above.
template <class ColOf, class Put>
void expand_level_gram(const SharedDesign& d, Eigen::Index nz, const Eigen::MatrixXd& dense,
                       const RowMatrixXd& level_sums, const Eigen::MatrixXd& level_cross, ColOf col_of, Put put) {
  using Eigen::Index;
  for (Index b = 0; b < nz; ++b)
    for (Index a = b; a < nz; ++a) put(col_of(a), col_of(b), dense(a, b));
  const double w_all = dense(0, 0);  // z's column 0 is the intercept
  for (std::size_t g = 0; g < d.groups.size(); ++g) {
    const DummyGroup& gj = d.groups[g];
    for (std::size_t k = 0; k < gj.cols.size(); ++k) {
      const Index j = gj.cols[k];
      const Index lj = gj.offset + 1 + static_cast<Index>(k);
      const double mj = d.mean(j);
      const double wj = level_sums(lj, 0);
      for (Index b = 0; b < nz; ++b) put(j, col_of(b), level_sums(lj, b) - mj * dense(b, 0));
      put(j, j, (1.0 - 2.0 * mj) * wj + mj * mj * w_all);
      for (std::size_t h = 0; h <= g; ++h) {
        const DummyGroup& gk = d.groups[h];
        for (std::size_t l = 0; l < gk.cols.size(); ++l) {
          const Index kk = gk.cols[l];
          if (kk >= j) break;
          const Index lk = gk.offset + 1 + static_cast<Index>(l);
          const double mk = d.mean(kk);
          const double wk = level_sums(lk, 0);
          const double cross = h == g ? 0.0 : level_cross(lj, lk);
          put(j, kk, cross - mk * wj - mj * wk + mj * mk * w_all);
        }
      }
    }
  }
}

template <class ColOf>
void level_gram_assemble(const SharedDesign& d, Eigen::Index nz, Eigen::Index p, ColOf col_of, LevelGram& g,
                         Eigen::MatrixXd& out) {
  complete_level_sums(d, nz, g.dense, g.level_sums);
  out.resize(p, p);
  auto put = [&](Eigen::Index i, Eigen::Index j, double v) {
    if (i >= j) out(i, j) = v;
    else out(j, i) = v;
  };
  expand_level_gram(d, nz, g.dense, g.level_sums, g.level_cross, col_of, put);
}

}  // namespace pwas::kernels
