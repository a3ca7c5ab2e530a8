#include "kernels/projector.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/assert.hpp"
#include "kernels/gram.hpp"

namespace pwas::kernels {
namespace {

using Eigen::Index;
constexpr Index kBlock = 512;          // rows gathered per Gram update
constexpr double kMinRcond = 1e-12;

double norm1_sym(const Eigen::MatrixXd& m) { return m.cwiseAbs().colwise().sum().maxCoeff(); }

}  // namespace

bool KeptRowProjector::prepare(const SharedDesign& d, std::span<const std::uint8_t> keep,
                               std::span<const std::uint8_t> active, std::span<const double> w,
                               const Eigen::MatrixXd* full_gram) {
  const Index n = d.n_samples();
  const Index pc = d.n_cov();
  PWAS_ASSERT(static_cast<Index>(keep.size()) == n && (w.empty() || static_cast<Index>(w.size()) == n));
  d_ = &d;
  w_ = w;
  rows_.clear();
  dropped_.clear();
  for (Index i = 0; i < n; ++i) (keep[i] ? rows_ : dropped_).push_back(i);
  cols_.clear();
  for (Index j = 0; j < pc; ++j)
    if (active.empty() || active[j]) cols_.push_back(j);

  // Gram of the kept rows: the full Gram minus the dropped rows (fewer), or a sum over the kept rows.
  const bool downdate = full_gram != nullptr && dropped_.size() < rows_.size();
  const std::vector<Index>& summed = downdate ? dropped_ : rows_;
  const Index stride = d.c_rows.cols();
  gram_.setZero(pc, pc);
  if (block_.rows() != kBlock || block_.cols() != stride) block_.setZero(kBlock, stride);
  Index t = 0;
  for (Index i : summed) {
    const double s = w.empty() ? 1.0 : std::sqrt(w[static_cast<std::size_t>(i)]);
    block_.row(t) = s * d.c_rows.row(i);
    if (++t == kBlock) {
      add_gram_lower(gram_, block_.leftCols(pc));
      t = 0;
    }
  }
  if (t > 0) add_gram_lower(gram_, block_.topRows(t).leftCols(pc));
  if (downdate) gram_ = full_gram->triangularView<Eigen::Lower>().toDenseMatrix() - gram_;

  const auto q = static_cast<Index>(cols_.size());
  sub_.resize(q, q);
  for (Index k = 0; k < q; ++k)
    for (Index l = 0; l <= k; ++l) sub_(k, l) = sub_(l, k) = gram_(cols_[k], cols_[l]);
  scale_ = sub_.diagonal().cwiseMax(0.0).cwiseSqrt();
  for (Index k = 0; k < q; ++k) {
    if (!(scale_(k) > 0.0)) return false;
    scale_(k) = 1.0 / scale_(k);
  }
  sub_ = scale_.asDiagonal() * sub_ * scale_.asDiagonal();
  const double norm = norm1_sym(sub_);
  llt_.compute(sub_);
  if (llt_.info() != Eigen::Success) return false;
  // Reciprocal condition estimate from the Cholesky factor's diagonal (cheap lower bound on the 2-norm one).
  const auto diag = llt_.matrixLLT().diagonal();
  const double ratio = diag.minCoeff() / diag.maxCoeff();
  return ratio * ratio >= kMinRcond && norm > 0.0;
}

void KeptRowProjector::residualise(Eigen::Ref<const Eigen::VectorXd> z, Eigen::Ref<Eigen::VectorXd> out) {
  const SharedDesign& d = *d_;
  const Index stride = d.c_rows.cols();
  const auto m = static_cast<Index>(rows_.size());
  r_.resize(m);
  for (Index t = 0; t < m; ++t) {
    const Index i = rows_[static_cast<std::size_t>(t)];
    r_(t) = w_.empty() ? z(i) : w_[static_cast<std::size_t>(i)] * z(i);
  }
  g_.setZero(stride);
  rows_axpy(d.c_rows.data(), stride, rows_.data(), m, r_.data(), g_.data());   // C' W z over kept rows
  const auto q = static_cast<Index>(cols_.size());
  Eigen::VectorXd& sol = theta_;
  sol.resize(q);
  for (Index k = 0; k < q; ++k) sol(k) = g_(cols_[static_cast<std::size_t>(k)]) * scale_(k);
  llt_.solveInPlace(sol);
  g_.setZero(stride);
  for (Index k = 0; k < q; ++k) g_(cols_[static_cast<std::size_t>(k)]) = sol(k) * scale_(k);
  eta_.resize(m);
  rows_dot(d.c_rows.data(), stride, rows_.data(), m, g_.data(), eta_.data());  // C gamma over kept rows
  out.setZero();
  for (Index t = 0; t < m; ++t) {
    const Index i = rows_[static_cast<std::size_t>(t)];
    out(i) = z(i) - eta_(t);
  }
}

}  // namespace pwas::kernels
