// fit_logistic: the 2x2 table in closed form, agreement with a long-double Newton reference, dropped
// rows holding NaN, starting values, the null fit, and every status path.
#include "kernels/logistic.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "tests/kernels/reference.hpp"
#include "tests/kernels/simulate.hpp"

namespace pwas::kernels {
namespace {

using testing::complete_cases;
using testing::max_rel_diff;
using testing::reference_logistic;
using testing::simulate_cohort;

LogisticFit fit_raw(const Eigen::MatrixXd& raw, const Eigen::VectorXd& v, const Eigen::VectorXd& y,
                    const std::vector<std::uint8_t>& keep, const LogisticOptions& opt = {}) {
  const SharedDesign d = make_shared_design(raw);
  LogisticWorkspace ws;
  return fit_logistic(d, v, y, keep, nullptr, ws, opt);
}

// Rows of a 2x2 table: n[v][y] rows with predictor v and outcome y.
void table(int n00, int n01, int n10, int n11, Eigen::VectorXd& v, Eigen::VectorXd& y) {
  const int n = n00 + n01 + n10 + n11;
  v.resize(n);
  y.resize(n);
  int r = 0;
  auto add = [&](int count, double vv, double yy) {
    for (int k = 0; k < count; ++k, ++r) {
      v(r) = vv;
      y(r) = yy;
    }
  };
  add(n00, 0.0, 0.0);
  add(n01, 0.0, 1.0);
  add(n10, 1.0, 0.0);
  add(n11, 1.0, 1.0);
}

TEST(Logistic, TwoByTwoTableClosedForm) {
  // beta_v = log odds ratio, SE = sqrt(1/n00 + 1/n01 + 1/n10 + 1/n11); intercept = log(n01/n00).
  Eigen::VectorXd v, y;
  table(40, 10, 20, 30, v, y);
  const Eigen::MatrixXd raw = Eigen::MatrixXd::Ones(v.size(), 1);
  const LogisticFit f = fit_raw(raw, v, y, std::vector<std::uint8_t>(v.size(), 1));
  ASSERT_EQ(f.status, FitStatus::kOk);
  EXPECT_EQ(f.n_obs, 100);
  EXPECT_EQ(f.n_cases, 40);
  EXPECT_NEAR(f.beta(1), std::log(30.0 * 40.0 / (20.0 * 10.0)), 1e-13);
  EXPECT_NEAR(f.beta(0), std::log(10.0 / 40.0), 1e-13);
  EXPECT_NEAR(f.se(1), std::sqrt(1.0 / 40 + 1.0 / 10 + 1.0 / 20 + 1.0 / 30), 1e-13);
  EXPECT_NEAR(f.se(0), std::sqrt(1.0 / 40 + 1.0 / 10), 1e-13);
  // Deviance: -2 sum n log(p_hat) over the four cells.
  const double dev = -2.0 * (40 * std::log(0.8) + 10 * std::log(0.2) + 20 * std::log(0.4) + 30 * std::log(0.6));
  EXPECT_NEAR(f.deviance, dev, 1e-11);
}

TEST(Logistic, MatchesReferenceWithNaNOnDroppedRows) {
  for (const double drop : {0.0, 0.05, 0.27, 0.6}) {
    const auto c = simulate_cohort(1500, 5, drop, 21);  // > 2 blocks of 512 kept rows
    Eigen::MatrixXd x;
    Eigen::VectorXd yk;
    complete_cases(c.raw, c.v, c.y_bin, c.keep, x, yk);
    const auto ref = reference_logistic(x, yk);
    const LogisticFit f = fit_raw(c.raw, c.v, c.y_bin, c.keep);
    ASSERT_EQ(f.status, FitStatus::kOk) << drop;
    EXPECT_EQ(f.n_obs, x.rows());
    EXPECT_EQ(f.n_cases, static_cast<int>(yk.sum()));
    EXPECT_LT(max_rel_diff(f.beta, ref.beta), 1e-10) << drop;
    EXPECT_LT(max_rel_diff(f.se, ref.se), 1e-10) << drop;
    EXPECT_NEAR(f.deviance, ref.scale, 1e-11 * ref.scale);
  }
}

TEST(Logistic, NullFitAndStartGiveTheSameEstimate) {
  const auto c = simulate_cohort(800, 3, 0.1, 22);
  const SharedDesign d = make_shared_design(c.raw);
  LogisticWorkspace ws;
  const LogisticFit null = fit_logistic_null(d, c.y_bin, c.keep, ws);
  ASSERT_EQ(null.status, FitStatus::kOk);
  ASSERT_EQ(null.beta.size(), d.n_cov());
  Eigen::MatrixXd x;
  Eigen::VectorXd yk;
  complete_cases(c.raw, c.v, c.y_bin, c.keep, x, yk);
  const auto ref_null = reference_logistic(x.leftCols(d.n_cov()), yk);
  EXPECT_LT(max_rel_diff(null.beta, ref_null.beta), 1e-10);
  EXPECT_LT(max_rel_diff(null.se, ref_null.se), 1e-10);

  Eigen::VectorXd start = Eigen::VectorXd::Zero(d.n_cov() + 1);
  start.head(d.n_cov()) = null.beta;
  const LogisticFit from_null = fit_logistic(d, c.v, c.y_bin, c.keep, &start, ws);
  const LogisticFit from_zero = fit_logistic(d, c.v, c.y_bin, c.keep, nullptr, ws);
  ASSERT_EQ(from_null.status, FitStatus::kOk);
  ASSERT_EQ(from_zero.status, FitStatus::kOk);
  EXPECT_LE(from_null.iterations, from_zero.iterations);
  EXPECT_LT(max_rel_diff(from_null.beta, from_zero.beta), 1e-11);
  EXPECT_LT(max_rel_diff(from_null.se, from_zero.se), 1e-11);
}

TEST(Logistic, StartFarFromTheOptimumStillConverges) {
  const auto c = simulate_cohort(600, 0, 0.1, 23);
  const SharedDesign d = make_shared_design(c.raw);
  LogisticWorkspace ws;
  const LogisticFit good = fit_logistic(d, c.v, c.y_bin, c.keep, nullptr, ws);
  Eigen::VectorXd start = Eigen::VectorXd::Constant(d.n_cov() + 1, 0.5);  // eta in the tens: halving
  const LogisticFit far = fit_logistic(d, c.v, c.y_bin, c.keep, &start, ws);
  ASSERT_EQ(far.status, FitStatus::kOk);
  EXPECT_LT(max_rel_diff(far.beta, good.beta), 1e-10);
}

TEST(Logistic, TooFewCases) {
  const auto c = simulate_cohort(100, 0, 0.0, 24);
  std::vector<std::uint8_t> keep(100, 0);
  for (int i = 0; i < 7; ++i) keep[static_cast<std::size_t>(i)] = 1;  // n_obs = p
  EXPECT_EQ(fit_raw(c.raw, c.v, c.y_bin, keep).status, FitStatus::kTooFewCases);
  Eigen::VectorXd y = c.y_bin;
  y.setZero();  // one class
  const LogisticFit f = fit_raw(c.raw, c.v, y, c.keep);
  EXPECT_EQ(f.status, FitStatus::kTooFewCases);
  EXPECT_EQ(f.n_cases, 0);
  y.setOnes();
  EXPECT_EQ(fit_raw(c.raw, c.v, y, c.keep).status, FitStatus::kTooFewCases);
}

TEST(Logistic, ConstantPredictor) {
  const auto c = simulate_cohort(200, 0, 0.1, 25);
  Eigen::VectorXd v = c.v;
  for (Eigen::Index i = 0; i < v.size(); ++i)
    if (c.keep[static_cast<std::size_t>(i)]) v(i) = 1.0;
  const LogisticFit f = fit_raw(c.raw, v, c.y_bin, c.keep);
  EXPECT_EQ(f.status, FitStatus::kConstant);
  EXPECT_TRUE(f.beta.array().isNaN().all());
}

TEST(Logistic, CollinearPredictorIsSingular) {
  auto c = simulate_cohort(400, 0, 0.1, 26);
  for (Eigen::Index i = 0; i < c.v.size(); ++i)
    if (c.keep[static_cast<std::size_t>(i)]) c.v(i) = c.raw(i, 1) - 2.0 * c.raw(i, 2);
  const LogisticFit f = fit_raw(c.raw, c.v, c.y_bin, c.keep);
  EXPECT_EQ(f.status, FitStatus::kSingular);
  EXPECT_TRUE(f.se.array().isNaN().all());
}

TEST(Logistic, CompleteSeparation) {
  const int n = 60;
  Eigen::MatrixXd raw = Eigen::MatrixXd::Ones(n, 1);
  Eigen::VectorXd v(n), y(n);
  for (int i = 0; i < n; ++i) {
    v(i) = static_cast<double>(i) - 29.5;
    y(i) = v(i) > 0.0 ? 1.0 : 0.0;
  }
  const LogisticFit f = fit_raw(raw, v, y, std::vector<std::uint8_t>(n, 1));
  EXPECT_EQ(f.status, FitStatus::kSeparation);
  EXPECT_TRUE(std::isnan(f.beta(1)));
}

TEST(Logistic, QuasiSeparation) {
  // Every row with v = 1 is a case; the rows with v = 0 carry both classes: beta_v -> infinity while
  // the deviance converges to a positive value.
  const auto c = simulate_cohort(2000, 0, 0.1, 27);
  Eigen::VectorXd v = c.v;
  Eigen::VectorXd y = c.y_bin;
  for (Eigen::Index i = 0; i < v.size(); ++i) {
    if (!c.keep[static_cast<std::size_t>(i)]) continue;
    v(i) = (i % 10 == 0) ? 1.0 : 0.0;
    if (v(i) == 1.0) y(i) = 1.0;
  }
  const LogisticFit f = fit_raw(c.raw, v, y, c.keep);
  EXPECT_EQ(f.status, FitStatus::kSeparation);
}

TEST(Logistic, IterationLimitIsNotConverged) {
  const auto c = simulate_cohort(300, 0, 0.1, 28);
  LogisticOptions opt;
  opt.max_iter = 1;
  const LogisticFit f = fit_raw(c.raw, c.v, c.y_bin, c.keep, opt);
  EXPECT_EQ(f.status, FitStatus::kNotConverged);
  EXPECT_EQ(f.iterations, 1);
  EXPECT_TRUE(f.beta.array().isNaN().all());
}

TEST(Logistic, WorkspaceReuseAcrossMasks) {
  const auto c = simulate_cohort(700, 2, 0.2, 29);
  const SharedDesign d = make_shared_design(c.raw);
  LogisticWorkspace shared;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<std::uint8_t> keep = c.keep;
    for (std::size_t i = rep; i < keep.size(); i += 4) keep[i] = 0;
    LogisticWorkspace fresh;
    const LogisticFit a = fit_logistic(d, c.v, c.y_bin, keep, nullptr, shared);
    const LogisticFit b = fit_logistic(d, c.v, c.y_bin, keep, nullptr, fresh);
    ASSERT_EQ(a.status, FitStatus::kOk);
    EXPECT_EQ(a.beta, b.beta);
    EXPECT_EQ(a.se, b.se);
  }
}

}  // namespace
}  // namespace pwas::kernels
