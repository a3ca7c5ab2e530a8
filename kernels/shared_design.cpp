#include "kernels/shared_design.hpp"

#include "kernels/assert.hpp"
#include "kernels/gram.hpp"

namespace pwas::kernels {

SharedDesign make_shared_design(Eigen::MatrixXd raw) {
  const Eigen::Index n = raw.rows();
  const Eigen::Index p = raw.cols();
  PWAS_ASSERT(n >= 1 && p >= 1);
  PWAS_ASSERT((raw.col(0).array() == 1.0).all());
  PWAS_ASSERT(raw.allFinite());

  SharedDesign d;
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
  d.c_rows.setZero(n, gram_row_stride(p + 1));
  d.c_rows.leftCols(p) = d.c;
  d.gram.setZero(p, p);
  add_gram_lower(d.gram, d.c_rows.leftCols(p));
  fill_upper_from_lower(d.gram);
  return d;
}

}  // namespace pwas::kernels
