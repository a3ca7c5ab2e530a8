#pragma once
// Logistic regression (binomial GLM, logit link) by IRLS / Newton for y ~ [C, v] on the kept rows.
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Dense>

#include "kernels/fit_status.hpp"
#include "kernels/shared_design.hpp"

namespace pwas::kernels {

struct LogisticOptions {
  int max_iter = 50;
  /// Converged when |dev - dev_old| / (|dev| + 0.1) < tol (R's rule, with R's default 1e-8 made tighter).
  double tol = 1e-12;
  /// |eta| above this on a kept row at the end marks (quasi-)separation.
  double separation_eta = 30.0;
  /// Below this reciprocal condition number (1-norm) of the equilibrated X'WX at the estimate, kSingular.
  double singular_rcond = 1e-12;
};

/// Estimates in the ORIGINAL parametrisation of [raw C, v] (index n_cov = v). SEs come from the
/// information matrix X'WX evaluated at the final estimate. beta and se are NaN unless status is kOk.
struct LogisticFit {
  Eigen::VectorXd beta;     // [n_cov + 1]
  Eigen::VectorXd se;       // [n_cov + 1]
  double deviance = 0.0;
  int iterations = 0;
  int n_obs = 0;
  int n_cases = 0;          // kept rows with y == 1
  FitStatus status = FitStatus::kOk;
};

/// Caller-owned scratch so the per-protein loop does not allocate after the first fit.
struct LogisticWorkspace {
  Eigen::MatrixXd a, b;     // scratch, resized on first use: a = (equilibrated X'WX)^-1, b = X'WX
  Eigen::VectorXd u, w, z;  // score X'(y - mu); block weights; block linear predictor
  RowMatrixXd x;            // [512 x row stride] gathered rows of X = [C, v] (one block)
  Eigen::VectorXd theta, trial, step, scale;        // [p] iterate, trial iterate, Newton step, equilibration
  Eigen::VectorXd resid, yk, vk;                    // [block] y - mu; [n_samples] kept y, centred v
  std::vector<Eigen::Index> rows;                   // kept row indices
  Eigen::LLT<Eigen::MatrixXd> llt;
};

/// Fits y (0/1 on kept rows) on [C, v] over rows with keep[i] != 0. `start` (may be null) is a starting
/// value [n_cov + 1] in the original parametrisation, e.g. the covariates-only fit with 0 for v.
/// Status: kTooFewCases if n_obs <= n_cov + 1 or y has one class, kConstant if v is constant,
/// kSingular if X'WX is rank-deficient, kSeparation, kNotConverged.
LogisticFit fit_logistic(const SharedDesign& d,
                         Eigen::Ref<const Eigen::VectorXd> v,   // [n_samples]
                         Eigen::Ref<const Eigen::VectorXd> y,   // [n_samples]
                         std::span<const std::uint8_t> keep,    // [n_samples]
                         const Eigen::VectorXd* start,          // [n_cov + 1] or nullptr
                         LogisticWorkspace& ws, const LogisticOptions& opt = {});

/// Covariates-only logistic fit y ~ C over kept rows (the null model): [n_cov] in the original parametrisation.
LogisticFit fit_logistic_null(const SharedDesign& d, Eigen::Ref<const Eigen::VectorXd> y,
                              std::span<const std::uint8_t> keep, LogisticWorkspace& ws,
                              const LogisticOptions& opt = {});

}  // namespace pwas::kernels
