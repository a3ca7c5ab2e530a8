// fit_logistic: the 2x2 table in closed form, agreement with a long-double Newton reference, dropped
// rows holding NaN, starting values, the null fit, every status path, the chord path (against Newton and
// the reference, its fallbacks) and column masks.
#include "kernels/logistic.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <span>
#include <vector>

#include "tests/kernels/batches.hpp"
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
  return fit_logistic(d, nullptr, v, y, keep, {}, ws, opt);
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
  // SEs: the information of the last sweep, one Newton step (moving eta by < 1e-10) before the estimate.
  const double se1 = std::sqrt(1.0 / 40 + 1.0 / 10 + 1.0 / 20 + 1.0 / 30), se0 = std::sqrt(1.0 / 40 + 1.0 / 10);
  EXPECT_NEAR(f.se(1), se1, 1e-10 * se1);
  EXPECT_NEAR(f.se(0), se0, 1e-10 * se0);
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

TEST(Logistic, NullFitAndNullStartGiveTheSameEstimate) {
  const auto c = simulate_cohort(800, 3, 0.1, 22);
  const SharedDesign d = make_shared_design(c.raw);
  LogisticWorkspace ws;
  const LogisticNull null = make_logistic_null(d, c.y_bin, c.keep, ws);
  ASSERT_TRUE(null.ok());
  ASSERT_EQ(null.fit.beta.size(), d.n_cov());
  Eigen::MatrixXd x;
  Eigen::VectorXd yk;
  complete_cases(c.raw, c.v, c.y_bin, c.keep, x, yk);
  const auto ref_null = reference_logistic(x.leftCols(d.n_cov()), yk);
  EXPECT_LT(max_rel_diff(null.fit.beta, ref_null.beta), 1e-10);
  EXPECT_LT(max_rel_diff(null.fit.se, ref_null.se), 1e-10);

  LogisticOptions newton;
  newton.chord = false;
  const LogisticFit from_null = fit_logistic(d, &null, c.v, c.y_bin, c.keep, {}, ws, newton);
  const LogisticFit from_zero = fit_logistic(d, nullptr, c.v, c.y_bin, c.keep, {}, ws);
  ASSERT_EQ(from_null.status, FitStatus::kOk);
  ASSERT_EQ(from_zero.status, FitStatus::kOk);
  EXPECT_FALSE(from_null.used_chord);
  EXPECT_LE(from_null.iterations, from_zero.iterations);
  EXPECT_LT(max_rel_diff(from_null.beta, from_zero.beta), 1e-11);
  EXPECT_LT(max_rel_diff(from_null.se, from_zero.se), 1e-11);
}

TEST(Logistic, StartFarFromTheOptimumStillConverges) {
  const auto c = simulate_cohort(600, 0, 0.1, 23);
  const SharedDesign d = make_shared_design(c.raw);
  LogisticWorkspace ws;
  const LogisticFit good = fit_raw(c.raw, c.v, c.y_bin, c.keep);
  LogisticNull far_null;  // only the start matters with chord = false
  far_null.theta = Eigen::VectorXd::Constant(d.n_cov(), 0.5);  // eta in the tens: halving
  LogisticOptions newton;
  newton.chord = false;
  const LogisticFit far = fit_logistic(d, &far_null, c.v, c.y_bin, c.keep, {}, ws, newton);
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
    const LogisticFit a = fit_logistic(d, nullptr, c.v, c.y_bin, keep, {}, shared);
    const LogisticFit b = fit_logistic(d, nullptr, c.v, c.y_bin, keep, {}, fresh);
    ASSERT_EQ(a.status, FitStatus::kOk);
    EXPECT_EQ(a.beta, b.beta);
    EXPECT_EQ(a.se, b.se);
  }
}

// ---- chord path ----

using testing::simulate_protein_study;

