#include "kernels/level_gram.hpp"

namespace pwas::kernels {

using Eigen::Index;

void complete_level_sums(const SharedDesign& d, Index nz, const Eigen::MatrixXd& dense, RowMatrixXd& level_sums) {
  // S_skip = sum w z - sum over the group's other codes of S_c.
  for (const DummyGroup& g : d.groups) {
    const auto n_codes = static_cast<Index>(g.cols.size()) + 1;
    for (Index a = 0; a < nz; ++a) {
      double rest = 0.0;
      for (Index c = 0; c < n_codes; ++c)
        if (c != g.skip) rest += level_sums(g.offset + c, a);
      level_sums(g.offset + g.skip, a) = dense(a, 0) - rest;
    }
  }
}

void level_gram_reset(const SharedDesign& d, Index block, LevelGram& g) {
  g.dense.setZero(d.n_dense() + 1, d.n_dense() + 1);
  g.level_sums.setZero(d.level_rows, d.z_rows.cols());
  g.level_cross.setZero(d.level_rows, d.level_rows);
  size_level_sort(d, block, g.sort);
}

void level_gram_add(const SharedDesign& d, Index nz, const Index* rows, Index m, const double* sqrt_w,
                    const RowMatrixXd& x, std::span<const double> prefetch, LevelGram& g) {
  add_gram_lower(g.dense.topLeftCorner(nz, nz), x.topRows(m).leftCols(nz), prefetch);
  const auto n_groups = static_cast<Index>(d.groups.size());
  for (Index a = 0; a < n_groups; ++a)
    add_level_sums(
        d.groups[static_cast<std::size_t>(a)], m, [&](Index t) { return static_cast<Index>(d.level(rows[t], a)); },
        [](Index t) { return t; }, [&](Index t) { return sqrt_w[t]; }, x.data(), x.cols(), g.level_sums, g.sort);
  if (n_groups < 2) return;
  for (Index t = 0; t < m; ++t) add_level_cross(d, d.level.row(rows[t]).data(), sqrt_w[t] * sqrt_w[t], g.level_cross);
}

}  // namespace pwas::kernels
