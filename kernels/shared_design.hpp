#pragma once
// The covariate block every fit of one analysis shares (the tensorQTL idea: set it up once, reuse it
// for thousands of fits that differ only in one column and in which rows are complete).
#include <Eigen/Dense>

#include "kernels/gram.hpp"

namespace pwas::kernels {

/// Covariate columns of one analysis, pre-centred for conditioning, with their Gram matrix.
/// Column 0 of the raw input must be the intercept (all ones); the other columns are finite.
struct SharedDesign {
  Eigen::MatrixXd c;        // [n_samples x n_cov] column 0 = 1, columns 1.. centred by their full-sample mean
  Eigen::VectorXd mean;     // [n_cov] the means subtracted (mean(0) = 0)
  Eigen::MatrixXd gram;     // [n_cov x n_cov] c' c over all rows (both triangles filled)
  Eigen::VectorXd abs_max;  // [n_cov] max_i |c(i, j)|, a bound for |x_i' d| used by the separation check
  RowMatrixXd c_rows;       // [n_samples x gram_row_stride(n_cov + 1)] c row-major, zero-padded: the fits
                            // gather kept rows from it as contiguous copies
  Eigen::Index n_samples() const { return c.rows(); }
  Eigen::Index n_cov() const { return c.cols(); }
};

/// Centres columns 1.. of `raw` [n_samples x n_cov] and forms the Gram matrix.
SharedDesign make_shared_design(Eigen::MatrixXd raw);

}  // namespace pwas::kernels