// The reference fit of y ~ [raw C (columns `cols`), v] on the kept rows.
testing::ReferenceFit reference_on(const testing::ProteinStudy& s, const std::vector<Eigen::Index>& cols) {
  Eigen::MatrixXd x;
  Eigen::VectorXd yk;
  Eigen::MatrixXd raw(s.raw.rows(), static_cast<Eigen::Index>(cols.size()));
  for (std::size_t k = 0; k < cols.size(); ++k) raw.col(static_cast<Eigen::Index>(k)) = s.raw.col(cols[k]);
  complete_cases(raw, s.v, s.y, s.keep, x, yk);
  return reference_logistic(x, yk);
}

std::vector<Eigen::Index> all_columns(const Eigen::MatrixXd& raw) {
  std::vector<Eigen::Index> cols(static_cast<std::size_t>(raw.cols()));
  for (std::size_t k = 0; k < cols.size(); ++k) cols[k] = static_cast<Eigen::Index>(k);
  return cols;
}

TEST(LogisticChord, MatchesNewtonAndReference) {
  for (const double log_or : {0.0, 0.1, 0.18, -0.3}) {
    for (const double drop : {0.0, 0.1, 0.6}) {  // 0.6: the kept-row C'W0C is summed, not downdated
      const auto s = simulate_protein_study(3000, 8, 6, 3, drop, log_or, 41);
      const SharedDesign d = make_shared_design(s.raw);
      LogisticWorkspace ws;
      const LogisticNull null = make_logistic_null(d, s.y, s.all, ws);
      ASSERT_TRUE(null.ok());
      const LogisticFit chord = fit_logistic(d, &null, s.v, s.y, s.keep, {}, ws);
      LogisticOptions newton_opt;
      newton_opt.chord = false;
      const LogisticFit newton = fit_logistic(d, &null, s.v, s.y, s.keep, {}, ws, newton_opt);
      const auto ref = reference_on(s, all_columns(s.raw));
      ASSERT_EQ(chord.status, FitStatus::kOk) << log_or << " " << drop;
      ASSERT_EQ(newton.status, FitStatus::kOk);
      EXPECT_TRUE(chord.used_chord) << log_or << " " << drop;
      EXPECT_FALSE(newton.used_chord);
      EXPECT_LE(chord.iterations, 1);
      EXPECT_LT(max_rel_diff(chord.beta, ref.beta), 1e-10) << log_or << " " << drop;
      EXPECT_LT(max_rel_diff(chord.se, ref.se), 1e-10) << log_or << " " << drop;
      EXPECT_LT(max_rel_diff(chord.beta, newton.beta), 1e-10);
      EXPECT_LT(max_rel_diff(chord.se, newton.se), 1e-10);
      EXPECT_NEAR(chord.deviance, ref.scale, 1e-11 * ref.scale);
      EXPECT_EQ(chord.n_obs, newton.n_obs);
      std::printf("[chord] log OR %5.2f drop %.1f: %2d chord steps, beta %.1e se %.1e vs reference\n", log_or, drop,
                  chord.chord_iterations, max_rel_diff(chord.beta, ref.beta), max_rel_diff(chord.se, ref.se));
    }
  }
}

TEST(LogisticChord, NullOnFewerRowsThanTheFit) {
  // Rows the fit keeps but the null model was not fitted on are added to the downdated C'W0C.
  const auto s = simulate_protein_study(2000, 5, 4, 3, 0.05, 0.15, 42);
  const SharedDesign d = make_shared_design(s.raw);
  std::vector<std::uint8_t> null_rows = s.all;
  for (std::size_t i = 0; i < null_rows.size(); i += 9) null_rows[i] = 0;
  LogisticWorkspace ws;
  const LogisticNull null = make_logistic_null(d, s.y, null_rows, ws);
  ASSERT_TRUE(null.ok());
  const LogisticFit f = fit_logistic(d, &null, s.v, s.y, s.keep, {}, ws);
  const auto ref = reference_on(s, all_columns(s.raw));
  ASSERT_EQ(f.status, FitStatus::kOk);
  EXPECT_TRUE(f.used_chord);
  EXPECT_LT(max_rel_diff(f.beta, ref.beta), 1e-10);
  EXPECT_LT(max_rel_diff(f.se, ref.se), 1e-10);
}

