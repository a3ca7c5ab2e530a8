#pragma once
// The Gram matrix X'WX in SharedDesign's compressed layout, expanded: the dense block is summed directly, and a
// dummy column j (level sums S_j = sum over level j's rows of w z, W_j = S_j(0)) is centred by its mean m_j, so
//   e_j'W z = S_j - m_j (sum w z),  e_j'W e_j = (1 - 2 m_j) W_j + m_j^2 W,
//   e_j'W e_k = T_jk - m_k W_j - m_j W_k + m_j m_k W   (T_jk = 0 within a group, the level-pair sum across),
// with W = sum w. Shared by the logistic and Cox kernels.
#include <Eigen/Dense>

#include "kernels/shared_design.hpp"

namespace pwas::kernels {

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

}  // namespace pwas::kernels
