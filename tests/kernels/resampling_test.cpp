#include "kernels/resampling.hpp"

#include <cmath>
#include <numeric>

#include <gtest/gtest.h>

#include "kernels/projector.hpp"
#include "kernels/random_stream.hpp"
#include "kernels/shared_design.hpp"

namespace pwas::kernels {
namespace {

TEST(SharedPermutation, IsAPermutationKeyedByReplicateOnly) {
  std::vector<std::uint32_t> a(1000), b(1000), c(1000);
  shared_permutation(5, 17, a);
  shared_permutation(5, 17, b);
  shared_permutation(5, 18, c);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::vector<std::uint32_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (std::uint32_t i = 0; i < 1000; ++i) ASSERT_EQ(sorted[i], i);
}

TEST(SharedPermutation, EveryPositionIsUniform) {
  // Where item 0 lands over 20,000 permutations of 10: each position 2,000 times, chi-square 9 df.
  std::vector<int> count(10, 0);
  std::vector<std::uint32_t> o(10);
  for (std::uint64_t r = 0; r < 20000; ++r) {
    shared_permutation(1, r, o);
    for (int i = 0; i < 10; ++i)
      if (o[static_cast<std::size_t>(i)] == 0) ++count[static_cast<std::size_t>(i)];
  }
  double chi2 = 0.0;
  for (int c : count) chi2 += (c - 2000.0) * (c - 2000.0) / 2000.0;
  EXPECT_LT(chi2, 27.9);   // 0.999 quantile of chi-square(9)
}

TEST(PoissonWeights, HaveMeanAndVarianceOne) {
  std::vector<double> w(200000);
  poisson_weights(3, 0, w);
  const double mean = std::accumulate(w.begin(), w.end(), 0.0) / static_cast<double>(w.size());
  double var = 0.0;
  for (double x : w) var += (x - mean) * (x - mean);
  var /= static_cast<double>(w.size() - 1);
  EXPECT_NEAR(mean, 1.0, 0.01);
  EXPECT_NEAR(var, 1.0, 0.02);
  const double zeros = static_cast<double>(std::count(w.begin(), w.end(), 0.0)) / static_cast<double>(w.size());
  EXPECT_NEAR(zeros, std::exp(-1.0), 0.005);
}

TEST(HalfSplit, SplitsEachStratumInHalves) {
  std::vector<std::int32_t> stratum(101);
  for (std::size_t i = 0; i < stratum.size(); ++i) stratum[i] = i < 11 ? 1 : 0;
  stratum[50] = -1;
  std::vector<double> sign(stratum.size());
  half_split(9, 4, stratum, sign);
  int a0 = 0, a1 = 0, b0 = 0, b1 = 0;
  for (std::size_t i = 0; i < sign.size(); ++i) {
    if (stratum[i] < 0) {
      EXPECT_EQ(sign[i], 0.0);
      continue;
    }
    (stratum[i] ? (sign[i] > 0 ? a1 : b1) : (sign[i] > 0 ? a0 : b0))++;
  }
  EXPECT_EQ(a0 + b0, 89);
  EXPECT_LE(std::abs(a0 - b0), 1);
  EXPECT_EQ(a1 + b1, 11);
  EXPECT_LE(std::abs(a1 - b1), 1);
}

TEST(PermutationP, CountsTheObservedAsAReplicate) {
  EXPECT_DOUBLE_EQ(permutation_p(0, 999, false), 1.0 / 1000.0);
  EXPECT_DOUBLE_EQ(permutation_p(10, 40, true), 0.25);
}

TEST(PartialT, MatchesTheRegressionT) {
  // y ~ x with intercept on 6 points: the t of x from lm equals the partial correlation form with df = 4.
  Eigen::VectorXd x(6), y(6);
  x << 1, 2, 3, 4, 5, 7;
  y << 1.2, 1.9, 3.4, 3.8, 5.1, 6.6;
  const Eigen::VectorXd ex = x.array() - x.mean(), ey = y.array() - y.mean();
  const double b = ex.dot(ey) / ex.squaredNorm();
  const Eigen::VectorXd res = ey - b * ex;
  const double se = std::sqrt(res.squaredNorm() / 4.0 / ex.squaredNorm());
  EXPECT_NEAR(partial_t(ex.dot(ey), ex.squaredNorm(), ey.squaredNorm(), 4.0), b / se, 1e-12);
}

TEST(BootstrapInterval, PercentileAndBcaOnASymmetricSample) {
  std::vector<double> boot(10001);
  RandomStream rs(2);
  for (double& x : boot) x = 1.0 + 0.5 * rs.normal();
  std::vector<double> copy = boot;
  const Interval p = bootstrap_interval(boot, 1.0, false, 0.0);
  EXPECT_NEAR(p.lower, 1.0 - 1.96 * 0.5, 0.03);
  EXPECT_NEAR(p.upper, 1.0 + 1.96 * 0.5, 0.03);
  const Interval b = bootstrap_interval(copy, 1.0, true, 0.0);
  EXPECT_NEAR(b.lower, p.lower, 0.03);
  EXPECT_NEAR(b.upper, p.upper, 0.03);
  // A positive acceleration moves the interval up; a shifted estimate moves it towards it.
  std::vector<double> again = copy;
  const Interval acc = bootstrap_interval(again, 1.0, true, 0.1);
  EXPECT_GT(acc.upper, b.upper);
}

TEST(KeptRowProjector, ResidualsAreOrthogonalToTheCovariatesOnKeptRows) {
  const Eigen::Index n = 400;
  RandomStream rs(11);
  Eigen::MatrixXd raw(n, 4);
  Eigen::VectorXd z(n), w(n);
  std::vector<std::uint8_t> keep(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) {
    raw(i, 0) = 1.0;
    raw(i, 1) = 50 + 10 * rs.normal();
    raw(i, 2) = rs.bernoulli(0.3);
    raw(i, 3) = rs.normal();
    z(i) = 0.3 * raw(i, 1) + rs.normal();
    w(i) = 0.1 + rs.uniform();
    keep[static_cast<std::size_t>(i)] = rs.bernoulli(0.85);
  }
  const SharedDesign d = make_shared_design(raw);
  for (bool weighted : {false, true}) {
    KeptRowProjector proj;
    std::span<const double> ws = weighted ? std::span<const double>(w.data(), n) : std::span<const double>();
    Eigen::MatrixXd full = Eigen::MatrixXd::Zero(4, 4);
    for (Eigen::Index i = 0; i < n; ++i) full += (weighted ? w(i) : 1.0) * d.c.row(i).transpose() * d.c.row(i);
    ASSERT_TRUE(proj.prepare(d, keep, {}, ws, &full));
    Eigen::VectorXd e(n);
    proj.residualise(z, e);
    // Reference: weighted least squares on the kept rows by QR.
    std::vector<Eigen::Index> rows;
    for (Eigen::Index i = 0; i < n; ++i)
      if (keep[static_cast<std::size_t>(i)]) rows.push_back(i);
    Eigen::MatrixXd a(static_cast<Eigen::Index>(rows.size()), 4);
    Eigen::VectorXd b(static_cast<Eigen::Index>(rows.size()));
    for (std::size_t t = 0; t < rows.size(); ++t) {
      const double s = weighted ? std::sqrt(w(rows[t])) : 1.0;
      a.row(static_cast<Eigen::Index>(t)) = s * raw.row(rows[t]);
      b(static_cast<Eigen::Index>(t)) = s * z(rows[t]);
    }
    const Eigen::VectorXd coef = a.colPivHouseholderQr().solve(b);
    for (std::size_t t = 0; t < rows.size(); ++t)
      EXPECT_NEAR(e(rows[t]), z(rows[t]) - raw.row(rows[t]).dot(coef), 1e-10);
    for (Eigen::Index i = 0; i < n; ++i) {
      if (!keep[static_cast<std::size_t>(i)]) {
        EXPECT_EQ(e(i), 0.0);
      }
    }
  }
}

TEST(KeptRowProjector, ManyColumnsGiveEachColumnTheBitsOfItsOwnProjection) {
  const Eigen::Index n = 1300;   // several 256-row chunks
  RandomStream rs(12);
  Eigen::MatrixXd raw(n, 5);
  for (Eigen::Index i = 0; i < n; ++i) {
    raw(i, 0) = 1.0;
    for (Eigen::Index j = 1; j < 5; ++j) raw(i, j) = rs.normal();
  }
  const SharedDesign d = make_shared_design(raw);
  constexpr int k = 5;
  std::vector<KeptRowProjector> group(k), alone(k);
  std::vector<std::vector<std::uint8_t>> keep(k, std::vector<std::uint8_t>(static_cast<std::size_t>(n)));
  std::vector<Eigen::VectorXd> z(k, Eigen::VectorXd(n)), together(k, Eigen::VectorXd(n)), single(k, Eigen::VectorXd(n));
  for (int t = 0; t < k; ++t) {
    for (Eigen::Index i = 0; i < n; ++i) {
      keep[t][static_cast<std::size_t>(i)] = rs.bernoulli(0.6 + 0.08 * t);
      z[t](i) = rs.normal();
    }
    ASSERT_TRUE(group[t].prepare(d, keep[t], {}, {}, &d.gram));
    ASSERT_TRUE(alone[t].prepare(d, keep[t], {}, {}, &d.gram));
  }
  std::vector<KeptRowProjector*> p;
  std::vector<const double*> in;
  std::vector<double*> out;
  for (int t = 0; t < k; ++t) {
    p.push_back(&group[t]);
    in.push_back(z[t].data());
    out.push_back(together[t].data());
  }
  KeptRowProjector::residualise_many(p, in, out);
  for (int t = 0; t < k; ++t) {
    alone[t].residualise(z[t], single[t]);
    for (Eigen::Index i = 0; i < n; ++i) ASSERT_EQ(together[t](i), single[t](i)) << t << " " << i;
  }
}

}  // namespace
}  // namespace pwas::kernels
