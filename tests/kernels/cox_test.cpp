// fit_cox by hand: a long-double brute-force partial likelihood (Efron and Breslow, strata, weights) and its
// numerical derivatives, the log-rank test, weights against duplicated rows, every status path, column masks,
// workspace reuse and the score screen.
#include "kernels/cox.hpp"

#include <gtest/gtest.h>

#include "kernels/cox_detail.hpp"
#include "kernels/cox_perm.hpp"
#include "kernels/lane_blocks.hpp"
#include "kernels/resampling.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "tests/kernels/batches.hpp"
#include "tests/kernels/simulate.hpp"
#include "tests/kernels/simulate_survival.hpp"

namespace pwas::kernels {
namespace {

struct Small {
  Eigen::MatrixXd raw;  // [n x 4] intercept, x1, x2 (binary), x3 (offset 50)
  Eigen::VectorXd v, time;
  std::vector<std::uint8_t> event, keep;
  std::vector<std::int32_t> stratum;
  std::vector<double> weights;
};

// n rows, times on a coarse grid (ties), 2 strata, v missing on ~10% of rows, weights 0..3.
Small make_small(int n, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> z(0.0, 1.0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Small s;
  s.raw.resize(n, 4);
  s.v.resize(n);
  s.time.resize(n);
  for (int i = 0; i < n; ++i) {
    s.raw.row(i) << 1.0, z(gen), u(gen) < 0.4 ? 1.0 : 0.0, 50.0 + 3.0 * z(gen);
    s.v(i) = 0.5 * s.raw(i, 1) + z(gen);
    const double lp = 0.3 * s.raw(i, 1) - 0.4 * s.raw(i, 2) + 0.05 * (s.raw(i, 3) - 50.0) + 0.4 * s.v(i);
    const double t = -std::log(u(gen)) / std::exp(lp), c = 2.0 * u(gen);
    s.time(i) = std::ceil(std::min(t, c) * 8.0);
    s.event.push_back(t <= c ? 1 : 0);
    s.stratum.push_back(u(gen) < 0.5 ? 0 : 1);
    s.keep.push_back(u(gen) < 0.1 ? 0 : 1);
    s.weights.push_back(std::floor(4.0 * u(gen)));
  }
  return s;
}

// Brute-force log partial likelihood at beta [4] (beta(0) ignored) + beta_v, over kept rows with weights
// (frequency weights: a row of weight k is k rows), long double, O(n^2).
long double brute_loglik(const Small& s, const Eigen::VectorXd& beta, bool efron, bool strata, bool weighted) {
  const int n = static_cast<int>(s.time.size());
  auto w = [&](int i) { return weighted ? s.weights[static_cast<std::size_t>(i)] : 1.0; };
  auto eta = [&](int i) {
    long double e = beta(3 + 1) * s.v(i);
    for (int j = 1; j < 4; ++j) e += static_cast<long double>(beta(j)) * s.raw(i, j);
    return e;
  };
  auto same = [&](int i, int j) { return !strata || s.stratum[static_cast<std::size_t>(i)] == s.stratum[static_cast<std::size_t>(j)]; };
  long double ll = 0.0L;
  std::vector<bool> done(static_cast<std::size_t>(n), false);
  for (int i = 0; i < n; ++i) {
    if (!s.keep[static_cast<std::size_t>(i)] || !s.event[static_cast<std::size_t>(i)] || w(i) == 0.0 || done[static_cast<std::size_t>(i)]) continue;
    // The tie group of i: kept events at its time in its stratum.
    long double d = 0.0L, e0 = 0.0L, risk = 0.0L;
    for (int j = 0; j < n; ++j) {
      if (!s.keep[static_cast<std::size_t>(j)] || !same(i, j) || w(j) == 0.0) continue;
      if (s.time(j) >= s.time(i)) risk += w(j) * std::exp(eta(j));
      if (s.time(j) == s.time(i) && s.event[static_cast<std::size_t>(j)]) {
        d += w(j);
        e0 += w(j) * std::exp(eta(j));
        ll += w(j) * eta(j);
        done[static_cast<std::size_t>(j)] = true;
      }
    }
    for (int k = 0; k < static_cast<int>(d); ++k) ll -= std::log(risk - (efron ? k / d : 0.0L) * e0);
  }
  return ll;
}

struct Fitted {
  SharedDesign d;
  CoxSurvival surv;
};

Fitted setup(const Small& s, bool strata) {
  return {make_shared_design(s.raw),
          make_cox_survival(s.time, s.event, strata ? std::span<const std::int32_t>(s.stratum) : std::span<const std::int32_t>())};
}

TEST(Cox, MatchesBruteForcePartialLikelihoodAndItsDerivatives) {
  const Small s = make_small(150, 3);
  for (const bool efron : {true, false})
    for (const bool strata : {false, true})
      for (const bool weighted : {false, true}) {
        SCOPED_TRACE(std::to_string(efron) + std::to_string(strata) + std::to_string(weighted));
        const Fitted f = setup(s, strata);
        CoxOptions opt;
        opt.ties = efron ? CoxTies::kEfron : CoxTies::kBreslow;
        CoxWorkspace ws;
        const std::span<const double> w = weighted ? std::span<const double>(s.weights) : std::span<const double>();
        const CoxFit fit = fit_cox(f.d, f.surv, nullptr, s.v, s.keep, {}, w, ws, opt);
        ASSERT_EQ(fit.status, FitStatus::kOk);
        const long double ll = brute_loglik(s, fit.beta, efron, strata, weighted);
        EXPECT_NEAR(fit.loglik, static_cast<double>(ll), 1e-11 * std::abs(static_cast<double>(ll)));
        // Numerical score ~ 0 (step 1e-6: long double rounding ~1e-19 |l| / h stays far below the check) and
        // Hessian (step 1e-4: truncation ~h^2 relative): SEs are sqrt(diag(-H^-1)).
        const double h = 1e-4, hg = 1e-6;
        Eigen::Matrix4d hess;
        const int idx[4] = {1, 2, 3, 4};
        for (int a = 0; a < 4; ++a) {
          Eigen::VectorXd bp = fit.beta, bm = fit.beta;
          bp(idx[a]) += hg;
          bm(idx[a]) -= hg;
          const double grad = static_cast<double>(brute_loglik(s, bp, efron, strata, weighted) -
                                                  brute_loglik(s, bm, efron, strata, weighted)) / (2 * hg);
          EXPECT_NEAR(grad, 0.0, 1e-8);
          for (int b = 0; b < 4; ++b) {
            auto at = [&](double da, double db) {
              Eigen::VectorXd bb = fit.beta;
              bb(idx[a]) += da;
              bb(idx[b]) += db;
              return brute_loglik(s, bb, efron, strata, weighted);
            };
            hess(a, b) = static_cast<double>(at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h);
          }
        }
        const Eigen::Matrix4d cov = (-hess).inverse();
        for (int a = 0; a < 4; ++a) EXPECT_NEAR(fit.se(idx[a]), std::sqrt(cov(a, a)), 1e-5 * fit.se(idx[a]));
      }
}

TEST(Cox, ScoreTestEqualsLogRankWithoutTies) {
  // Two groups, distinct times: the Cox score test for the group indicator is the log-rank test,
  // (O - E)^2 / V with E and V summed over event times of n1 / n and n1 n0 / n^2.
  std::mt19937_64 gen(5);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const int n = 80;
  Eigen::MatrixXd raw = Eigen::MatrixXd::Ones(n, 1);
  Eigen::VectorXd v(n), time(n);
  std::vector<std::uint8_t> event, keep(n, 1);
  for (int i = 0; i < n; ++i) {
    v(i) = i % 2;
    time(i) = -std::log(u(gen)) * (v(i) == 1 ? 0.6 : 1.0) + 1e-9 * i;
    event.push_back(u(gen) < 0.7 ? 1 : 0);
  }
  double o_minus_e = 0.0, var = 0.0;
  for (int i = 0; i < n; ++i) {
    if (!event[i]) continue;
    double n1 = 0.0, n0 = 0.0;
    for (int j = 0; j < n; ++j)
      if (time(j) >= time(i)) (v(j) == 1 ? n1 : n0) += 1.0;
    o_minus_e += v(i) - n1 / (n1 + n0);
    var += n1 * n0 / ((n1 + n0) * (n1 + n0));
  }
  const SharedDesign d = make_shared_design(raw);
  const CoxSurvival surv = make_cox_survival(time, event, {});
  for (const CoxTies ties : {CoxTies::kEfron, CoxTies::kBreslow}) {
    CoxWorkspace ws;
    CoxOptions opt;
    opt.ties = ties;
    const CoxFit f = fit_cox(d, surv, nullptr, v, keep, {}, {}, ws, opt);
    ASSERT_EQ(f.status, FitStatus::kOk);
    EXPECT_NEAR(f.score, o_minus_e * o_minus_e / var, 1e-12 * f.score);
    EXPECT_TRUE(std::isnan(f.beta(0)));
  }
}

TEST(Cox, FrequencyWeightsEqualDuplicatedRows) {
  const Small s = make_small(300, 9);
  // The same data with row i repeated weights[i] times.
  Small dup;
  int m = 0;
  for (double w : s.weights) m += static_cast<int>(w);
  dup.raw.resize(m, 4);
  dup.v.resize(m);
  dup.time.resize(m);
  int r = 0;
  for (int i = 0; i < static_cast<int>(s.weights.size()); ++i)
    for (int k = 0; k < static_cast<int>(s.weights[static_cast<std::size_t>(i)]); ++k, ++r) {
      dup.raw.row(r) = s.raw.row(i);
      dup.v(r) = s.v(i);
      dup.time(r) = s.time(i);
      dup.event.push_back(s.event[static_cast<std::size_t>(i)]);
      dup.keep.push_back(s.keep[static_cast<std::size_t>(i)]);
      dup.stratum.push_back(s.stratum[static_cast<std::size_t>(i)]);
    }
  for (const CoxTies ties : {CoxTies::kEfron, CoxTies::kBreslow})
    for (const bool strata : {false, true}) {
      const Fitted a = setup(s, strata), b = setup(dup, strata);
      CoxOptions opt;
      opt.ties = ties;
      CoxWorkspace ws;
      const CoxNull null_a = make_cox_null(a.d, a.surv, s.keep, {}, s.weights, ws, opt);
      const CoxFit fa = fit_cox(a.d, a.surv, &null_a, s.v, s.keep, {}, s.weights, ws, opt);
      const CoxFit fb = fit_cox(b.d, b.surv, nullptr, dup.v, dup.keep, {}, {}, ws, opt);
      ASSERT_EQ(fa.status, FitStatus::kOk);
      ASSERT_EQ(fb.status, FitStatus::kOk);
      EXPECT_EQ(fa.n_obs, fb.n_obs);
      EXPECT_EQ(fa.n_events, fb.n_events);
      for (int j = 1; j <= 4; ++j) {
        EXPECT_NEAR(fa.beta(j), fb.beta(j), 1e-9 * std::abs(fb.beta(j)));
        EXPECT_NEAR(fa.se(j), fb.se(j), 1e-9 * fb.se(j));
      }
      EXPECT_NEAR(fa.loglik, fb.loglik, 1e-11 * std::abs(fb.loglik));
      EXPECT_NEAR(fa.score, fb.score, 1e-9 * fb.score);
      EXPECT_NEAR(fa.lrt, fb.lrt, 1e-8 * fb.lrt);
      EXPECT_NEAR(fa.ph_chisq, fb.ph_chisq, 1e-9 * fb.ph_chisq);
      EXPECT_NEAR(fa.ph_global_chisq, fb.ph_global_chisq, 1e-9 * fb.ph_global_chisq);
    }
}

TEST(Cox, MonotoneLikelihoodIsSeparation) {
  // Only rows with v = 1 have events: the partial likelihood increases without bound in beta_v.
  const int n = 60;
  Eigen::MatrixXd raw(n, 2);
  Eigen::VectorXd v(n), time(n);
  std::vector<std::uint8_t> event, keep(n, 1);
  for (int i = 0; i < n; ++i) {
    raw.row(i) << 1.0, std::sin(i);
    v(i) = i % 3 == 0 ? 1.0 : 0.0;
    time(i) = 1 + (i * 7) % 23;
    event.push_back(v(i) == 1.0 && i % 2 == 0 ? 1 : 0);
  }
  const SharedDesign d = make_shared_design(raw);
  const CoxSurvival surv = make_cox_survival(time, event, {});
  for (const CoxTies ties : {CoxTies::kEfron, CoxTies::kBreslow}) {
    CoxWorkspace ws;
    CoxOptions opt;
    opt.ties = ties;
    const CoxFit f = fit_cox(d, surv, nullptr, v, keep, {}, {}, ws, opt);
    EXPECT_EQ(f.status, FitStatus::kSeparation);
    EXPECT_TRUE(std::isnan(f.beta(2)));
  }
}

TEST(Cox, StatusPaths) {
  const Small s = make_small(120, 4);
  const Fitted f = setup(s, false);
  CoxWorkspace ws;
  // No events at all.
  const std::vector<std::uint8_t> none(s.event.size(), 0);
  const CoxSurvival censored = make_cox_survival(s.time, none, {});
  EXPECT_EQ(fit_cox(f.d, censored, nullptr, s.v, s.keep, {}, {}, ws).status, FitStatus::kTooFewCases);
  // Fewer events than min_events.
  CoxOptions opt;
  int events = 0;
  for (std::size_t i = 0; i < s.event.size(); ++i) events += s.event[i] && s.keep[i];
  opt.min_events = events + 1;
  const CoxFit few = fit_cox(f.d, f.surv, nullptr, s.v, s.keep, {}, {}, ws, opt);
  EXPECT_EQ(few.status, FitStatus::kTooFewCases);
  EXPECT_EQ(few.n_events, events);
  opt.min_events = events;
  EXPECT_EQ(fit_cox(f.d, f.surv, nullptr, s.v, s.keep, {}, {}, ws, opt).status, FitStatus::kOk);
  // Constant protein.
  const Eigen::VectorXd constant = Eigen::VectorXd::Constant(s.v.size(), 2.5);
  EXPECT_EQ(fit_cox(f.d, f.surv, nullptr, constant, s.keep, {}, {}, ws).status, FitStatus::kConstant);
  // Protein aliased with a covariate.
  const Eigen::VectorXd aliased = 2.0 * s.raw.col(1).array() + 1.0;
  EXPECT_EQ(fit_cox(f.d, f.surv, nullptr, aliased, s.keep, {}, {}, ws).status, FitStatus::kSingular);
  // As many rows as columns.
  std::vector<std::uint8_t> four(s.keep.size(), 0);
  for (std::size_t i = 0, k = 0; i < four.size() && k < 4; ++i)
    if (s.event[i]) four[i] = 1, ++k;
  EXPECT_EQ(fit_cox(f.d, f.surv, nullptr, s.v, four, {}, {}, ws).status, FitStatus::kTooFewCases);
}

TEST(Cox, ChordFallsBackToNewtonAndAgreesWithIt) {
  // A strong protein effect (HR ~ e per SD): the information at the start is far from the one at the estimate,
  // the chord contracts slowly and must hand over to Newton; every path ends at the same estimate.
  const auto study = testing::simulate_protein_study(3000, 4, 4, 3, 0.1, 0.0, 41);
  const auto o = testing::simulate_survival(study, 1.0, 0.3, 2, 43);
  const SharedDesign d = make_shared_design(study.raw);
  const CoxSurvival surv = make_cox_survival(o.time, o.event, o.stratum);
  CoxWorkspace ws;
  const CoxNull null = make_cox_null(d, surv, study.all, {}, {}, ws);
  CoxOptions newton;
  newton.chord = false;
  CoxOptions strict;  // a contraction limit the chord cannot meet at this effect size
  strict.chord_max_rate = 0.01;
  const CoxFit a = fit_cox(d, surv, &null, study.v, study.keep, {}, {}, ws);
  const CoxFit b = fit_cox(d, surv, &null, study.v, study.keep, {}, {}, ws, newton);
  const CoxFit c = fit_cox(d, surv, &null, study.v, study.keep, {}, {}, ws, strict);
  ASSERT_EQ(a.status, FitStatus::kOk);
  ASSERT_EQ(b.status, FitStatus::kOk);
  ASSERT_EQ(c.status, FitStatus::kOk);
  EXPECT_EQ(b.chord_iterations, 0);
  EXPECT_GT(b.iterations, 1);
  EXPECT_GT(c.iterations, 1);  // Newton took over
  const Eigen::Index jv = d.n_cov();
  EXPECT_GT(b.beta(jv), 0.5);
  for (const CoxFit* f : {&a, &c}) {
    EXPECT_NEAR(f->beta(jv), b.beta(jv), 1e-10 * std::abs(b.beta(jv)));
    EXPECT_NEAR(f->se(jv), b.se(jv), 1e-8 * b.se(jv));
    EXPECT_NEAR(f->score, b.score, 1e-9 * b.score);
    EXPECT_NEAR(f->lrt, b.lrt, 1e-9 * b.lrt);
    EXPECT_NEAR(f->ph_global_chisq, b.ph_global_chisq, 1e-7 * b.ph_global_chisq);
  }
  // Too few Newton steps allowed: not converged, an ERRCODE rather than a wrong number.
  newton.max_iter = 1;
  const CoxFit n1 = fit_cox(d, surv, &null, study.v, study.keep, {}, {}, ws, newton);
  EXPECT_EQ(n1.status, FitStatus::kNotConverged);
  EXPECT_TRUE(std::isnan(n1.beta(jv)));
}

TEST(Cox, InactiveColumnEqualsDroppingIt) {
  const Small s = make_small(200, 12);
  const Fitted f = setup(s, true);
  Eigen::MatrixXd raw3(s.raw.rows(), 3);
  raw3 << s.raw.col(0), s.raw.col(1), s.raw.col(3);
  const SharedDesign d3 = make_shared_design(raw3);
  CoxWorkspace ws;
  const std::vector<std::uint8_t> active = {1, 1, 0, 1};
  const CoxNull null = make_cox_null(f.d, f.surv, s.keep, active, {}, ws);
  const CoxFit a = fit_cox(f.d, f.surv, &null, s.v, s.keep, active, {}, ws);
  const CoxFit b = fit_cox(d3, f.surv, nullptr, s.v, s.keep, {}, {}, ws);
  ASSERT_EQ(a.status, FitStatus::kOk);
  ASSERT_EQ(b.status, FitStatus::kOk);
  EXPECT_TRUE(std::isnan(a.beta(2)) && std::isnan(a.se(2)));
  const int map[3] = {1, 3, 4};  // columns of a for b's 1, 2, 3 (v)
  for (int j = 1; j <= 3; ++j) {
    EXPECT_NEAR(a.beta(map[j - 1]), b.beta(j), 1e-10 * std::abs(b.beta(j)));
    EXPECT_NEAR(a.se(map[j - 1]), b.se(j), 1e-10 * b.se(j));
  }
  EXPECT_NEAR(a.score, b.score, 1e-10 * b.score);
  EXPECT_NEAR(a.ph_global_chisq, b.ph_global_chisq, 1e-10 * b.ph_global_chisq);
  EXPECT_EQ(a.ph_global_df, 3);
}

TEST(Cox, WorkspaceReuseAcrossMasksIsExact) {
  const Small s = make_small(200, 13);
  const Fitted f = setup(s, true);
  std::vector<std::uint8_t> other = s.keep;
  for (std::size_t i = 0; i < other.size(); i += 3) other[i] = 0;
  CoxWorkspace fresh, reused;
  const CoxFit a = fit_cox(f.d, f.surv, nullptr, s.v, s.keep, {}, {}, fresh);
  fit_cox(f.d, f.surv, nullptr, s.v, other, {}, s.weights, reused);
  const CoxFit b = fit_cox(f.d, f.surv, nullptr, s.v, s.keep, {}, {}, reused);
  for (int j = 1; j <= 4; ++j) {
    EXPECT_EQ(a.beta(j), b.beta(j));
    EXPECT_EQ(a.se(j), b.se(j));
  }
  EXPECT_EQ(a.ph_chisq, b.ph_chisq);
  // One workspace across analyses: a narrower design with fewer tie groups (no strata), then this one again.
  Eigen::MatrixXd raw2(s.raw.rows(), 2);
  raw2 << s.raw.col(0), s.raw.col(3);
  const SharedDesign d2 = make_shared_design(raw2);
  const CoxSurvival pooled = make_cox_survival(s.time, s.event, {});
  ASSERT_LT(pooled.n_groups(), f.surv.n_groups());
  CoxWorkspace shared;
  fit_cox(d2, pooled, nullptr, s.v, s.keep, {}, {}, shared);
  const CoxFit c = fit_cox(f.d, f.surv, nullptr, s.v, s.keep, {}, {}, shared);
  for (int j = 1; j <= 4; ++j) EXPECT_EQ(a.beta(j), c.beta(j));
  EXPECT_EQ(a.ph_global_chisq, c.ph_global_chisq);
}

TEST(Cox, ScoreScreenFromTheNullModel) {
  const auto study = testing::simulate_protein_study(4000, 6, 5, 3, 0.0, 0.0, 17);
  const auto o = testing::simulate_survival(study, 0.15, 0.1, 2, 19);
  const SharedDesign d = make_shared_design(study.raw);
  const CoxSurvival surv = make_cox_survival(o.time, o.event, o.stratum);
  for (const CoxTies ties : {CoxTies::kEfron, CoxTies::kBreslow}) {
    CoxOptions opt;
    opt.ties = ties;
    CoxWorkspace ws;
    const CoxNull null = make_cox_null(d, surv, study.all, {}, {}, ws, opt);
    ASSERT_TRUE(null.ok());
    // Every null row kept: the screen is the full fit's score test.
    const CoxFit full = fit_cox(d, surv, &null, study.v, study.all, {}, {}, ws, opt);
    ASSERT_EQ(full.status, FitStatus::kOk);
    EXPECT_NEAR(cox_score_screen(d, null, study.v, study.all, ws), full.score, 1e-9 * full.score);
    // 5% of the rows missing: an approximation, close to the exact score test for a modest effect.
    std::vector<std::uint8_t> keep = study.all;
    for (std::size_t i = 0; i < keep.size(); i += 20) keep[i] = 0;
    const CoxFit part = fit_cox(d, surv, &null, study.v, keep, {}, {}, ws, opt);
    const double screen = cox_score_screen(d, null, study.v, keep, ws);
    EXPECT_NEAR(screen, part.score, 0.05 * part.score);
  }
}

TEST(Cox, PercentExcessRiskMediatedWithBootstrapInterval) {
  // x1 raises the hazard and v (= 0.5 x1 + noise) carries part of it: adding v shrinks x1's HR.
  const Small s = make_small(400, 21);
  const Fitted f = setup(s, true);
  CoxWorkspace ws;
  std::vector<double> reps(60);
  const CoxPerm p = cox_perm(f.d, f.surv, 1, s.v, s.keep, {}, 60, 99, reps, ws);
  ASSERT_EQ(p.status, FitStatus::kOk);
  CoxOptions no_ph;
  no_ph.ph_test = false;
  auto perm_with_weights = [&](std::span<const double> w) {
    const CoxNull null = make_cox_null(f.d, f.surv, s.keep, {}, w, ws, no_ph);
    const CoxFit full = fit_cox(f.d, f.surv, &null, s.v, s.keep, {}, w, ws, no_ph);
    const double hw = std::exp(null.fit.beta(1)), hv = std::exp(full.beta(1));
    return (hw - hv) / (hw - 1.0) * 100.0;
  };
  EXPECT_NEAR(p.perm, perm_with_weights({}), 1e-9 * std::abs(p.perm));
  EXPECT_GT(p.hr_without, p.hr_with);
  // Replicate 3 is the two fits with the Poisson weights of stream (99, 3).
  std::vector<double> w(s.v.size());
  poisson_weights(99, 3, w);
  EXPECT_NEAR(reps[3], perm_with_weights(w), 1e-9 * std::abs(reps[3]));
  EXPECT_EQ(p.replicates_ok, 60);
  EXPECT_LT(p.replicates_alone, 6);  // the rest ran as lanes, 8 replicates a batch
  // A replicate's value does not depend on the batch it shares: 5 replicates batch replicate 3 with 0-4 only.
  std::vector<double> few(5);
  cox_perm(f.d, f.surv, 1, s.v, s.keep, {}, 5, 99, few, ws);
  for (int b = 0; b < 5; ++b) EXPECT_EQ(few[static_cast<std::size_t>(b)], reps[static_cast<std::size_t>(b)]) << b;
  EXPECT_LT(p.lower, p.perm);
  EXPECT_GT(p.upper, p.perm);
  // Counter-based streams: the same seed gives the same interval, another seed another one.
  const CoxPerm again = cox_perm(f.d, f.surv, 1, s.v, s.keep, {}, 60, 99, {}, ws);
  EXPECT_EQ(again.lower, p.lower);
  EXPECT_EQ(again.upper, p.upper);
  const CoxPerm other = cox_perm(f.d, f.surv, 1, s.v, s.keep, {}, 60, 100, {}, ws);
  EXPECT_NE(other.lower, p.lower);
}


TEST(CoxBatch, EachFitIsBitIdenticalToItsSingleFitWhateverShareItsBatch) {
  // As LogisticBatch: the engine batches kLanes proteins per thread. A batch mixing fits on the null's own rows
  // (no refit), on other rows (a covariates-only refit in the lanes), a strong effect (the chord gives way to
  // Newton), a masked column (no lanes: the exact path), a constant protein and too few events must give each fit
  // what fit_cox gives it alone, to the bit, in any lane.
  const auto study = testing::simulate_protein_study(3000, 4, 4, 3, 0.1, 0.0, 61);
  const auto o = testing::simulate_survival(study, 0.2, 0.2, 2, 63);
  const SharedDesign d = make_shared_design(study.raw);
  const CoxSurvival surv = make_cox_survival(o.time, o.event, o.stratum);
  CoxWorkspace single;
  const CoxNull null = make_cox_null(d, surv, study.all, {}, {}, single);
  ASSERT_TRUE(null.ok());
  const auto n = static_cast<std::size_t>(study.v.size());
  std::vector<Eigen::VectorXd> v(7, study.v);
  std::vector<std::vector<std::uint8_t>> keep(7, study.keep), active(7);
  keep[0] = study.all;                                                  // the null's rows
  std::rotate(keep[1].begin(), keep[1].begin() + 311, keep[1].end());  // other rows
  for (std::size_t i = 0; i < n; ++i) {
    const auto t = static_cast<Eigen::Index>(i);
    v[2](t) = study.v(t) + 3.0 * o.event[i];  // a strong effect
    if (keep[4][i]) v[4](t) = 1.0;             // constant
    v[6](t) = -0.5 * study.v(t) + 0.1 * std::sin(static_cast<double>(i));
  }
  for (std::size_t f = 0; f < v.size(); ++f)
    for (std::size_t i = 0; i < n; ++i)
      if (keep[f][i] && std::isnan(v[f](static_cast<Eigen::Index>(i)))) v[f](static_cast<Eigen::Index>(i)) = 0.25;
  active[3].assign(static_cast<std::size_t>(d.n_cov()), 1);
  active[3][6] = 0;  // a masked dummy column
  for (std::size_t i = 0; i < n; ++i)
    if (o.event[i]) keep[5][i] = 0;  // no events
  std::vector<CoxFit> alone;
  for (std::size_t f = 0; f < v.size(); ++f)
    alone.push_back(fit_cox(d, surv, &null, v[f], keep[f], active[f], {}, single));
  EXPECT_EQ(alone[0].null_chord_iterations, 0);
  EXPECT_GT(alone[1].null_chord_iterations, 0);
  EXPECT_GT(alone[1].chord_iterations, 0);
  EXPECT_EQ(alone[4].status, FitStatus::kConstant);
  EXPECT_EQ(alone[5].status, FitStatus::kTooFewCases);
  for (const std::size_t f : {0, 1, 2, 3, 6}) EXPECT_EQ(alone[f].status, FitStatus::kOk) << f;

  CoxWorkspace batch_ws;
  for (const std::vector<std::size_t>& all :
       {std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6}, {6, 5, 4, 3, 2, 1, 0}, {3, 1}, {2, 6, 0}})
    for (const std::vector<std::size_t>& order : testing::lane_batches(all)) {
      std::vector<const double*> vp;
      std::vector<std::span<const std::uint8_t>> kp, ap;
      for (const std::size_t f : order) {
        vp.push_back(v[f].data());
        kp.emplace_back(keep[f]);
        ap.emplace_back(active[f]);
      }
      std::vector<CoxFit> batch(order.size());
      fit_cox_batch(d, surv, &null, vp, kp, ap, {}, batch_ws, batch);
      for (std::size_t k = 0; k < order.size(); ++k) {
        const CoxFit& a = alone[order[k]];
        const CoxFit& b = batch[k];
        EXPECT_EQ(a.status, b.status) << order[k];
        EXPECT_EQ(a.chord_iterations, b.chord_iterations) << order[k];
        EXPECT_EQ(a.null_chord_iterations, b.null_chord_iterations) << order[k];
        EXPECT_EQ(a.iterations, b.iterations) << order[k];
        testing::expect_same_estimates(a.beta, a.se, b.beta, b.se, order[k]);
        if (a.status != FitStatus::kOk) continue;
        EXPECT_EQ(a.loglik, b.loglik) << order[k];
        EXPECT_EQ(a.score, b.score) << order[k];
        EXPECT_EQ(a.lrt, b.lrt) << order[k];
        EXPECT_EQ(a.ph_chisq, b.ph_chisq) << order[k];
        EXPECT_EQ(a.ph_global_chisq, b.ph_global_chisq) << order[k];
      }
    }
}


TEST(CoxLanes, ExactPassesInLanesEqualThePerFitPasses) {
  // The exact passes of a batch (the score test's information, the Newton check, cox.zph) as lanes over the shared
  // rows (kernels/cox_lane_exact.cpp) against each fit's own passes over a copy of its rows (lane_exact off): the
  // same sums in another order. Efron and Breslow, strata, tied times, frequency weights, cox.zph with and without
  // GLOBAL, fits on their own rows, a masked column (the per-fit path in both).
  const auto study = testing::simulate_protein_study(2500, 5, 5, 3, 0.1, 0.0, 71);
  const auto o = testing::simulate_survival(study, 0.3, 0.3, 3, 73);
  const SharedDesign d = make_shared_design(study.raw);
  Eigen::VectorXd days = o.time.array().ceil();  // ties
  const CoxSurvival surv = make_cox_survival(days, o.event, o.stratum);
  const auto n = static_cast<std::size_t>(study.v.size());
  std::vector<Eigen::VectorXd> v(5, study.v);
  std::vector<std::vector<std::uint8_t>> keep(5, study.keep), active(5);
  for (std::size_t f = 1; f < v.size(); ++f) std::rotate(keep[f].begin(), keep[f].begin() + 97 * f, keep[f].end());
  for (std::size_t i = 0; i < n; ++i) {
    const auto t = static_cast<Eigen::Index>(i);
    v[2](t) = study.v(t) + 0.8 * o.event[i];
    v[3](t) = std::cos(0.01 * static_cast<double>(i)) + 0.3 * study.v(t);
  }
  for (std::size_t f = 0; f < v.size(); ++f)
    for (std::size_t i = 0; i < n; ++i)
      if (keep[f][i] && std::isnan(v[f](static_cast<Eigen::Index>(i)))) v[f](static_cast<Eigen::Index>(i)) = 0.25;
  active[4].assign(static_cast<std::size_t>(d.n_cov()), 1);
  active[4][5] = 0;
  std::vector<double> weights(n);
  std::mt19937_64 gen(75);
  std::poisson_distribution<int> pois(1.0);
  for (double& w : weights) w = pois(gen);
  std::vector<const double*> vp;
  std::vector<std::span<const std::uint8_t>> kp, ap;
  for (std::size_t f = 0; f < v.size(); ++f) {
    vp.push_back(v[f].data());
    kp.emplace_back(keep[f]);
    ap.emplace_back(active[f]);
  }
  int compared = 0, reordered = 0;
  for (const CoxTies ties : {CoxTies::kEfron, CoxTies::kBreslow})
    for (const bool global : {true, false})
      for (const bool weighted : {false, true}) {
        CoxOptions lanes;
        lanes.ties = ties;
        lanes.ph_global = global;
        CoxOptions per_fit = lanes;
        per_fit.lane_exact = false;
        const std::span<const double> w = weighted ? std::span<const double>(weights) : std::span<const double>{};
        CoxWorkspace ws;
        const CoxNull null = make_cox_null(d, surv, study.all, {}, w, ws, lanes);
        ASSERT_TRUE(null.ok());
        for (const std::vector<std::size_t>& order : testing::lane_batches({0, 1, 2, 3, 4})) {
          std::vector<const double*> bv;
          std::vector<std::span<const std::uint8_t>> bk, ba;
          for (const std::size_t f : order) {
            bv.push_back(vp[f]);
            bk.push_back(kp[f]);
            ba.push_back(ap[f]);
          }
          std::vector<CoxFit> a(order.size()), b(order.size());
          fit_cox_batch(d, surv, &null, bv, bk, ba, w, ws, a, lanes);
          fit_cox_batch(d, surv, &null, bv, bk, ba, w, ws, b, per_fit);
          for (std::size_t k = 0; k < order.size(); ++k) {
            ASSERT_EQ(a[k].status, FitStatus::kOk) << order[k];
            ASSERT_EQ(b[k].status, FitStatus::kOk) << order[k];
            EXPECT_EQ(a[k].iterations, b[k].iterations);
            const Eigen::Index jv = d.n_cov();
            for (Eigen::Index j = 1; j <= jv; ++j) {
              if (std::isnan(b[k].beta(j))) {
                EXPECT_TRUE(std::isnan(a[k].beta(j)));
                continue;
              }
              EXPECT_NEAR(a[k].beta(j), b[k].beta(j), 1e-12 * (1.0 + std::abs(b[k].beta(j)))) << order[k] << " " << j;
              EXPECT_NEAR(a[k].se(j), b[k].se(j), 1e-11 * b[k].se(j)) << order[k] << " " << j;
            }
            EXPECT_NEAR(a[k].loglik, b[k].loglik, 1e-11 * std::abs(b[k].loglik));
            EXPECT_NEAR(a[k].loglik_null, b[k].loglik_null, 1e-11 * std::abs(b[k].loglik_null));
            EXPECT_NEAR(a[k].score, b[k].score, 1e-9 * b[k].score + 1e-12);
            EXPECT_NEAR(a[k].lrt, b[k].lrt, 1e-7 * b[k].lrt + 1e-9);
            EXPECT_NEAR(a[k].ph_chisq, b[k].ph_chisq, 1e-9 * b[k].ph_chisq + 1e-12);
            if (global) {
              EXPECT_NEAR(a[k].ph_global_chisq, b[k].ph_global_chisq, 1e-9 * b[k].ph_global_chisq);
              EXPECT_EQ(a[k].ph_global_df, b[k].ph_global_df);
            }
            ++compared;
            if (a[k].se(jv) != b[k].se(jv)) ++reordered;
          }
        }
      }
  EXPECT_EQ(compared, 8 * 5);
  // The lane passes did run: their sums, in another order, differ in the last bits (the masked column's fits, 8 of
  // the 40, take the per-fit path both ways).
  EXPECT_GT(reordered, 16);
}

TEST(CoxLanes, OneSweepAndTwoSweepScoresEqualTheSingleFitScore) {
  // The chord's passes give each lane its score U = X'm at the lane's theta: the two-sweep pass (suffix sums, then
  // X'm) and the one-sweep pass (running sums of r x) must both equal the per-fit evaluation (cox_detail::pass) on
  // the lane's rows, with strata, Efron ties and lanes that keep different rows; the two-sweep pass's information
  // column of v must equal the per-fit information's.
  const auto study = testing::simulate_protein_study(2500, 4, 4, 3, 0.1, 0.0, 71);
  const auto o = testing::simulate_survival(study, 0.3, 0.2, 3, 73);
  const SharedDesign d = make_shared_design(study.raw);
  const CoxSurvival surv = make_cox_survival(o.time, o.event, o.stratum);
  CoxWorkspace ws;
  const CoxNull null = make_cox_null(d, surv, study.all, {}, {}, ws);
  ASSERT_TRUE(null.ok());
  const Eigen::Index n = d.n_samples(), pc = d.n_cov(), stride = d.c_rows.cols();
  const lane_detail::LaneRows rows{&null.risk_z, &null.risk_level};
  CoxLanePass cp;
  cp.resize(d, surv);
  std::vector<std::vector<std::uint8_t>> keep(kLanes, study.all);
  std::vector<Eigen::VectorXd> v(kLanes), theta(kLanes);
  std::vector<cox_detail::Problem> pr;
  std::mt19937_64 rng(5);
  std::normal_distribution<double> z01;
  for (int b = 0; b < kLanes; ++b) {
    v[static_cast<std::size_t>(b)] = study.v;
    for (Eigen::Index i = 0; i < n; ++i) {
      if ((i * 7 + b * 13) % 9 == 0) keep[static_cast<std::size_t>(b)][static_cast<std::size_t>(i)] = 0;
      if (std::isnan(v[static_cast<std::size_t>(b)](i))) v[static_cast<std::size_t>(b)](i) = 0.1 * b;
    }
    theta[static_cast<std::size_t>(b)] = Eigen::VectorXd::Zero(stride);
    theta[static_cast<std::size_t>(b)].head(pc) = null.theta.head(pc);
    for (Eigen::Index j = 1; j <= pc; ++j) theta[static_cast<std::size_t>(b)](j) += 0.02 * z01(rng);
    pr.push_back(cox_detail::Problem{d, surv, CoxTies::kEfron, true, pc + 1});
    cox_detail::prepare(pr.back(), v[static_cast<std::size_t>(b)].data(), keep[static_cast<std::size_t>(b)], {}, ws, false);
    for (Eigen::Index t = 0; t < pr.back().n_obs; ++t) {
      const Eigen::Index i = ws.rows[static_cast<std::size_t>(t)];
      const auto k = static_cast<std::size_t>(surv.position[static_cast<std::size_t>(i)]);
      cp.lp.v[k][b] = v[static_cast<std::size_t>(b)](i) - pr.back().mean_v;
      cp.lp.mask[k][b] = 1.0;
    }
    lane_detail::load_theta(d, theta[static_cast<std::size_t>(b)], true, b, cp.lp);
  }
  cox_detail::cox_lane_pass(d, rows, surv, CoxTies::kEfron, true, cp);
  std::vector<Eigen::VectorXd> two(kLanes, Eigen::VectorXd::Zero(stride)), column(kLanes, Eigen::VectorXd::Zero(stride));
  for (int b = 0; b < kLanes; ++b) {
    lane_detail::unpack(d, cp.lp.score_pad, cp.lp.level_score, cp.lp.score_v[b], true, b, two[static_cast<std::size_t>(b)]);
    lane_detail::unpack(d, cp.lp.cw_pad, cp.lp.level_cw, cp.lp.svv[b], true, b, column[static_cast<std::size_t>(b)]);
  }
  cox_detail::cox_lane_sweep(d, rows, surv, CoxTies::kEfron, cp);
  for (int b = 0; b < kLanes; ++b) {
    Eigen::VectorXd one = Eigen::VectorXd::Zero(stride);
    lane_detail::unpack(d, cp.lp.score_pad, cp.lp.level_score, cp.lp.score_v[b], true, b, one);
    // The per-fit reference on the lane's rows.
    cox_detail::Problem p = pr[static_cast<std::size_t>(b)];
    cox_detail::prepare(p, v[static_cast<std::size_t>(b)].data(), keep[static_cast<std::size_t>(b)], {}, ws);
    Eigen::Index n_rank = 0;
    cox_detail::pass(p, theta[static_cast<std::size_t>(b)], true, ws, &n_rank);
    const double scale = ws.u.head(pc + 1).cwiseAbs().maxCoeff();
    for (Eigen::Index j = 1; j <= pc; ++j) {
      EXPECT_NEAR(two[static_cast<std::size_t>(b)](j), ws.u(j), 1e-10 * scale) << "lane " << b << " column " << j;
      EXPECT_NEAR(one(j), ws.u(j), 1e-10 * scale) << "lane " << b << " column " << j;
      EXPECT_NEAR(column[static_cast<std::size_t>(b)](j), ws.info(pc, j), 1e-10 * std::abs(ws.info(pc, pc)))
          << "lane " << b << " column " << j;
    }
    EXPECT_NEAR(column[static_cast<std::size_t>(b)](pc), ws.info(pc, pc), 1e-10 * std::abs(ws.info(pc, pc)));
  }
}

}  // namespace
}  // namespace pwas::kernels
