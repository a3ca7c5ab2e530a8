// add_gram_lower against the naive product for every tile-edge shape, padded and unpadded rows.
#include "kernels/gram.hpp"

#include <gtest/gtest.h>

#include <Eigen/Dense>

namespace pwas::kernels {
namespace {

void expect_lower_gram(Eigen::Index m, Eigen::Index p, Eigen::Index stride) {
  const RowMatrixXd storage = RowMatrixXd::Random(m, stride);  // padding holds nonzero junk on purpose
  const auto a = storage.leftCols(p);
  Eigen::MatrixXd g = Eigen::MatrixXd::Constant(p, p, 7.0);  // accumulates onto existing values
  add_gram_lower(g, a);
  const Eigen::MatrixXd expected = a.transpose() * a;
  for (Eigen::Index j = 0; j < p; ++j)
    for (Eigen::Index i = 0; i < p; ++i) {
      if (i >= j)
        ASSERT_NEAR(g(i, j), 7.0 + expected(i, j), 1e-12 * (1.0 + static_cast<double>(m)))
            << "m " << m << " p " << p << " stride " << stride << " (" << i << "," << j << ")";
      else
        ASSERT_EQ(g(i, j), 7.0) << "upper triangle touched";
    }
}

TEST(Gram, LowerTriangleMatchesNaiveForAllShapes) {
  for (const Eigen::Index p : {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 24, 25, 63, 64, 65})
    for (const Eigen::Index m : {0, 1, 7, 8, 9, 31, 513, 1100}) {
      expect_lower_gram(m, p, gram_row_stride(p));
      expect_lower_gram(m, p, p);  // unpadded: the plain loop
    }
}

TEST(Gram, RowStrideIsAPacketMultiple) {
  for (Eigen::Index p = 1; p < 70; ++p) {
    EXPECT_GE(gram_row_stride(p), p);
    EXPECT_LT(gram_row_stride(p), p + 8);
    EXPECT_EQ(gram_row_stride(gram_row_stride(p)), gram_row_stride(p));
  }
}

TEST(Gram, FillUpperFromLower) {
  Eigen::MatrixXd g = Eigen::MatrixXd::Random(5, 5);
  fill_upper_from_lower(g);
  EXPECT_EQ(g, g.transpose());
}

}  // namespace
}  // namespace pwas::kernels
