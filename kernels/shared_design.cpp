#include "kernels/shared_design.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/assert.hpp"
#include "kernels/gram.hpp"
#include "kernels/huge_pages.hpp"

namespace pwas::kernels {

const RowMatrixXd& c_rows_of(const SharedDesign& d) {
  PWAS_ASSERT(d.c_rows.rows() == d.n_samples());
  return d.c_rows;
}

SharedDesign make_shared_design(Eigen::MatrixXd raw, bool with_c_rows) {
  const Eigen::Index n = raw.rows();
  const Eigen::Index p = raw.cols();
  PWAS_ASSERT(n >= 1 && p >= 1);
  PWAS_ASSERT((raw.col(0).array() == 1.0).all());
  PWAS_ASSERT(raw.allFinite());

  SharedDesign d;
  // Dummy groups, from the raw 0/1 values: a column joins the open group when no row has a 1 in both.
  std::vector<std::uint8_t> taken(static_cast<std::size_t>(n), 0);
  for (Eigen::Index j = 1; j < p; ++j) {
    const auto col = raw.col(j).array();
    const bool binary = ((col == 0.0) || (col == 1.0)).all();
    if (!binary) {
      d.dense_cols.push_back(j);
      continue;
    }
    bool disjoint = !d.groups.empty() && d.groups.back().cols.back() == j - 1 &&
                    d.groups.back().cols.size() < std::numeric_limits<std::uint16_t>::max();
    for (Eigen::Index i = 0; disjoint && i < n; ++i) disjoint = !(taken[static_cast<std::size_t>(i)] && col(i) == 1.0);
    if (!disjoint) {
      d.groups.emplace_back();
      std::fill(taken.begin(), taken.end(), 0);
    }
    d.groups.back().cols.push_back(j);
    for (Eigen::Index i = 0; i < n; ++i)
      if (col(i) == 1.0) taken[static_cast<std::size_t>(i)] = 1;
  }
  // A lone 0/1 column (a binary covariate) is cheaper dense: as a group it costs a level pass and a pair of level
  // sums with every other group per row in X'WX, as a dense column one more column of the Gram tiles.
  std::erase_if(d.groups, [&](const DummyGroup& g) {
    if (g.cols.size() != 1) return false;
    d.dense_cols.push_back(g.cols[0]);
    return true;
  });
  d.dense_cols.insert(d.dense_cols.begin(), 0);
  std::sort(d.dense_cols.begin(), d.dense_cols.end());
  const auto n_groups = static_cast<Eigen::Index>(d.groups.size());
  d.level.setZero(n, n_groups);
  for (Eigen::Index g = 0; g < n_groups; ++g) {
    DummyGroup& grp = d.groups[static_cast<std::size_t>(g)];
    grp.offset = d.level_rows;
    d.level_rows += static_cast<Eigen::Index>(grp.cols.size()) + 1;
    for (std::size_t k = 0; k < grp.cols.size(); ++k)
      for (Eigen::Index i = 0; i < n; ++i)
        if (raw(i, grp.cols[k]) == 1.0) d.level(i, g) = static_cast<std::uint16_t>(k + 1);
    std::vector<Eigen::Index> count(grp.cols.size() + 1, 0);
    for (Eigen::Index i = 0; i < n; ++i) ++count[d.level(i, g)];
    grp.skip = static_cast<std::uint16_t>(std::max_element(count.begin(), count.end()) - count.begin());
  }

  d.mean.setZero(p);
  for (Eigen::Index j = 1; j < p; ++j) {
    // Two passes: the second removes what rounding left of the mean after the first, so the centred
    // columns sum to (nearly) zero and the kept-row means used by the fits stay tiny.
    auto col = raw.col(j);
    const double m1 = col.mean();
    col.array() -= m1;
    const double m2 = col.mean();
    col.array() -= m2;
    d.mean(j) = m1 + m2;
  }
  d.c = std::move(raw);
  d.abs_max.resize(p);
  for (Eigen::Index j = 0; j < p; ++j) d.abs_max(j) = d.c.col(j).cwiseAbs().maxCoeff();
  // One spare column so a fit can append its varying column to a gathered row without re-padding.
  const Eigen::Index row_stride = gram_row_stride(p + 1);
  if (with_c_rows) {
    d.c_rows.setZero(n, row_stride);
    d.c_rows.leftCols(p) = d.c;
  } else {
    d.c_rows.resize(0, row_stride);
  }
  // The fits gather scattered rows of z (a protein's missing rows): 2 MB pages spare most of their TLB misses.
  d.z_rows.resize(n, gram_row_stride(d.n_dense() + 1));
  advise_huge_pages(d.z_rows.data(), static_cast<std::size_t>(d.z_rows.size()) * sizeof(double));
  d.z_rows.setZero();
  for (Eigen::Index k = 0; k < d.n_dense(); ++k) d.z_rows.col(k) = d.c.col(d.dense_cols[static_cast<std::size_t>(k)]);
  d.gram.setZero(p, p);
  if (with_c_rows) {
    add_gram_lower(d.gram, d.c_rows.leftCols(p));
  } else {
    // The same kernel over row-major blocks of c formed one at a time.
    constexpr Eigen::Index kRows = 512;
    RowMatrixXd block = RowMatrixXd::Zero(kRows, row_stride);
    for (Eigen::Index i0 = 0; i0 < n; i0 += kRows) {
      const Eigen::Index m = std::min(kRows, n - i0);
      block.topLeftCorner(m, p) = d.c.middleRows(i0, m);
      add_gram_lower(d.gram, block.topLeftCorner(m, p));
    }
  }
  fill_upper_from_lower(d.gram);
  return d;
}

double max_abs_row_bound(const SharedDesign& d, const double* delta) {
  double bound = 0.0;
  for (const Eigen::Index j : d.dense_cols) bound += std::abs(delta[j]) * d.abs_max(j);
  for (const DummyGroup& g : d.groups) {
    double kappa = 0.0;
    for (const Eigen::Index j : g.cols) kappa += d.mean(j) * delta[j];
    double group = std::abs(kappa);
    for (const Eigen::Index j : g.cols) group = std::max(group, std::abs(delta[j] - kappa));
    bound += group;
  }
  return bound;
}

}  // namespace pwas::kernels
