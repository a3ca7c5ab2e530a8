#pragma once
// Gram matrices of row blocks: the inner kernel of the normal equations and of X'WX in IRLS.
#include <span>

#include <Eigen/Dense>

namespace pwas::kernels {

/// Row-major dense matrix: one observation per row, so gathering kept rows copies contiguous memory.
using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Row stride (allocated columns) for p columns that lets add_gram_lower use whole SIMD packets.
Eigen::Index gram_row_stride(Eigen::Index p);

/// Adds the lower triangle of a'a (the Gram matrix of a block of rows) to the lower triangle of g;
/// register-tiled SIMD when a.outerStride() >= gram_row_stride(a.cols()) (entries past a.cols() in a row
/// are read but never affect g), a plain loop otherwise. `prefetch` (may be empty) is memory to pull into
/// L2 meanwhile, e.g. the rows the next block will gather, so that memory traffic overlaps arithmetic.
void add_gram_lower(Eigen::Ref<Eigen::MatrixXd> g,                                   // [p x p]
                    Eigen::Ref<const RowMatrixXd, 0, Eigen::OuterStride<>> a,       // [m x p]
                    std::span<const double> prefetch = {});

/// eta[t] = a_t' theta for the rows a_t = a + rows[t] * stride (t < m) over all `stride` entries of a row:
/// theta [stride] must be finite (0) where the rows hold padding. `stride` is a multiple of the SIMD width
/// (gram_row_stride). The O(n p) kernel of the chord iteration, reading rows in place (no gather copy).
void rows_dot(const double* a, Eigen::Index stride, const Eigen::Index* rows, Eigen::Index m, const double* theta,
              double* eta);

/// g[0..stride) += sum_{t < m} r[t] a_t for the rows a_t = a + rows[t] * stride, as rows_dot.
void rows_axpy(const double* a, Eigen::Index stride, const Eigen::Index* rows, Eigen::Index m, const double* r,
               double* g);

/// Copies the strict lower triangle of a square matrix onto its upper triangle.
void fill_upper_from_lower(Eigen::Ref<Eigen::MatrixXd> g);    // [p x p]

}  // namespace pwas::kernels