TEST(LogisticChord, FallsBackToNewtonOnALargeEffect) {
  // log OR 3 per SD: the null weights are far from the fitted ones, the chord contracts slowly.
  const auto s = simulate_protein_study(3000, 6, 4, 3, 0.1, 3.0, 43);
  const SharedDesign d = make_shared_design(s.raw);
  LogisticWorkspace ws;
  const LogisticNull null = make_logistic_null(d, s.y, s.all, ws);
  ASSERT_TRUE(null.ok());
  const LogisticFit f = fit_logistic(d, &null, s.v, s.y, s.keep, {}, ws);
  ASSERT_EQ(f.status, FitStatus::kOk);
  EXPECT_FALSE(f.used_chord);
  EXPECT_GE(f.chord_iterations, 2);
  const auto ref = reference_on(s, all_columns(s.raw));
  EXPECT_LT(max_rel_diff(f.beta, ref.beta), 1e-10);
  EXPECT_LT(max_rel_diff(f.se, ref.se), 1e-10);
}

TEST(LogisticChord, ForcedFallbackEqualsNewton) {
  const auto s = simulate_protein_study(2000, 6, 4, 3, 0.1, 0.15, 44);
  const SharedDesign d = make_shared_design(s.raw);
  LogisticWorkspace ws;
  const LogisticNull null = make_logistic_null(d, s.y, s.all, ws);
  LogisticOptions strict;
  strict.chord_max_rate = 1e-6;  // no chord iteration contracts this fast
  const LogisticFit f = fit_logistic(d, &null, s.v, s.y, s.keep, {}, ws, strict);
  LogisticOptions newton_opt;
  newton_opt.chord = false;
  const LogisticFit newton = fit_logistic(d, &null, s.v, s.y, s.keep, {}, ws, newton_opt);
  ASSERT_EQ(f.status, FitStatus::kOk);
  EXPECT_FALSE(f.used_chord);
  EXPECT_EQ(f.chord_iterations, 1);  // the first rate estimate, after one step, sends it to Newton
  EXPECT_EQ(f.beta, newton.beta);
  EXPECT_EQ(f.se, newton.se);
}

TEST(LogisticChord, SeparationFallsBackAndIsReported) {
  // A binary predictor whose every 1 is a case: quasi-complete separation along v (beta_v -> infinity).
  auto s = simulate_protein_study(2000, 4, 3, 2, 0.1, 0.2, 45);
  for (Eigen::Index i = 0; i < s.v.size(); ++i) {
    if (!s.keep[static_cast<std::size_t>(i)]) continue;
    s.v(i) = i % 10 == 0 ? 1.0 : 0.0;
    if (s.v(i) == 1.0) s.y(i) = 1.0;
  }
  const SharedDesign d = make_shared_design(s.raw);
  LogisticWorkspace ws;
  const LogisticNull null = make_logistic_null(d, s.y, s.all, ws);
  ASSERT_TRUE(null.ok());
  const LogisticFit f = fit_logistic(d, &null, s.v, s.y, s.keep, {}, ws);
  EXPECT_EQ(f.status, FitStatus::kSeparation);
  EXPECT_FALSE(f.used_chord);
  EXPECT_GE(f.chord_iterations, 1);
  EXPECT_TRUE(f.beta.array().isNaN().all());
}

TEST(LogisticChord, ConstantPredictorAndTooFewCases) {
  auto s = simulate_protein_study(500, 3, 3, 2, 0.1, 0.2, 46);
  const SharedDesign d = make_shared_design(s.raw);
  LogisticWorkspace ws;
  const LogisticNull null = make_logistic_null(d, s.y, s.all, ws);
  Eigen::VectorXd v = s.v;
  for (Eigen::Index i = 0; i < v.size(); ++i)
    if (s.keep[static_cast<std::size_t>(i)]) v(i) = 1.0;
  EXPECT_EQ(fit_logistic(d, &null, v, s.y, s.keep, {}, ws).status, FitStatus::kConstant);
  std::vector<std::uint8_t> few(s.keep.size(), 0);
  for (std::size_t i = 0; i < 8; ++i) few[i] = s.keep[i];
  EXPECT_EQ(fit_logistic(d, &null, s.v, s.y, few, {}, ws).status, FitStatus::kTooFewCases);
}

