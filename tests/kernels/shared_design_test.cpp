// make_shared_design: centring, means, the Gram matrix, and the column bounds.
#include "kernels/shared_design.hpp"

#include <gtest/gtest.h>

#include "kernels/assert.hpp"

namespace pwas::kernels {
namespace {

TEST(SharedDesign, CentresAllButTheInterceptAndFormsTheGram) {
  Eigen::MatrixXd raw(4, 3);
  raw << 1, 10, -1,
         1, 20, 0,
         1, 30, 5,
         1, 40, 0;
  const SharedDesign d = make_shared_design(raw);
  EXPECT_EQ(d.n_samples(), 4);
  EXPECT_EQ(d.n_cov(), 3);
  EXPECT_EQ(d.mean(0), 0.0);
  EXPECT_DOUBLE_EQ(d.mean(1), 25.0);
  EXPECT_DOUBLE_EQ(d.mean(2), 1.0);
  EXPECT_TRUE((d.c.col(0).array() == 1.0).all());
  const Eigen::Vector4d c1{{-15.0, -5.0, 5.0, 15.0}};
  EXPECT_LT((d.c.col(1) - c1).cwiseAbs().maxCoeff(), 1e-14);
  const Eigen::MatrixXd gram = d.c.transpose() * d.c;
  EXPECT_LT((d.gram - gram).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_EQ(d.gram, d.gram.transpose());
  EXPECT_DOUBLE_EQ(d.gram(0, 0), 4.0);
  EXPECT_NEAR(d.gram(1, 0), 0.0, 1e-12);
  EXPECT_DOUBLE_EQ(d.abs_max(1), 15.0);
  EXPECT_DOUBLE_EQ(d.abs_max(2), 4.0);
}

TEST(SharedDesign, RejectsAMissingInterceptOrNonFiniteValues) {
  Eigen::MatrixXd raw = Eigen::MatrixXd::Ones(5, 2);
  raw(2, 0) = 0.0;
  EXPECT_THROW(make_shared_design(raw), InternalError);
  raw(2, 0) = 1.0;
  raw(3, 1) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(make_shared_design(raw), InternalError);
}

}  // namespace
}  // namespace pwas::kernels
