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
    block_.row(t) = s * c_rows_of(d).row(i);
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
  KeptRowProjector* self = this;
  const double* zp = z.data();
  double* op = out.data();
  PWAS_ASSERT(z.innerStride() == 1 && out.innerStride() == 1);
  residualise_many({&self, 1}, {&zp, 1}, {&op, 1});
}

void KeptRowProjector::residualise_many(std::span<KeptRowProjector* const> projectors,
                                        std::span<const double* const> z, std::span<double* const> out) {
  PWAS_ASSERT(projectors.size() == z.size() && z.size() == out.size());
  if (projectors.empty()) return;
  const SharedDesign& d = *projectors[0]->d_;
  const Index n = d.n_samples();
  const Index stride = d.c_rows.cols();
  const std::size_t k = projectors.size();
  std::vector<std::size_t> cursor(k);
  for (std::size_t t = 0; t < k; ++t) {
    KeptRowProjector& p = *projectors[t];
    PWAS_ASSERT(p.d_ == &d);
    const auto m = static_cast<Index>(p.rows_.size());
    p.r_.resize(m);
    p.eta_.resize(m);
    for (Index u = 0; u < m; ++u) {
      const Index i = p.rows_[static_cast<std::size_t>(u)];
      p.r_(u) = p.w_.empty() ? z[t][i] : p.w_[static_cast<std::size_t>(i)] * z[t][i];
    }
    p.g_.setZero(stride);
  }
  // Rows of C per chunk: 256 rows x 64 columns = 128 KB, reused by every column while in L2. The chunk
  // boundaries are fixed multiples of kChunk, so a column's sums never depend on how columns are grouped.
  constexpr Index kChunk = 256;
  auto sweep = [&](auto&& body) {
    std::fill(cursor.begin(), cursor.end(), 0);
    for (Index r0 = 0; r0 < n; r0 += kChunk) {
      const Index r1 = std::min(n, r0 + kChunk);
      for (std::size_t t = 0; t < k; ++t) {
        const auto& rows = projectors[t]->rows_;
        std::size_t end = cursor[t];
        while (end < rows.size() && rows[end] < r1) ++end;
        if (end > cursor[t]) body(*projectors[t], cursor[t], static_cast<Index>(end - cursor[t]));
        cursor[t] = end;
      }
    }
  };
  sweep([&](KeptRowProjector& p, std::size_t first, Index m) {   // g = C' W z over kept rows
    rows_axpy(c_rows_of(d).data(), stride, p.rows_.data() + first, m, p.r_.data() + static_cast<Index>(first), p.g_.data());
  });
  for (std::size_t t = 0; t < k; ++t) {
    KeptRowProjector& p = *projectors[t];
    const auto q = static_cast<Index>(p.cols_.size());
    p.theta_.resize(q);
    for (Index c = 0; c < q; ++c) p.theta_(c) = p.g_(p.cols_[static_cast<std::size_t>(c)]) * p.scale_(c);
    p.llt_.solveInPlace(p.theta_);
    p.g_.setZero(stride);
    for (Index c = 0; c < q; ++c) p.g_(p.cols_[static_cast<std::size_t>(c)]) = p.theta_(c) * p.scale_(c);
  }
  sweep([&](KeptRowProjector& p, std::size_t first, Index m) {   // eta = C gamma over kept rows
    rows_dot(c_rows_of(d).data(), stride, p.rows_.data() + first, m, p.g_.data(), p.eta_.data() + static_cast<Index>(first));
  });
  for (std::size_t t = 0; t < k; ++t) {
    KeptRowProjector& p = *projectors[t];
    std::fill(out[t], out[t] + n, 0.0);
    for (std::size_t u = 0; u < p.rows_.size(); ++u) {
      const Index i = p.rows_[u];
      out[t][i] = z[t][i] - p.eta_(static_cast<Index>(u));
    }
  }
}

}  // namespace pwas::kernels