TEST(LogisticChord, ResultsDoNotDependOnTheWorkspaceHistory) {
  // The engine reuses one workspace per thread across proteins: any state carried over would make results
  // depend on the thread schedule. Fits after others (other masks, columns, paths) equal fits on fresh ones.
  const auto s = simulate_protein_study(2500, 5, 5, 3, 0.1, 0.15, 50);
  const SharedDesign d = make_shared_design(s.raw);
  LogisticWorkspace shared;
  const LogisticNull null = make_logistic_null(d, s.y, s.all, shared);
  std::vector<std::uint8_t> active(static_cast<std::size_t>(s.raw.cols()), 1);
  active[7] = 0;
  LogisticOptions newton;
  newton.chord = false;
  for (int rep = 0; rep < 4; ++rep) {
    std::vector<std::uint8_t> keep = s.keep;
    for (std::size_t i = static_cast<std::size_t>(rep); i < keep.size(); i += 5) keep[i] = 0;
    const std::span<const std::uint8_t> mask = rep % 2 ? std::span<const std::uint8_t>(active) : std::span<const std::uint8_t>();
    const LogisticOptions& opt = rep == 2 ? newton : LogisticOptions{};
    LogisticWorkspace fresh;
    const LogisticFit a = fit_logistic(d, &null, s.v, s.y, keep, mask, shared, opt);
    const LogisticFit b = fit_logistic(d, &null, s.v, s.y, keep, mask, fresh, opt);
    ASSERT_EQ(a.status, FitStatus::kOk);
    EXPECT_EQ(a.used_chord, rep != 2);
    for (Eigen::Index j = 0; j < a.beta.size(); ++j) {
      if (rep % 2 && j < s.raw.cols() && !active[static_cast<std::size_t>(j)]) {
        EXPECT_TRUE(std::isnan(a.beta(j)) && std::isnan(b.beta(j)));
        continue;
      }
      EXPECT_EQ(a.beta(j), b.beta(j)) << rep << " " << j;
      EXPECT_EQ(a.se(j), b.se(j)) << rep << " " << j;
    }
    EXPECT_EQ(a.deviance, b.deviance);
  }
}

// ---- column masks ----

