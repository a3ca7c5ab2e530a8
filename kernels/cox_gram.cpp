// Weighted Gram of a fit's kept rows in SharedDesign's compressed layout (the logistic kernel's idea, see
// logistic.cpp): a row is its dense columns z (intercept, numeric covariates, v) plus one level code per dummy
// group, and with c_j = 1{level = j} - m_j for a dummy column j (W = sum w, S_j = sum over level j's rows of w z,
// W_j = S_j(0), T_jk = sum of w over rows at levels j and k of two groups):
//   sum w z z'           the dense Gram (register-tiled, rows scaled by sqrt|w|, signs apart)
//   S_j                  per block: rows counting-sorted by level, then rows_axpy per level (each group's most
//                        frequent level from the totals, kernels/level_gram.hpp)
//   sum w c_j z          = S_j - m_j sum w z
//   sum w c_j c_j        = (1 - 2 m_j) W_j + m_j^2 W
//   sum w c_j c_k        = T_jk - m_k W_j - m_j W_k + m_j m_k W     (T_jk = 0 within a group)
// At 31 numeric and 28 dummy columns the dense Gram has 33 instead of 61 columns: ~3x fewer flops.
#include <algorithm>
#include <cmath>

#include "kernels/assert.hpp"
#include "kernels/cox_detail.hpp"
#include "kernels/level_gram.hpp"

namespace pwas::kernels::cox_detail {

using Eigen::Index;

void gram_begin(const Problem& pr, CoxGramSums& acc, CoxWorkspace& ws) {
  const SharedDesign& d = pr.d;
  const Index nz = d.n_dense() + 1;       // dense columns and v
  const Index zstride = d.z_rows.cols();  // > n_dense: room for v
  if (ws.zs.rows() != kGramBlock || ws.zs.cols() != zstride) {
    ws.zs.setZero(kGramBlock, zstride);
    ws.blk_slot.resize(kGramBlock);
    ws.blk_t.resize(kGramBlock);
    ws.blk_coef.resize(kGramBlock);
  }
  // Every call: a workspace may serve designs of the same width but other level groups (no allocation once the
  // vectors have the capacity).
  size_level_sort(d, kGramBlock, ws.level_sort);
  acc.dense_pos.setZero(nz, nz);
  acc.dense_neg.setZero(nz, nz);
  acc.level_sums.setZero(d.level_rows, zstride);
  acc.level_cross.setZero(d.level_rows, d.level_rows);
}

void gram_rows(const Problem& pr, const double* w, Index t0, Index t1, CoxGramSums& acc, CoxWorkspace& ws) {
  const SharedDesign& d = pr.d;
  const Index nz = d.n_dense() + 1;
  const Index zstride = d.z_rows.cols();
  const auto n_groups = static_cast<Index>(d.groups.size());
  PWAS_ASSERT(t1 - t0 <= kGramBlock);
  // Rows of positive weight fill the block from the top, negative ones from the bottom, scaled by sqrt|w|:
  // z = the dense columns and v of kept row t, the first nz entries of its compressed row in xk.
  Index np = 0, nn = 0, m = 0;
  for (Index t = t0; t < t1; ++t) {
    const double wt = w[t];
    if (wt == 0.0) continue;
    const double sw = std::sqrt(std::abs(wt));
    const Index slot = wt > 0.0 ? np++ : kGramBlock - 1 - nn++;
    const double* x = ws.xk.row(t).data();
    double* z = ws.zs.row(slot).data();
    for (Index a = 0; a < nz; ++a) z[a] = sw * x[a];
    ws.blk_slot[static_cast<std::size_t>(m)] = slot;
    ws.blk_coef(m) = wt > 0.0 ? sw : -sw;  // coef * (sqrt|w| z) = w z
    ws.blk_t[static_cast<std::size_t>(m)] = t;
    ++m;
    if (n_groups > 1) add_level_cross(d, ws.lk.row(t).data(), wt, acc.level_cross);
  }
  if (np > 0) add_gram_lower(acc.dense_pos, ws.zs.topRows(np).leftCols(nz));
  if (nn > 0) add_gram_lower(acc.dense_neg, ws.zs.bottomRows(nn).leftCols(nz));
  // Level sums S_j += w z (kernels/level_gram.hpp; gram_end fills in each group's most frequent level).
  for (Index a = 0; a < n_groups; ++a)
    add_level_sums(
        d.groups[static_cast<std::size_t>(a)], m,
        [&](Index k) { return static_cast<Index>(ws.lk(ws.blk_t[static_cast<std::size_t>(k)], a)); },
        [&](Index k) { return ws.blk_slot[static_cast<std::size_t>(k)]; }, [&](Index k) { return ws.blk_coef(k); },
        ws.zs.data(), zstride, acc.level_sums, ws.level_sort);
}

void gram_end(const Problem& pr, CoxGramSums& acc, Eigen::Ref<Eigen::MatrixXd> g) {
  const SharedDesign& d = pr.d;
  const Index n_dense = d.n_dense();
  acc.dense_pos.triangularView<Eigen::Lower>() -= acc.dense_neg;
  complete_level_sums(d, n_dense + 1, acc.dense_pos, acc.level_sums);
  // Assemble into the lower triangle of g in design order (v at n_cov).
  auto col_of = [&](Index a) { return a < n_dense ? d.dense_cols[static_cast<std::size_t>(a)] : d.n_cov(); };
  auto add = [&](Index i, Index j, double x) {
    if (i >= j) g(i, j) += x;
    else g(j, i) += x;
  };
  expand_level_gram(d, n_dense + 1, acc.dense_pos, acc.level_sums, acc.level_cross, col_of, add);
}

void compressed_gram(const Problem& pr, const double* w, Eigen::Ref<Eigen::MatrixXd> g, CoxWorkspace& ws) {
  CoxGramSums& acc = ws.gram_sums[0];
  gram_begin(pr, acc, ws);
  for (Index t0 = 0; t0 < pr.n_obs; t0 += kGramBlock) gram_rows(pr, w, t0, std::min(t0 + kGramBlock, pr.n_obs), acc, ws);
  gram_end(pr, acc, g);
}

}  // namespace pwas::kernels::cox_detail
