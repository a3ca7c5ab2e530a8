// fit_linear: hand-checkable cases, agreement with a long-double QR reference on complete cases,
// dropped rows holding NaN, both Gram paths (downdate / direct), the QR fallback and every status.
#include "kernels/linear.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <span>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "tests/kernels/batches.hpp"
#include "tests/kernels/reference.hpp"
#include "tests/kernels/simulate.hpp"

namespace pwas::kernels {
namespace {

using testing::complete_cases;
using testing::max_rel_diff;
using testing::reference_ols;
using testing::simulate_cohort;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

LinearFit fit_raw(const Eigen::MatrixXd& raw, const Eigen::VectorXd& v, const Eigen::VectorXd& y,
                  const std::vector<std::uint8_t>& keep, const LinearOptions& opt = {}) {
  const SharedDesign d = make_shared_design(raw);
  LinearWorkspace ws;
  return fit_linear(d, v, y, keep, {}, ws, opt);
}

TEST(Linear, SimpleRegressionByHand) {
  // x = 1..5, y = (2.1, 3.9, 6.2, 7.8, 10.1): Sxx = 10, Sxy = 19.9, Syy = 39.708, RSS = 0.107, df = 3.
  const Eigen::MatrixXd raw = Eigen::MatrixXd::Ones(5, 1);
  const Eigen::VectorXd x{{1.0, 2.0, 3.0, 4.0, 5.0}};
  const Eigen::VectorXd y{{2.1, 3.9, 6.2, 7.8, 10.1}};
  const std::vector<std::uint8_t> keep(5, 1);
  const LinearFit f = fit_raw(raw, x, y, keep);
  ASSERT_EQ(f.status, FitStatus::kOk);
  EXPECT_EQ(f.n_obs, 5);
  EXPECT_EQ(f.df_residual, 3);
  const double sigma2 = 0.107 / 3.0;
  EXPECT_NEAR(f.beta(1), 1.99, 1e-14);
  EXPECT_NEAR(f.beta(0), 0.05, 1e-14);
  // The residual sum of squares (0.107) comes from the Gram downdate, y'y - ... with y'y = 240.31: ~2,000x
  // cancellation, so sigma2 and the SEs carry ~1e-13 relative rounding (an AVX2 build's summation order shows it).
  EXPECT_NEAR(f.sigma2, sigma2, 1e-12 * sigma2);
  EXPECT_NEAR(f.se(1), std::sqrt(sigma2 / 10.0), 1e-12 * std::sqrt(sigma2 / 10.0));
  EXPECT_NEAR(f.se(0), std::sqrt(sigma2 * (1.0 / 5.0 + 9.0 / 10.0)), 1e-12 * std::sqrt(sigma2 * 1.1));
}

TEST(Linear, ExactFitHasZeroResidual) {
  const Eigen::MatrixXd raw = Eigen::MatrixXd::Ones(6, 1);
  const Eigen::VectorXd x{{0.0, 1.0, 2.0, 3.0, 4.0, 5.0}};
  const Eigen::VectorXd y = 1.0 + 2.0 * x.array();
  const LinearFit f = fit_raw(raw, x, y, std::vector<std::uint8_t>(6, 1));
  ASSERT_EQ(f.status, FitStatus::kOk);
  EXPECT_NEAR(f.beta(0), 1.0, 1e-14);
  EXPECT_NEAR(f.beta(1), 2.0, 1e-14);
  EXPECT_LT(f.se(1), 1e-14);
}

TEST(Linear, MatchesReferenceWithNaNOnDroppedRows) {
  for (const double drop : {0.0, 0.01, 0.15, 0.3, 0.7}) {  // 0.7: the kept Gram is summed, not downdated
    const auto c = simulate_cohort(400, 4, drop, 11);
    Eigen::MatrixXd x;
    Eigen::VectorXd yk;
    complete_cases(c.raw, c.v, c.y_cont, c.keep, x, yk);
    const auto ref = reference_ols(x, yk);
    const LinearFit f = fit_raw(c.raw, c.v, c.y_cont, c.keep);
    ASSERT_EQ(f.status, FitStatus::kOk) << drop;
    EXPECT_FALSE(f.used_qr);
    EXPECT_EQ(f.n_obs, x.rows());
    EXPECT_EQ(f.df_residual, x.rows() - x.cols());
    EXPECT_LT(max_rel_diff(f.beta, ref.beta), 1e-11) << drop;
    EXPECT_LT(max_rel_diff(f.se, ref.se), 1e-11) << drop;
    EXPECT_NEAR(f.sigma2, ref.scale, 1e-12 * ref.scale);
  }
}

TEST(Linear, WorkspaceReuseAcrossMasksAndSizes) {
  const auto c = simulate_cohort(300, 2, 0.2, 5);
  const SharedDesign d = make_shared_design(c.raw);
  LinearWorkspace shared;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<std::uint8_t> keep = c.keep;
    for (std::size_t i = 0; i < keep.size(); i += 3 + rep) keep[i] = 0;
    LinearWorkspace fresh;
    const LinearFit a = fit_linear(d, c.v, c.y_cont, keep, {}, shared);
    const LinearFit b = fit_linear(d, c.v, c.y_cont, keep, {}, fresh);
    ASSERT_EQ(a.status, FitStatus::kOk);
    EXPECT_EQ(a.beta, b.beta);
    EXPECT_EQ(a.se, b.se);
  }
}

TEST(Linear, IllConditionedUsesQrAndStaysAccurate) {
  // v nearly collinear with age (correlation 1 - 1e-8): rcond of the equilibrated normal matrix ~1e-8.
  auto c = simulate_cohort(300, 0, 0.1, 7);
  for (Eigen::Index i = 0; i < c.v.size(); ++i)
    if (c.keep[static_cast<std::size_t>(i)]) c.v(i) = c.raw(i, 1) + 1e-3 * std::sin(3.0 * static_cast<double>(i));
  Eigen::MatrixXd x;
  Eigen::VectorXd yk;
  complete_cases(c.raw, c.v, c.y_cont, c.keep, x, yk);
  const auto ref = reference_ols(x, yk);
  const LinearFit f = fit_raw(c.raw, c.v, c.y_cont, c.keep);
  ASSERT_EQ(f.status, FitStatus::kOk);
  EXPECT_TRUE(f.used_qr);
  EXPECT_LT(max_rel_diff(f.beta, ref.beta), 1e-8);
  EXPECT_LT(max_rel_diff(f.se, ref.se), 1e-8);
}

TEST(Linear, TooFewCases) {
  const auto c = simulate_cohort(50, 0, 0.0, 3);
  std::vector<std::uint8_t> keep(50, 0);
  for (int i = 0; i < 7; ++i) keep[static_cast<std::size_t>(i)] = 1;  // n_obs = 7 = p
  EXPECT_EQ(fit_raw(c.raw, c.v, c.y_cont, keep).status, FitStatus::kTooFewCases);
  keep[7] = 1;  // n_obs = 8: df = 1
  const LinearFit f = fit_raw(c.raw, c.v, c.y_cont, keep);
  EXPECT_NE(f.status, FitStatus::kTooFewCases);
  EXPECT_EQ(fit_raw(c.raw, c.v, c.y_cont, std::vector<std::uint8_t>(50, 0)).status, FitStatus::kTooFewCases);
}

TEST(Linear, ConstantPredictorOrOutcome) {
  auto c = simulate_cohort(100, 0, 0.2, 4);
  Eigen::VectorXd v = c.v;
  for (Eigen::Index i = 0; i < v.size(); ++i)
    if (c.keep[static_cast<std::size_t>(i)]) v(i) = 2.5;
  LinearFit f = fit_raw(c.raw, v, c.y_cont, c.keep);
  EXPECT_EQ(f.status, FitStatus::kConstant);
  EXPECT_TRUE(std::isnan(f.beta(0)));
  EXPECT_TRUE(std::isnan(f.se(6)));
  Eigen::VectorXd y = c.y_cont;
  for (Eigen::Index i = 0; i < y.size(); ++i)
    if (c.keep[static_cast<std::size_t>(i)]) y(i) = -1.0;
  EXPECT_EQ(fit_raw(c.raw, c.v, y, c.keep).status, FitStatus::kConstant);
}

TEST(Linear, PredictorAliasedWithCovariatesIsSingular) {
  auto c = simulate_cohort(200, 0, 0.1, 8);
  for (Eigen::Index i = 0; i < c.v.size(); ++i)
    if (c.keep[static_cast<std::size_t>(i)]) c.v(i) = 2.0 * c.raw(i, 1) - 0.5 * c.raw(i, 3) + 3.0;
  const LinearFit f = fit_raw(c.raw, c.v, c.y_cont, c.keep);
  EXPECT_EQ(f.status, FitStatus::kSingular);
  EXPECT_TRUE(f.beta.array().isNaN().all());
  EXPECT_TRUE(f.se.array().isNaN().all());
}

TEST(Linear, FactorLevelAbsentOnKeptRowsIsSingular) {
  // batch_C is 0 on every kept row: constant, aliased with the intercept.
  auto c = simulate_cohort(300, 0, 0.0, 9);
  for (Eigen::Index i = 0; i < c.v.size(); ++i)
    if (c.raw(i, 5) == 1.0) {
      c.keep[static_cast<std::size_t>(i)] = 0;
      c.v(i) = kNaN;
      c.y_cont(i) = kNaN;
    }
  EXPECT_EQ(fit_raw(c.raw, c.v, c.y_cont, c.keep).status, FitStatus::kSingular);
}

TEST(Linear, DuplicatedCovariateColumnIsSingular) {
  auto c = simulate_cohort(150, 1, 0.1, 10);
  c.raw.col(6) = c.raw.col(3);
  EXPECT_EQ(fit_raw(c.raw, c.v, c.y_cont, c.keep).status, FitStatus::kSingular);
}

TEST(Linear, InterceptOnlyDesign) {
  const auto c = simulate_cohort(120, 0, 0.25, 12);
  const Eigen::MatrixXd raw = c.raw.leftCols(1);
  Eigen::MatrixXd x;
  Eigen::VectorXd yk;
  complete_cases(raw, c.v, c.y_cont, c.keep, x, yk);
  const auto ref = reference_ols(x, yk);
  const LinearFit f = fit_raw(raw, c.v, c.y_cont, c.keep);
  ASSERT_EQ(f.status, FitStatus::kOk);
  EXPECT_LT(max_rel_diff(f.beta, ref.beta), 1e-12);
  EXPECT_LT(max_rel_diff(f.se, ref.se), 1e-12);
}

// A fit with inactive columns equals the fit on the design without them (the QR path too).
void expect_linear_mask_equals_reduced(const testing::Cohort& c, const Eigen::VectorXd& v,
                                       const std::vector<std::uint8_t>& active, bool expect_qr, const char* label) {
  std::vector<Eigen::Index> cols;
  for (std::size_t j = 0; j < active.size(); ++j)
    if (active[j]) cols.push_back(static_cast<Eigen::Index>(j));
  Eigen::MatrixXd reduced(c.raw.rows(), static_cast<Eigen::Index>(cols.size()));
  for (std::size_t k = 0; k < cols.size(); ++k) reduced.col(static_cast<Eigen::Index>(k)) = c.raw.col(cols[k]);
  const SharedDesign d = make_shared_design(c.raw);
  const SharedDesign dr = make_shared_design(reduced);
  LinearWorkspace ws;
  const LinearFit m = fit_linear(d, v, c.y_cont, c.keep, active, ws);
  const LinearFit r = fit_linear(dr, v, c.y_cont, c.keep, {}, ws);
  ASSERT_EQ(m.status, FitStatus::kOk) << label;
  ASSERT_EQ(r.status, FitStatus::kOk) << label;
  EXPECT_EQ(m.used_qr, expect_qr) << label;
  EXPECT_EQ(r.used_qr, expect_qr) << label;
  EXPECT_EQ(m.df_residual, r.df_residual);
  EXPECT_EQ(m.df_residual, m.n_obs - static_cast<int>(cols.size()) - 1);
  EXPECT_NEAR(m.sigma2, r.sigma2, 1e-12 * r.sigma2);
  for (std::size_t j = 0; j < active.size(); ++j)
    if (!active[j]) {
      EXPECT_TRUE(std::isnan(m.beta(static_cast<Eigen::Index>(j))));
      EXPECT_TRUE(std::isnan(m.se(static_cast<Eigen::Index>(j))));
    }
  for (std::size_t k = 0; k <= cols.size(); ++k) {
    const Eigen::Index jm = k < cols.size() ? cols[k] : c.raw.cols();
    const auto jr = static_cast<Eigen::Index>(k);
    EXPECT_NEAR(m.beta(jm), r.beta(jr), 1e-12 * std::abs(r.beta(jr))) << label << " " << k;
    EXPECT_NEAR(m.se(jm), r.se(jr), 1e-12 * r.se(jr)) << label << " " << k;
  }
}

TEST(LinearMask, InactiveColumnEqualsReducedDesign) {
  const auto c = simulate_cohort(500, 3, 0.2, 13);
  std::vector<std::uint8_t> active(static_cast<std::size_t>(c.raw.cols()), 1);
  active[3] = 0;  // bmi
  active[7] = 0;  // an extra covariate
  expect_linear_mask_equals_reduced(c, c.v, active, false, "normal equations");
}

TEST(LinearMask, AbsentLevelMaskedIsNoLongerSingular) {
  // batch_C is 0 on every kept row: singular with it (FactorLevelAbsentOnKeptRowsIsSingular), fine without.
  auto c = simulate_cohort(300, 0, 0.0, 9);
  for (Eigen::Index i = 0; i < c.v.size(); ++i)
    if (c.raw(i, 5) == 1.0) {
      c.keep[static_cast<std::size_t>(i)] = 0;
      c.v(i) = kNaN;
      c.y_cont(i) = kNaN;
    }
  std::vector<std::uint8_t> active(static_cast<std::size_t>(c.raw.cols()), 1);
  active[5] = 0;
  expect_linear_mask_equals_reduced(c, c.v, active, false, "absent level");
}

TEST(LinearMask, QrPathWithMask) {
  auto c = simulate_cohort(300, 1, 0.1, 7);
  Eigen::VectorXd v = c.v;
  for (Eigen::Index i = 0; i < v.size(); ++i)
    if (c.keep[static_cast<std::size_t>(i)]) v(i) = c.raw(i, 1) + 1e-3 * std::sin(3.0 * static_cast<double>(i));
  std::vector<std::uint8_t> active(static_cast<std::size_t>(c.raw.cols()), 1);
  active[6] = 0;
  expect_linear_mask_equals_reduced(c, v, active, true, "QR");
}

TEST(Linear, PredictorSeOnlyMatchesTheFullInverse) {
  // LinearOptions::all_se = false: v's SE from the Cholesky factor, the same betas, the same path (normal equations
  // or QR) as with every SE, here on a well-conditioned fit and on one nearly collinear with age (QR).
  const auto c = simulate_cohort(1500, 3, 0.1, 41);
  const SharedDesign d = make_shared_design(c.raw);
  Eigen::VectorXd nearly_age = c.v;
  const Eigen::VectorXd* cases[] = {&c.v, &nearly_age};
  for (Eigen::Index i = 0; i < nearly_age.size(); ++i)
    if (c.keep[static_cast<std::size_t>(i)]) nearly_age(i) = c.raw(i, 1) + 1e-7 * std::cos(static_cast<double>(i));
  LinearOptions v_only;
  v_only.all_se = false;
  LinearWorkspace ws;
  for (const Eigen::VectorXd* v : cases) {
    const LinearFit all = fit_linear(d, *v, c.y_cont, c.keep, {}, ws);
    const LinearFit one = fit_linear(d, *v, c.y_cont, c.keep, {}, ws, v_only);
    ASSERT_EQ(all.status, FitStatus::kOk);
    ASSERT_EQ(one.status, FitStatus::kOk);
    EXPECT_EQ(all.used_qr, one.used_qr);
    EXPECT_EQ(all.used_qr, v == &nearly_age);
    const Eigen::Index last = all.beta.size() - 1;
    for (Eigen::Index j = 0; j <= last; ++j) EXPECT_EQ(all.beta(j), one.beta(j)) << j;
    EXPECT_NEAR(one.se(last), all.se(last), 1e-13 * all.se(last));
    if (!one.used_qr) {
      for (Eigen::Index j = 0; j < last; ++j) EXPECT_TRUE(std::isnan(one.se(j))) << j;
    }
  }
}

TEST(LinearBatch, SharedSideAgreesWithTwoSidedLanesAndIsBitIdenticalInAnyBatch) {
  // LinearShared: the shared vector's products with C come from the Gram of the dropped rows (or of the kept rows,
  // when fewer are kept) and one pass over all rows, instead of lanes. Checked with the shared vector NaN where no
  // fit keeps a row and offset by 100 (its centring matters), against the two-sided lanes, for both sides.
  const auto c = simulate_cohort(2000, 3, 0.15, 33);
  const SharedDesign d = make_shared_design(c.raw);
  const auto n = static_cast<std::size_t>(c.v.size());
  const Eigen::VectorXd s = c.v.array() + 100.0;  // NaN where c.keep is 0
  std::vector<Eigen::VectorXd> own(5, c.y_cont);
  std::vector<std::vector<std::uint8_t>> keep(5, c.keep), active(5);
  for (std::size_t i = 0; i < n; ++i) {
    const auto r = static_cast<Eigen::Index>(i);
    for (std::size_t f = 1; f < 4; ++f) own[f](r) += 0.2 * static_cast<double>(f) * std::sin(static_cast<double>(i));
    if (i % 3 == 1) keep[1][i] = 0;       // more rows dropped
    if (i % 20 >= 7) keep[2][i] = 0;      // fewer kept than dropped: the kept rows' Gram
    // Nearly age: as v the QR fallback, as y the residuals recomputed (RSS below 1e-3 of the total).
    if (c.keep[i]) own[4](r) = c.raw(r, 1) + 1e-7 * std::sin(static_cast<double>(i));
  }
  active[3].assign(static_cast<std::size_t>(c.raw.cols()), 1);
  active[3][4] = 0;                      // a dummy column left out
  for (const LinearShared side : {LinearShared::kV, LinearShared::kY}) {
    LinearOptions shared_opt;
    shared_opt.shared = side;
    const bool v_shared = side == LinearShared::kV;
    LinearWorkspace single;
    std::vector<LinearFit> alone;
    for (std::size_t f = 0; f < 5; ++f) {
      const Eigen::VectorXd& v = v_shared ? s : own[f];
      const Eigen::VectorXd& y = v_shared ? own[f] : s;
      const LinearFit lanes = fit_linear(d, v, y, keep[f], active[f], single);
      alone.push_back(fit_linear(d, v, y, keep[f], active[f], single, shared_opt));
      const LinearFit& a = alone.back();
      ASSERT_EQ(a.status, FitStatus::kOk) << f;
      EXPECT_EQ(a.used_qr, f == 4 && !v_shared) << f;
      EXPECT_EQ(a.used_qr, lanes.used_qr) << f;
      EXPECT_EQ(a.n_obs, lanes.n_obs);
      for (Eigen::Index j = 0; j < a.beta.size(); ++j) {
        EXPECT_EQ(std::isnan(a.beta(j)), std::isnan(lanes.beta(j))) << f << " " << j;
        if (std::isnan(a.beta(j))) continue;
        EXPECT_NEAR(a.beta(j), lanes.beta(j), 1e-11 * lanes.se(j)) << f << " " << j;
        EXPECT_NEAR(a.se(j), lanes.se(j), 1e-11 * lanes.se(j)) << f << " " << j;
      }
    }
    std::vector<LinearWorkspace> workspaces(kLanes);
    for (const std::vector<std::size_t>& all : {std::vector<std::size_t>{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2}, {4}})
      for (const std::vector<std::size_t>& order : testing::lane_batches(all)) {
        std::vector<const double*> vp, yp;
        std::vector<std::span<const std::uint8_t>> kp, ap;
        std::vector<LinearWorkspace*> wp;
        for (const std::size_t f : order) {
          vp.push_back(v_shared ? s.data() : own[f].data());
          yp.push_back(v_shared ? own[f].data() : s.data());
          kp.emplace_back(keep[f]);
          ap.emplace_back(active[f]);
          wp.push_back(&workspaces[wp.size()]);
        }
        const std::vector<LinearFit> batch = fit_linear_batch(d, vp, yp, kp, ap, wp, shared_opt);
        for (std::size_t k = 0; k < order.size(); ++k)
          testing::expect_same_estimates(alone[order[k]].beta, alone[order[k]].se, batch[k].beta, batch[k].se,
                                         order[k]);
      }
  }
}

TEST(LinearBatch, EachFitIsBitIdenticalToItsSingleFitWhateverShareItsBatch) {
  // As LogisticBatch: fits that keep other rows, drop a column, take the QR path (v nearly collinear with a
  // covariate), or never start (constant, too few cases) give in any batch and lane what fit_linear gives alone.
  const auto c = simulate_cohort(2000, 3, 0.15, 21);
  const SharedDesign d = make_shared_design(c.raw);
  const auto n = static_cast<std::size_t>(c.v.size());
  std::vector<Eigen::VectorXd> v(6, c.v), y(6, c.y_cont);
  std::vector<std::vector<std::uint8_t>> keep(6, c.keep), active(6);
  std::rotate(keep[1].begin(), keep[1].begin() + 97, keep[1].end());
  for (std::size_t i = 0; i < n; ++i) {
    const auto r = static_cast<Eigen::Index>(i);
    if (keep[1][i] && std::isnan(v[1](r))) v[1](r) = 0.5;
    if (keep[1][i] && std::isnan(y[1](r))) y[1](r) = -0.5;
  }
  active[2].assign(static_cast<std::size_t>(c.raw.cols()), 1);
  active[2][4] = 0;                                                  // batch_B left out
  for (std::size_t i = 0; i < n; ++i) {
    const auto r = static_cast<Eigen::Index>(i);
    if (keep[3][i]) v[3](r) = c.raw(r, 1) + 1e-7 * c.v(r);          // nearly age: the QR fallback
    if (keep[4][i]) y[4](r) = 3.0;                                   // constant outcome
  }
  std::fill(keep[5].begin() + 5, keep[5].end(), 0);                 // too few cases
  LinearWorkspace single;
  std::vector<LinearFit> alone;
  for (std::size_t f = 0; f < v.size(); ++f) alone.push_back(fit_linear(d, v[f], y[f], keep[f], active[f], single));
  EXPECT_EQ(alone[0].status, FitStatus::kOk);
  EXPECT_TRUE(alone[3].used_qr);
  EXPECT_EQ(alone[4].status, FitStatus::kConstant);
  EXPECT_EQ(alone[5].status, FitStatus::kTooFewCases);
  std::vector<LinearWorkspace> workspaces(kLanes);
  for (const std::vector<std::size_t>& all :
       {std::vector<std::size_t>{0, 1, 2, 3, 4, 5}, {5, 4, 3, 2, 1, 0}, {2}, {3, 1}})
    for (const std::vector<std::size_t>& order : testing::lane_batches(all)) {
      std::vector<const double*> vp, yp;
      std::vector<std::span<const std::uint8_t>> kp, ap;
      std::vector<LinearWorkspace*> wp;
      for (const std::size_t f : order) {
        vp.push_back(v[f].data());
        yp.push_back(y[f].data());
        kp.emplace_back(keep[f]);
        ap.emplace_back(active[f]);
        wp.push_back(&workspaces[wp.size()]);
      }
      const std::vector<LinearFit> batch = fit_linear_batch(d, vp, yp, kp, ap, wp);
      for (std::size_t k = 0; k < order.size(); ++k) {
        const LinearFit& a = alone[order[k]];
        const LinearFit& b = batch[k];
        EXPECT_EQ(a.status, b.status) << order[k];
        EXPECT_EQ(a.used_qr, b.used_qr) << order[k];
        testing::expect_same_estimates(a.beta, a.se, b.beta, b.se, order[k]);
      }
    }
}

}  // namespace
}  // namespace pwas::kernels
