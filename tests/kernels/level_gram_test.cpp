// The compressed layout's weighted Gram (kernels/level_gram.hpp): level sums that leave out each group's most
// frequent level, completed from the totals and expanded, equal C'WC formed column by column, whichever level is
// the most frequent (the reference or another) and with weights of both signs (Cox's rank terms).
#include "kernels/level_gram.hpp"
#include "kernels/lane_gram.hpp"

#include <gtest/gtest.h>

#include <random>

namespace pwas::kernels {
namespace {

using Eigen::Index;

// 1, two numeric columns, then the dummies of three factors whose most frequent codes are 2, 0 and 4 of 4, 3, 5.
Eigen::MatrixXd factor_design(Index n, std::mt19937_64& gen) {
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  const int levels[3] = {4, 3, 5}, dominant[3] = {2, 0, 4};
  Eigen::MatrixXd raw = Eigen::MatrixXd::Zero(n, 3 + 3 + 2 + 4);
  for (Index i = 0; i < n; ++i) {
    raw(i, 0) = 1.0;
    raw(i, 1) = normal(gen);
    raw(i, 2) = 3.0 + normal(gen);
    Index col = 3;
    for (int f = 0; f < 3; ++f) {
      const int code = unif(gen) < 0.7 ? dominant[f] : static_cast<int>(unif(gen) * levels[f]);
      if (code > 0) raw(i, col + code - 1) = 1.0;
      col += levels[f] - 1;
    }
  }
  return raw;
}

TEST(LevelGram, SkippedLevelsFromTheTotalsGiveCtWC) {
  std::mt19937_64 gen(11);
  const Index n = 400;
  const SharedDesign d = make_shared_design(factor_design(n, gen));
  ASSERT_EQ(d.groups.size(), 3u);
  EXPECT_EQ(d.groups[0].skip, 2);
  EXPECT_EQ(d.groups[1].skip, 0);
  EXPECT_EQ(d.groups[2].skip, 4);
  std::uniform_real_distribution<double> unif(-1.0, 2.0);
  Eigen::VectorXd w(n);
  for (Index i = 0; i < n; ++i) w(i) = unif(gen);

  const Index nz = d.n_dense();
  Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(nz, nz);
  for (Index i = 0; i < n; ++i) dense += w(i) * d.z_rows.row(i).head(nz).transpose() * d.z_rows.row(i).head(nz);
  RowMatrixXd level_sums = RowMatrixXd::Zero(d.level_rows, d.z_rows.cols());
  Eigen::MatrixXd level_cross = Eigen::MatrixXd::Zero(d.level_rows, d.level_rows);
  LevelSortScratch sc;
  size_level_sort(d, n, sc);
  for (Index g = 0; g < 3; ++g)
    add_level_sums(
        d.groups[static_cast<std::size_t>(g)], n, [&](Index i) { return static_cast<Index>(d.level(i, g)); },
        [](Index i) { return i; }, [&](Index i) { return w(i); }, d.z_rows.data(), d.z_rows.cols(), level_sums, sc);
  for (Index i = 0; i < n; ++i) add_level_cross(d, d.level.row(i).data(), w(i), level_cross);
  // The skipped rows are still empty before completion.
  EXPECT_EQ(level_sums.row(d.groups[0].offset + 2).norm(), 0.0);
  complete_level_sums(d, nz, dense, level_sums);

  Eigen::MatrixXd got = Eigen::MatrixXd::Zero(d.n_cov(), d.n_cov());
  expand_level_gram(d, nz, dense, level_sums, level_cross,
                    [&](Index a) { return d.dense_cols[static_cast<std::size_t>(a)]; },
                    [&](Index i, Index j, double x) { (i >= j ? got(i, j) : got(j, i)) = x; });
  const Eigen::MatrixXd want = d.c.transpose() * w.asDiagonal() * d.c;
  const double scale = want.cwiseAbs().maxCoeff();
  for (Index j = 0; j < d.n_cov(); ++j)
    for (Index i = j; i < d.n_cov(); ++i) EXPECT_NEAR(got(i, j), want(i, j), 1e-12 * scale) << i << " " << j;
}

// The lane Gram (kernels/lane_gram.hpp): each lane's [C, v]'W[C, v] over shared rows, with its own v and signed
// weights (0 on rows it leaves out), equals the Gram formed column by column; and a lane's sums are the same to the
// bit whatever the other lanes hold.
TEST(LaneGram, EachLaneGivesItsOwnWeightedGram) {
  std::mt19937_64 gen(12);
  const Index n = 700;  // several row blocks
  const SharedDesign d = make_shared_design(factor_design(n, gen));
  const Index p = d.n_cov() + 1;
  std::uniform_real_distribution<double> unif(-1.0, 2.0);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<Lane> v(static_cast<std::size_t>(n)), w(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i)
    for (int b = 0; b < kLanes; ++b) {
      const bool kept = unif(gen) > -0.7;  // ~10% left out
      w[static_cast<std::size_t>(i)][b] = kept ? unif(gen) : 0.0;
      v[static_cast<std::size_t>(i)][b] = kept ? normal(gen) : 0.0;
    }
  const lane_detail::LaneRows rows = lane_detail::design_rows(d);
  auto run = [&](LaneGram& g) {
    lane_gram_reset(d, g);
    for (Index i0 = 0; i0 < n; i0 += lane_detail::kBlockRows) {
      const Index m = std::min(lane_detail::kBlockRows, n - i0);
      lane_gram_rows(d, rows, v.data() + i0, w.data() + i0, i0, m, g);
    }
  };
  LaneGram g;
  run(g);
  LevelGram scratch;
  for (int b = 0; b < kLanes; ++b) {
    Eigen::MatrixXd x(n, p);
    Eigen::VectorXd wb(n);
    for (Index i = 0; i < n; ++i) {
      x.row(i).head(p - 1) = d.c.row(i);
      x(i, p - 1) = v[static_cast<std::size_t>(i)][b];
      wb(i) = w[static_cast<std::size_t>(i)][b];
    }
    const Eigen::MatrixXd want = x.transpose() * wb.asDiagonal() * x;
    Eigen::MatrixXd got = Eigen::MatrixXd::Zero(p, p);
    lane_gram_add_to(d, g, b, 2.0, scratch, got);
    const double scale = want.cwiseAbs().maxCoeff();
    for (Index j = 0; j < p; ++j)
      for (Index i = j; i < p; ++i) EXPECT_NEAR(got(i, j), 2.0 * want(i, j), 1e-12 * scale) << b << ": " << i << " " << j;
  }
  // Lane 0 alone (the others zero) gives lane 0's sums to the bit.
  for (Index i = 0; i < n; ++i)
    for (int b = 1; b < kLanes; ++b) w[static_cast<std::size_t>(i)][b] = v[static_cast<std::size_t>(i)][b] = 0.0;
  LaneGram alone;
  run(alone);
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(p, p), c = Eigen::MatrixXd::Zero(p, p);
  lane_gram_add_to(d, g, 0, 1.0, scratch, a);
  lane_gram_add_to(d, alone, 0, 1.0, scratch, c);
  EXPECT_EQ(a, c);
}

}  // namespace
}  // namespace pwas::kernels