// The masked fit equals the fit on the design without the inactive columns: `cols` are the active ones.
void expect_mask_equals_reduced(const testing::ProteinStudy& s, const std::vector<std::uint8_t>& active,
                                const char* label) {
  std::vector<Eigen::Index> cols;
  for (std::size_t j = 0; j < active.size(); ++j)
    if (active[j]) cols.push_back(static_cast<Eigen::Index>(j));
  Eigen::MatrixXd reduced(s.raw.rows(), static_cast<Eigen::Index>(cols.size()));
  for (std::size_t k = 0; k < cols.size(); ++k) reduced.col(static_cast<Eigen::Index>(k)) = s.raw.col(cols[k]);
  const SharedDesign d = make_shared_design(s.raw);
  const SharedDesign dr = make_shared_design(reduced);
  LogisticWorkspace ws;
  const LogisticNull null = make_logistic_null(d, s.y, s.all, ws);
  const LogisticNull null_r = make_logistic_null(dr, s.y, s.all, ws);
  ASSERT_TRUE(null.ok() && null_r.ok());
  LogisticOptions newton_opt;
  newton_opt.chord = false;
  const auto ref = reference_on(s, cols);
  for (const bool use_chord : {false, true}) {
    const LogisticOptions opt = use_chord ? LogisticOptions{} : newton_opt;
    const LogisticFit m = fit_logistic(d, &null, s.v, s.y, s.keep, active, ws, opt);
    const LogisticFit r = fit_logistic(dr, &null_r, s.v, s.y, s.keep, {}, ws, opt);
    ASSERT_EQ(m.status, FitStatus::kOk) << label;
    ASSERT_EQ(r.status, FitStatus::kOk) << label;
    EXPECT_EQ(m.used_chord, use_chord) << label;
    EXPECT_EQ(m.n_obs, r.n_obs);
    double max_beta = 0.0, max_se = 0.0;
    for (std::size_t j = 0; j < active.size(); ++j)
      if (!active[j]) {
        EXPECT_TRUE(std::isnan(m.beta(static_cast<Eigen::Index>(j))) && std::isnan(m.se(static_cast<Eigen::Index>(j))));
      }
    for (std::size_t k = 0; k <= cols.size(); ++k) {
      const Eigen::Index jm = k < cols.size() ? cols[k] : s.raw.cols();
      const auto jr = static_cast<Eigen::Index>(k);
      max_beta = std::max(max_beta, std::abs(m.beta(jm) - r.beta(jr)) / std::abs(r.beta(jr)));
      max_se = std::max(max_se, std::abs(m.se(jm) - r.se(jr)) / std::abs(r.se(jr)));
      EXPECT_LT(std::abs(m.beta(jm) - ref.beta(jr)) / std::abs(ref.beta(jr)), 1e-10) << label;
      EXPECT_LT(std::abs(m.se(jm) - ref.se(jr)) / std::abs(ref.se(jr)), 1e-10) << label;
    }
    EXPECT_LT(max_beta, 1e-12) << label << (use_chord ? " chord" : " newton");
    EXPECT_LT(max_se, 1e-12) << label << (use_chord ? " chord" : " newton");
    EXPECT_NEAR(m.deviance, r.deviance, 1e-12 * r.deviance);
    std::printf("[mask] %s (%s): masked vs reduced design: beta %.1e se %.1e\n", label,
                use_chord ? "chord" : "newton", max_beta, max_se);
  }
}

TEST(LogisticMask, InactiveColumnEqualsReducedDesign) {
  // A numeric covariate left out.
  const auto s = simulate_protein_study(2500, 5, 5, 3, 0.1, 0.15, 47);
  std::vector<std::uint8_t> active(static_cast<std::size_t>(s.raw.cols()), 1);
  active[3] = 0;
  expect_mask_equals_reduced(s, active, "numeric column");
}

TEST(LogisticMask, EmptyAndSeparatedLevels) {
  // Level 2 of factor a (column 5 + 2 = 7) absent on the kept rows; level 1 of factor b (column 10) without
  // controls, so its rows are dropped too: the engine's use of masks.
  auto s = simulate_protein_study(3000, 5, 5, 3, 0.1, 0.15, 48);
  const Eigen::Index col_a2 = 5 + 2, col_b1 = 5 + 4 + 1;
  for (Eigen::Index i = 0; i < s.raw.rows(); ++i) {
    if (s.raw(i, col_a2) == 1.0) s.keep[static_cast<std::size_t>(i)] = 0;
    if (s.raw(i, col_b1) == 1.0) s.keep[static_cast<std::size_t>(i)] = 0;
    if (!s.keep[static_cast<std::size_t>(i)]) s.v(i) = std::numeric_limits<double>::quiet_NaN();
  }
  std::vector<std::uint8_t> active(static_cast<std::size_t>(s.raw.cols()), 1);
  active[static_cast<std::size_t>(col_a2)] = 0;
  active[static_cast<std::size_t>(col_b1)] = 0;
  expect_mask_equals_reduced(s, active, "empty levels");
}

TEST(LogisticMask, ReferenceLevelEmptyReReferenced) {
  // The reference level of factor a has no kept rows: its first other level (column 6) becomes the reference.
  auto s = simulate_protein_study(3000, 5, 4, 3, 0.1, 0.15, 49);
  for (Eigen::Index i = 0; i < s.raw.rows(); ++i) {
    if (s.raw.block(i, 6, 1, 3).sum() == 0.0) s.keep[static_cast<std::size_t>(i)] = 0;
    if (!s.keep[static_cast<std::size_t>(i)]) s.v(i) = std::numeric_limits<double>::quiet_NaN();
  }
  std::vector<std::uint8_t> active(static_cast<std::size_t>(s.raw.cols()), 1);
  active[6] = 0;
  expect_mask_equals_reduced(s, active, "re-referenced factor");
}

