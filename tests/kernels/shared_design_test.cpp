// make_shared_design: centring, means, the Gram matrix, the column bounds and the compressed layout.
#include "kernels/shared_design.hpp"

#include <gtest/gtest.h>

#include <vector>

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

TEST(SharedDesign, DummyGroupsAndTheCompressedLayoutReproduceTheColumns) {
  // Columns: 1, x, a_B, a_C (a 3-level factor), s (binary, overlaps a_B), y (numeric), b_2, b_3 (another factor).
  Eigen::MatrixXd raw(6, 8);
  raw << 1, 0.5, 0, 0, 1, 2.0, 0, 1,
         1, 1.5, 1, 0, 1, 3.0, 1, 0,
         1, 2.5, 0, 1, 0, 1.0, 0, 0,
         1, 3.5, 1, 0, 0, 7.0, 0, 1,
         1, 4.5, 0, 0, 1, 2.0, 1, 0,
         1, 5.5, 0, 1, 1, 0.0, 0, 0;
  const SharedDesign d = make_shared_design(raw);
  // s overlaps a_B, so it would be a group of its own: a lone 0/1 column is stored dense instead.
  EXPECT_EQ(d.dense_cols, (std::vector<Eigen::Index>{0, 1, 4, 5}));
  ASSERT_EQ(d.groups.size(), 2u);
  EXPECT_EQ(d.groups[0].cols, (std::vector<Eigen::Index>{2, 3}));  // a_B, a_C: disjoint supports
  EXPECT_EQ(d.groups[1].cols, (std::vector<Eigen::Index>{6, 7}));
  EXPECT_EQ(d.groups[1].offset, 3);
  EXPECT_EQ(d.level_rows, 3 + 3);
  // c(i, j) = z(i, k) for dense column j = dense_cols[k]; = 1{level = j} - mean_j for a dummy column j.
  for (Eigen::Index i = 0; i < 6; ++i) {
    for (Eigen::Index k = 0; k < d.n_dense(); ++k) EXPECT_EQ(d.z_rows(i, k), d.c(i, d.dense_cols[static_cast<std::size_t>(k)]));
    for (Eigen::Index k = d.n_dense(); k < d.z_rows.cols(); ++k) EXPECT_EQ(d.z_rows(i, k), 0.0);
    for (std::size_t g = 0; g < d.groups.size(); ++g)
      for (std::size_t l = 0; l < d.groups[g].cols.size(); ++l) {
        const Eigen::Index j = d.groups[g].cols[l];
        const double indicator = d.level(i, static_cast<Eigen::Index>(g)) == l + 1 ? 1.0 : 0.0;
        EXPECT_DOUBLE_EQ(d.c(i, j), indicator - d.mean(j)) << i << " " << j;
        EXPECT_EQ(raw(i, j), indicator);
      }
  }
}

}  // namespace
}  // namespace pwas::kernels

namespace pwas::kernels {
namespace {

// Without c_rows (the linear and logistic plans) the Gram, formed block by block, and the compressed layout are those
// of the full design, and reading the rows is refused. 1,300 rows: the blocks of 512 end in a partial one.
TEST(SharedDesign, WithoutRowMajorCopyTheGramAndLayoutAreTheSame) {
  const Eigen::Index n = 1300;
  Eigen::MatrixXd raw = Eigen::MatrixXd::Random(n, 7);
  raw.col(0).setOnes();
  for (Eigen::Index i = 0; i < n; ++i) {
    raw(i, 1) = 40.0 + static_cast<double>(i % 37);  // a large mean
    const Eigen::Index level = i % 4;                  // a factor of 4 levels: columns 4, 5, 6 its dummies
    for (Eigen::Index k = 0; k < 3; ++k) raw(i, 4 + k) = level == k + 1 ? 1.0 : 0.0;
  }
  const SharedDesign with = make_shared_design(raw, true);
  const SharedDesign without = make_shared_design(raw, false);
  EXPECT_EQ(without.c_rows.rows(), 0);
  EXPECT_EQ(without.c_rows.cols(), with.c_rows.cols());
  EXPECT_THROW(c_rows_of(without), InternalError);
  EXPECT_EQ(c_rows_of(with).rows(), n);
  EXPECT_LT((with.gram - without.gram).cwiseAbs().maxCoeff(), 1e-12 * with.gram.cwiseAbs().maxCoeff());
  EXPECT_EQ(without.gram, without.gram.transpose());
  EXPECT_EQ(with.c, without.c);
  EXPECT_EQ(with.z_rows, without.z_rows);
  EXPECT_EQ(with.level, without.level);
  EXPECT_EQ(with.dense_cols, without.dense_cols);
  ASSERT_EQ(without.groups.size(), 1U);
  const Eigen::MatrixXd gram = without.c.transpose() * without.c;
  EXPECT_LT((without.gram - gram).cwiseAbs().maxCoeff(), 1e-13 * gram.cwiseAbs().maxCoeff());
}

}  // namespace
}  // namespace pwas::kernels
