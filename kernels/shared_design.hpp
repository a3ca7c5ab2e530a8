#pragma once
// The covariate block every fit of one analysis shares (the tensorQTL idea: set it up once, reuse it
// for thousands of fits that differ only in one column and in which rows are complete).
#include <cstdint>
#include <vector>

#include <Eigen/Dense>

#include "kernels/gram.hpp"

namespace pwas::kernels {

/// One level code per row and dummy group (row-major: a row's codes are contiguous).
using LevelCodes = Eigen::Matrix<std::uint16_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Columns of the design that are 0/1 indicators with disjoint supports (the dummies of one categorical
/// covariate, or a lone binary covariate): stored as one level code per row instead of as columns.
struct DummyGroup {
  std::vector<Eigen::Index> cols;  // [n_levels] design column of level code 1, 2, ... (code 0: none is 1)
  Eigen::Index offset = 0;         // row of code 0 in the tables stacked over all groups (level_rows)
  std::uint16_t skip = 0;          // the most frequent code: weighted Grams sum every level but this one and
                                   // derive its sums from the totals (kernels/level_gram.hpp)
};

/// Scratch of add_level_sums (kernels/level_gram.hpp), sized by the caller: start [largest code count + 1], order
/// and coef [block rows].
struct LevelSortScratch {
  std::vector<Eigen::Index> start, order;
  std::vector<double> coef;
};

/// Covariate columns of one analysis, pre-centred for conditioning, with their Gram matrix.
/// Column 0 of the raw input must be the intercept (all ones); the other columns are finite.
struct SharedDesign {
  Eigen::MatrixXd c;        // [n_samples x n_cov] column 0 = 1, columns 1.. centred by their full-sample mean
  Eigen::VectorXd mean;     // [n_cov] the means subtracted (mean(0) = 0)
  Eigen::MatrixXd gram;     // [n_cov x n_cov] c' c over all rows (both triangles filled)
  Eigen::VectorXd abs_max;  // [n_cov] max_i |c(i, j)|, a bound for |x_i' d| used by the separation check
  RowMatrixXd c_rows;       // [n_samples x gram_row_stride(n_cov + 1)] c row-major, zero-padded: the fits
                            // gather kept rows from it as contiguous copies. Only with_c_rows (Cox, the
                            // resampling projections); else [0 x stride], its column count still the row stride.
                            // Read its rows through c_rows_of.
  // Compressed layout (REGENIE's "masks instead of copies"): c_ij = d_ij - mean_j for a dummy column, so a
  // row is its dense columns plus one level code per group, and X'WX, X'r and X theta need per-level sums
  // instead of O(n_dummies) work per row. The logistic fits stream this (~40% fewer bytes and ~3x fewer
  // Gram flops at 35 numeric + 28 dummy columns).
  std::vector<Eigen::Index> dense_cols;  // [n_dense] columns stored densely, ascending; dense_cols[0] = 0
  RowMatrixXd z_rows;       // [n_samples x gram_row_stride(n_dense + 1)] those columns of c, zero-padded
                            // (a spare column for the fit's own column v)
  std::vector<DummyGroup> groups;
  LevelCodes level;         // [n_samples x n_groups]
  Eigen::Index level_rows = 0;  // sum over groups of (n_levels + 1)

  Eigen::Index n_samples() const { return c.rows(); }
  Eigen::Index n_cov() const { return c.cols(); }
  Eigen::Index n_dense() const { return static_cast<Eigen::Index>(dense_cols.size()); }
};

/// An upper bound on max_i |c_i' delta| over the rows of d (delta in design order, entries [0, n_cov)): the dense
/// columns' |delta_j| max_i |c_ij| summed, plus per dummy group the largest of |delta_l - kappa| over its levels l
/// and |kappa| (its reference level), kappa = sum over the group's columns of m_j delta_j. A row has one level per
/// group, so a group adds one of those values, where summing |delta_j| max |c_ij| over its columns would add all.
double max_abs_row_bound(const SharedDesign& d, const double* delta);

/// Centres columns 1.. of `raw` [n_samples x n_cov], forms the Gram matrix and the compressed layout
/// (dummy groups: consecutive 0/1 columns, other than the intercept, with at most one 1 per row). with_c_rows: also
/// store c row-major (c_rows; the linear and logistic fits do not read it: 21 MB and ~15 ms at 37,000 x 64).
SharedDesign make_shared_design(Eigen::MatrixXd raw, bool with_c_rows = true);

/// d.c_rows, checked to be stored (make_shared_design with_c_rows).
const RowMatrixXd& c_rows_of(const SharedDesign& d);

}  // namespace pwas::kernels
