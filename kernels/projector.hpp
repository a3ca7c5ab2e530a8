#pragma once
// Residualising vectors on the covariates over one fit's kept rows: z -> z - C_a (C_a' W C_a)^{-1} C_a' W z,
// the Frisch–Waugh–Lovell step behind the permutation and bootstrap statistics (kernels/resampling.hpp).
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Dense>

#include "kernels/shared_design.hpp"

namespace pwas::kernels {

/// The projection off the active columns C_a of a SharedDesign on the kept rows, optionally weighted.
class KeptRowProjector {
 public:
  /// Forms and factors C_a' W C_a over rows with keep[i] != 0 (W = diag(w), or I when w is empty). With
  /// `full_gram` (C'WC over every row, same weights) the dropped rows are subtracted from it when fewer than
  /// the kept ones. Returns false when the Gram is not positive definite (reciprocal condition < 1e-12 after
  /// equilibration): the covariates are aliased on these rows.
  bool prepare(const SharedDesign& d,
               std::span<const std::uint8_t> keep,     // [n_samples]
               std::span<const std::uint8_t> active,   // [n_cov] or empty (all)
               std::span<const double> w,              // [n_samples] or empty
               const Eigen::MatrixXd* full_gram);      // [n_cov x n_cov] or null

  /// out = M z on kept rows and 0 elsewhere (z may hold NaN on dropped rows).
  void residualise(Eigen::Ref<const Eigen::VectorXd> z,   // [n_samples]
                   Eigen::Ref<Eigen::VectorXd> out);      // [n_samples]

  /// out[t] = M_t z[t] for prepared projectors of the same design, reading the rows of C once per call rather
  /// than once per column (row chunks stay in cache while every column uses them). A column's result does not
  /// depend on the other columns: residualise() is this with one column.
  static void residualise_many(std::span<KeptRowProjector* const> projectors,
                               std::span<const double* const> z,   // [t][n_samples]
                               std::span<double* const> out);      // [t][n_samples]

  const std::vector<Eigen::Index>& kept_rows() const { return rows_; }

 private:
  const SharedDesign* d_ = nullptr;
  std::span<const double> w_;
  std::vector<Eigen::Index> rows_, dropped_;   // kept / dropped row indices
  std::vector<Eigen::Index> cols_;             // active columns
  Eigen::MatrixXd gram_, sub_;                 // [n_cov x n_cov] lower triangle; [q x q] active, equilibrated
  Eigen::VectorXd scale_, g_, theta_, r_, eta_;
  RowMatrixXd block_;
  Eigen::LLT<Eigen::MatrixXd> llt_;
};

}  // namespace pwas::kernels