TEST(LogisticBatch, EachFitIsBitIdenticalToItsSingleFitWhateverShareItsBatch) {
  // The engine batches kLanes proteins per thread; which proteins share a batch depends on the block and rank
  // layout. A batch mixing fits that converge by the chord, fall back to Newton (a large effect), drop a column
  // (a mask), keep other rows, or never start (constant v, too few cases) must give every fit exactly what
  // fit_logistic gives it alone, in any lane.
  const auto s = simulate_protein_study(2500, 5, 5, 3, 0.1, 0.15, 51);
  const SharedDesign d = make_shared_design(s.raw);
  LogisticWorkspace single;
  const LogisticNull null = make_logistic_null(d, s.y, s.all, single);
  ASSERT_TRUE(null.ok());
  const auto n = static_cast<std::size_t>(s.v.size());
  std::vector<Eigen::VectorXd> v(7, s.v);
  std::vector<std::vector<std::uint8_t>> keep(7, s.keep), active(7);
  v[1] = s.v + 2.5 * s.y;  // a large effect: the chord contracts slowly, Newton takes over
  std::rotate(keep[2].begin(), keep[2].begin() + 311, keep[2].end());  // other rows (v finite on them)
  for (std::size_t i = 0; i < n; ++i)
    if (keep[2][i] && std::isnan(v[2](static_cast<Eigen::Index>(i)))) v[2](static_cast<Eigen::Index>(i)) = 0.25;
  active[3].assign(static_cast<std::size_t>(s.raw.cols()), 1);
  active[3][7] = 0;  // a masked dummy column
  for (std::size_t i = 0; i < n; ++i)
    if (keep[4][i]) v[4](static_cast<Eigen::Index>(i)) = 1.0;  // constant
  std::fill(keep[5].begin() + 8, keep[5].end(), 0);               // too few cases
  for (Eigen::Index i = 0; i < s.v.size(); ++i) v[6](i) = -2.0 * s.v(i) + 1.0;  // another chord fit

  std::vector<LogisticFit> alone;
  for (std::size_t f = 0; f < v.size(); ++f) alone.push_back(fit_logistic(d, &null, v[f], s.y, keep[f], active[f], single));
  EXPECT_TRUE(alone[0].used_chord && alone[2].used_chord && alone[3].used_chord && alone[6].used_chord);
  EXPECT_FALSE(alone[1].used_chord);
  EXPECT_EQ(alone[4].status, FitStatus::kConstant);
  EXPECT_EQ(alone[5].status, FitStatus::kTooFewCases);

  std::vector<LogisticWorkspace> workspaces(kLanes);
  for (const std::vector<std::size_t>& all :
       {std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6}, {6, 5, 4, 3, 2, 1, 0}, {3, 0}, {2, 6, 1}})
    for (const std::vector<std::size_t>& order : testing::lane_batches(all)) {
      std::vector<const double*> vp;
      std::vector<std::span<const std::uint8_t>> kp, ap;
      std::vector<LogisticWorkspace*> wp;
      for (const std::size_t f : order) {
        vp.push_back(v[f].data());
        kp.emplace_back(keep[f]);
        ap.emplace_back(active[f]);
        wp.push_back(&workspaces[wp.size()]);
      }
      const std::vector<LogisticFit> batch = fit_logistic_batch(d, &null, vp, s.y, kp, ap, wp);
      ASSERT_EQ(batch.size(), order.size());
      for (std::size_t k = 0; k < order.size(); ++k) {
        const LogisticFit& a = alone[order[k]];
        const LogisticFit& b = batch[k];
        EXPECT_EQ(a.status, b.status) << order[k];
        EXPECT_EQ(a.chord_iterations, b.chord_iterations) << order[k];
        EXPECT_EQ(a.iterations, b.iterations) << order[k];
        testing::expect_same_estimates(a.beta, a.se, b.beta, b.se, order[k]);
      }
    }
}

