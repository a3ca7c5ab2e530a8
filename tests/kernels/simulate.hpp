#pragma once
// Seeded cohort-like test data: intercept, covariates with large offsets, a 3-level factor, a predictor
// v and outcomes that hold NaN on the dropped rows (so any read of a dropped row poisons the result).
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <Eigen/Dense>

namespace pwas::kernels::testing {

struct Cohort {
  Eigen::MatrixXd raw;              // [n x n_cov] 1, age, sex, bmi, batch_B, batch_C, extra N(0,1)...
  Eigen::VectorXd v, y_cont, y_bin; // [n] NaN where keep == 0
  std::vector<std::uint8_t> keep;   // [n]
};

/// Simulates n rows with n_extra standard-normal covariates; each row is dropped with drop_fraction.
inline Cohort simulate_cohort(Eigen::Index n, Eigen::Index n_extra, double drop_fraction, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Cohort c;
  c.raw.resize(n, 6 + n_extra);
  c.v.resize(n);
  c.y_cont.resize(n);
  c.y_bin.resize(n);
  c.keep.resize(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) {
    const double age = 60.0 + 8.0 * normal(gen);
    const double sex = unif(gen) < 0.5 ? 1.0 : 0.0;
    const double bmi = 27.0 + 4.0 * normal(gen);
    const double u = unif(gen);
    const double b = u < 0.3 ? 1.0 : 0.0;
    const double cc = u > 0.8 ? 1.0 : 0.0;
    c.raw(i, 0) = 1.0;
    c.raw(i, 1) = age;
    c.raw(i, 2) = sex;
    c.raw(i, 3) = bmi;
    c.raw(i, 4) = b;
    c.raw(i, 5) = cc;
    double extra = 0.0;
    for (Eigen::Index j = 0; j < n_extra; ++j) {
      c.raw(i, 6 + j) = normal(gen);
      extra += 0.05 * c.raw(i, 6 + j);
    }
    const double v = 5.0 + 0.02 * (age - 60.0) + 0.3 * sex + normal(gen);
    const double lin = 1.0 + 0.03 * age + 0.5 * sex - 0.05 * bmi + 0.4 * b - 0.3 * cc + 0.35 * v + extra;
    const double eta = -3.0 + 0.03 * (age - 60.0) + 0.4 * sex + 0.3 * b - 0.5 * cc + 0.5 * (v - 5.0) + extra;
    c.v(i) = v;
    c.y_cont(i) = lin + 1.5 * normal(gen);
    c.y_bin(i) = unif(gen) < 1.0 / (1.0 + std::exp(-eta)) ? 1.0 : 0.0;
    const bool kept = unif(gen) >= drop_fraction;
    c.keep[static_cast<std::size_t>(i)] = kept ? 1 : 0;
    if (!kept) {
      c.v(i) = nan;
      c.y_cont(i) = nan;
      c.y_bin(i) = nan;
    }
  }
  return c;
}

/// The complete-case design [raw C, v] and response over the kept rows.
inline void complete_cases(const Eigen::MatrixXd& raw, const Eigen::VectorXd& v, const Eigen::VectorXd& y,
                           const std::vector<std::uint8_t>& keep, Eigen::MatrixXd& x, Eigen::VectorXd& yk) {
  Eigen::Index n_obs = 0;
  for (auto k : keep) n_obs += k != 0;
  x.resize(n_obs, raw.cols() + 1);
  yk.resize(n_obs);
  Eigen::Index r = 0;
  for (Eigen::Index i = 0; i < raw.rows(); ++i) {
    if (!keep[static_cast<std::size_t>(i)]) continue;
    x.row(r).head(raw.cols()) = raw.row(i);
    x(r, raw.cols()) = v(i);
    yk(r) = y(i);
    ++r;
  }
}

}  // namespace pwas::kernels::testing

namespace pwas::kernels::testing {

struct ProteinStudy {
  Eigen::MatrixXd raw;              // [n x n_cov] 1, numeric covariates (large offsets), dummies of two factors
  Eigen::VectorXd v, y;             // [n] protein (NaN where keep == 0, the protein's missing values), 0/1 outcome
  std::vector<std::uint8_t> keep;   // [n]
  std::vector<std::uint8_t> all;    // [n] all ones: the rows of the null model
};

/// A logistic PWAS-like design: n_numeric covariates, factors with levels_a and levels_b levels (first level
/// the reference), a standard-normal protein correlated with the covariates, y ~ Bernoulli(expit(eta0 + log_or
/// * v)) with prevalence ~15%, and each row's protein missing with probability drop_fraction.
inline ProteinStudy simulate_protein_study(Eigen::Index n, Eigen::Index n_numeric, int levels_a, int levels_b,
                                           double drop_fraction, double log_or, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  const Eigen::Index n_cov = 1 + n_numeric + (levels_a - 1) + (levels_b - 1);
  ProteinStudy s;
  s.raw.setZero(n, n_cov);
  s.v.resize(n);
  s.y.resize(n);
  s.keep.resize(static_cast<std::size_t>(n));
  s.all.assign(static_cast<std::size_t>(n), 1);
  for (Eigen::Index i = 0; i < n; ++i) {
    s.raw(i, 0) = 1.0;
    double eta = -2.0, v = 0.0;
    for (Eigen::Index j = 0; j < n_numeric; ++j) {
      const double z = normal(gen);
      s.raw(i, 1 + j) = 10.0 * static_cast<double>(j % 5) + (1.0 + static_cast<double>(j % 3)) * z;
      eta += (j % 2 == 0 ? 0.1 : -0.08) * z;
      if (j < 4) v += 0.2 * z;
    }
    // Uneven level frequencies: level k drawn with probability proportional to 1 / (k + 1).
    auto draw_level = [&](int levels) {
      double total = 0.0;
      for (int k = 0; k < levels; ++k) total += 1.0 / (k + 1.0);
      double u = unif(gen) * total;
      for (int k = 0; k < levels; ++k) {
        u -= 1.0 / (k + 1.0);
        if (u <= 0.0) return k;
      }
      return levels - 1;
    };
    const int a = draw_level(levels_a);
    const int b = draw_level(levels_b);
    if (a > 0) s.raw(i, n_numeric + a) = 1.0;
    if (b > 0) s.raw(i, n_numeric + (levels_a - 1) + b) = 1.0;
    eta += 0.3 * std::sin(static_cast<double>(a)) + 0.2 * std::cos(static_cast<double>(b));
    v = (v + normal(gen)) / std::sqrt(1.0 + 0.04 * static_cast<double>(std::min<Eigen::Index>(n_numeric, 4)));
    s.v(i) = v;
    s.y(i) = unif(gen) < 1.0 / (1.0 + std::exp(-(eta + log_or * v))) ? 1.0 : 0.0;
    const bool kept = unif(gen) >= drop_fraction;
    s.keep[static_cast<std::size_t>(i)] = kept ? 1 : 0;
    if (!kept) s.v(i) = std::numeric_limits<double>::quiet_NaN();
  }
  return s;
}

}  // namespace pwas::kernels::testing