TEST(LogisticBatch, NewtonSweepInLanesEqualsThePerFitSweep) {
  // The Newton sweep at the chord's estimates as one lane pass (X'WX by the lane Gram over the shared rows,
  // lane_information_pass) against each fit's sweep over its gathered rows (lane_information off): the same sums in
  // another order. Fits on their own rows, a masked column, a large effect (Newton takes over in both).
  const auto s = simulate_protein_study(3000, 5, 5, 3, 0.1, 0.15, 53);
  const SharedDesign d = make_shared_design(s.raw);
  LogisticWorkspace single;
  const LogisticNull null = make_logistic_null(d, s.y, s.all, single);
  ASSERT_TRUE(null.ok());
  const auto n = static_cast<std::size_t>(s.v.size());
  std::vector<Eigen::VectorXd> v(6, s.v);
  std::vector<std::vector<std::uint8_t>> keep(6, s.keep), active(6);
  for (std::size_t f = 1; f < v.size(); ++f) std::rotate(keep[f].begin(), keep[f].begin() + 131 * f, keep[f].end());
  v[2] = s.v + 2.5 * s.y;  // a large effect
  active[3].assign(static_cast<std::size_t>(s.raw.cols()), 1);
  active[3][7] = 0;
  for (Eigen::Index i = 0; i < s.v.size(); ++i) v[4](i) = 0.5 * s.v(i) + std::sin(0.01 * static_cast<double>(i));
  for (std::size_t f = 0; f < v.size(); ++f)
    for (std::size_t i = 0; i < n; ++i)
      if (keep[f][i] && std::isnan(v[f](static_cast<Eigen::Index>(i)))) v[f](static_cast<Eigen::Index>(i)) = 0.25;
  std::vector<LogisticWorkspace> workspaces(2 * kLanes);
  int compared = 0, reordered = 0;
  for (const std::vector<std::size_t>& order : testing::lane_batches({0, 1, 2, 3, 4, 5})) {
    std::vector<const double*> vp;
    std::vector<std::span<const std::uint8_t>> kp, ap;
    std::vector<LogisticWorkspace*> wa, wb;
    for (const std::size_t f : order) {
      vp.push_back(v[f].data());
      kp.emplace_back(keep[f]);
      ap.emplace_back(active[f]);
      wa.push_back(&workspaces[wa.size()]);
      wb.push_back(&workspaces[kLanes + wb.size()]);
    }
    LogisticOptions per_fit;
    per_fit.lane_information = false;
    const std::vector<LogisticFit> a = fit_logistic_batch(d, &null, vp, s.y, kp, ap, wa);
    const std::vector<LogisticFit> b = fit_logistic_batch(d, &null, vp, s.y, kp, ap, wb, per_fit);
    for (std::size_t k = 0; k < order.size(); ++k) {
      ASSERT_EQ(a[k].status, FitStatus::kOk) << order[k];
      ASSERT_EQ(b[k].status, FitStatus::kOk) << order[k];
      EXPECT_EQ(a[k].used_chord, b[k].used_chord);
      EXPECT_EQ(a[k].iterations, b[k].iterations);
      for (Eigen::Index j = 0; j < a[k].beta.size(); ++j) {
        if (std::isnan(b[k].beta(j))) {
          EXPECT_TRUE(std::isnan(a[k].beta(j)));
          continue;
        }
        EXPECT_NEAR(a[k].beta(j), b[k].beta(j), 1e-11 * (1.0 + std::abs(b[k].beta(j)))) << order[k] << " " << j;
        EXPECT_NEAR(a[k].se(j), b[k].se(j), 1e-11 * b[k].se(j)) << order[k] << " " << j;
      }
      EXPECT_NEAR(a[k].deviance, b[k].deviance, 1e-11 * b[k].deviance);
      const Eigen::Index jv = a[k].beta.size() - 1;
      if (a[k].se(jv) != b[k].se(jv)) ++reordered;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 6);
  EXPECT_GT(reordered, 0);  // the lane pass did run: its sums differ in the last bits
}

}  // namespace
}  // namespace pwas::kernels
