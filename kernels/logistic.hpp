#pragma once
// Logistic regression (binomial GLM, logit link) for y ~ [C, v] on the kept rows: a fixed-Hessian (chord)
// iteration from the covariates-only model when one is given, Newton-Raphson (IRLS) otherwise or as fallback.
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Dense>

#include "kernels/fit_status.hpp"
#include "kernels/level_gram.hpp"
#include "kernels/lane_gram.hpp"
#include "kernels/logistic_lanes.hpp"
#include "kernels/shared_design.hpp"

namespace pwas::kernels {

struct LogisticOptions {
  int max_iter = 50;
  /// Newton converged when |dev - dev_old| / (|dev| + 0.1) < tol (R's rule, with R's default 1e-8 made
  /// tighter), or when a Newton step moves no linear predictor by more than 1e-10 (bounded, see logistic.cpp).
  double tol = 1e-12;
  /// |eta| above this on a kept row at the end marks (quasi-)separation; during the chord iteration it
  /// sends the fit to the Newton path.
  double separation_eta = 30.0;
  /// Below this reciprocal condition number (1-norm) of the equilibrated X'WX at the estimate, kSingular.
  double singular_rcond = 1e-12;
  /// Use the chord iteration when fit_logistic is given a null model (false: Newton from the null's start).
  bool chord = true;
  /// The Newton sweep at the chord's estimates of a batch runs as one lane pass (their X'WX by the lane Gram over the
  /// shared rows, kernels/lane_gram.hpp); false: each fit sweeps its own gathered rows.
  bool lane_information = true;
  /// The chord iteration stops when its step changes no linear predictor by more than this (bounded by
  /// sum_j |step_j| max_i |x_ij|), the error left after that step being at most as large.
  double chord_tol = 1e-10;
  /// Mean contraction per chord step ((|s_k|/|s_0|)^(1/k) in the H0 norm) above which the chord iteration is
  /// abandoned for Newton: a small effect contracts by ~0.1 per step; 0.3 already costs more than Newton.
  double chord_max_rate = 0.3;
  /// Chord steps before it is abandoned for Newton (a step costs ~1/5 of a Newton step at p = 64).
  int chord_max_iter = 20;
  /// Depth of the Anderson acceleration of the chord iteration (0: plain chord steps; at most 8).
  int chord_anderson = 5;
};

/// Estimates in the ORIGINAL parametrisation of [raw C, v] (index n_cov = v). SEs come from the
/// information matrix X'WX evaluated at the final estimate. beta and se are NaN unless status is kOk, and
/// NaN for the covariate columns a fit's `active` mask leaves out.
struct LogisticFit {
  Eigen::VectorXd beta;     // [n_cov + 1] ([n_cov] for the null model)
  Eigen::VectorXd se;       // [n_cov + 1] ([n_cov] for the null model)
  double deviance = 0.0;
  int iterations = 0;       // Newton steps (chord path: those after its one information sweep, usually 1)
  int chord_iterations = 0; // chord steps taken (also when the fit then fell back to Newton)
  bool used_chord = false;  // true when the chord iteration reached the estimate (no Newton fallback)
  int n_obs = 0;
  int n_cases = 0;          // kept rows with y == 1
  FitStatus status = FitStatus::kOk;
};

/// Caller-owned scratch so the per-protein loop does not allocate after the first fit.
struct LogisticWorkspace {
  Eigen::MatrixXd a, b;      // scratch, resized on first use: a = (equilibrated, compacted X'WX)^-1,
                             // b = X'WX [p x p]
  Eigen::MatrixXd h0, dropped;  // [n_cov x n_cov] C'W0C on the kept rows; on the rows the fit drops
  Eigen::VectorXd u, w, z;   // score X'(y - mu) [p]; block weights; block linear predictor
  RowMatrixXd x;             // [512 x z stride] gathered rows of z = [dense columns of C, v] (one block)
  std::vector<Eigen::Index> block_rows;              // [512] design rows of a gathered block
  LevelGram gram;                                    // the compressed X'WX's accumulators (kernels/level_gram.hpp)
  Eigen::VectorXd theta_levels, level_score, level_cw;  // [level rows] theta; sums of r and of w0 v per level
  Eigen::VectorXd theta, trial, step, scale;         // [p] iterate, trial iterate, step; [q] equilibration
  Eigen::VectorXd cu, cs;                            // [q] compacted score and step
  Eigen::VectorXd cw;                                // [n_cov] C'W0 v on the kept rows
  Eigen::VectorXd theta_pad, score_pad, cw_pad;      // [z stride] dense parts of theta, the score, C'W0 v
  Eigen::MatrixXd hist_x, hist_s, hist_u;            // [p x depth + 1] chord iterates, steps, scores (a ring)
  Eigen::MatrixXd rw;                                // [block x 2] residual and W0 v of one block
  Eigen::VectorXd resid, yk, vk;                     // [block] y - mu; [n_samples] kept y, centred v
  std::vector<Eigen::Index> rows;                    // kept row indices
  std::vector<Eigen::Index> cols;                    // active columns of X (q of them)
  Eigen::LLT<Eigen::MatrixXd> llt, llt_c;
  LanePass lanes;                                    // the chord passes of a batch (used in its first workspace)
  LaneGram lane_gram;                                // the batch's Newton sweep in lanes (first workspace)
  LevelGram lane_scratch;                            // one lane's Gram sums while they are assembled
};

/// The covariates-only model fitted once per analysis on all its rows, reused by every protein's fit:
/// its estimate is the chord iteration's start and its information C'W0C (downdated to a protein's rows)
/// the chord iteration's fixed Hessian.
struct LogisticNull {
  LogisticFit fit;                  // beta, se [n_cov] in the original parametrisation; status
  Eigen::VectorXd theta;            // [n_cov] the estimate in the parametrisation of the centred d.c
  Eigen::VectorXd w;                // [n_samples] mu (1 - mu) at the estimate, on every row
  Eigen::MatrixXd gram;             // [n_cov x n_cov] C' W C over the null's rows (both triangles)
  std::vector<std::uint8_t> keep;   // [n_samples] the rows it was fitted on
  bool ok() const { return fit.status == FitStatus::kOk && theta.size() > 0; }  // false until fitted
};

/// Fits y (0/1 on kept rows) on [C, v] over rows with keep[i] != 0, using only the covariate columns with
/// active[j] != 0 (empty span: all; column 0, the intercept, must be active). With `null` (the model of
/// make_logistic_null for the same d and y; may be null) the estimate is reached by the chord iteration
/// beta_{k+1} = beta_k + H0^{-1} X'(y - mu_k), H0 = X'W0X at the null weights, falling back to Newton from
/// the null estimate when it converges slowly, diverges or reaches |eta| > separation_eta.
/// Status: kTooFewCases if n_obs <= active columns or y has one class, kConstant if v is constant,
/// kSingular if X'WX is rank-deficient, kSeparation, kNotConverged.
LogisticFit fit_logistic(const SharedDesign& d, const LogisticNull* null,
                         Eigen::Ref<const Eigen::VectorXd> v,   // [n_samples]
                         Eigen::Ref<const Eigen::VectorXd> y,   // [n_samples]
                         std::span<const std::uint8_t> keep,    // [n_samples]
                         std::span<const std::uint8_t> active,  // [n_cov] or empty
                         LogisticWorkspace& ws, const LogisticOptions& opt = {});

/// Up to kLanes fits as fit_logistic, of one design, null model and outcome, with the protein columns v[f], kept
/// rows keep[f] and active columns active[f] (empty: all), in workspaces *ws[f]: their chord iterations run in
/// lockstep, sharing each pass over the design rows. Each result is bit-identical to fit_logistic's for that fit
/// (which runs the same code as a batch of one), whatever else is in the batch.
std::vector<LogisticFit> fit_logistic_batch(const SharedDesign& d, const LogisticNull* null,
                                            std::span<const double* const> v,                 // [fits][n_samples]
                                            Eigen::Ref<const Eigen::VectorXd> y,              // [n_samples]
                                            std::span<const std::span<const std::uint8_t>> keep,    // [fits]
                                            std::span<const std::span<const std::uint8_t>> active,  // [fits]
                                            std::span<LogisticWorkspace* const> ws,           // [fits]
                                            const LogisticOptions& opt = {});

/// Covariates-only logistic fit y ~ C over kept rows (the null model): [n_cov] in the original parametrisation.
LogisticFit fit_logistic_null(const SharedDesign& d, Eigen::Ref<const Eigen::VectorXd> y,
                              std::span<const std::uint8_t> keep, LogisticWorkspace& ws,
                              const LogisticOptions& opt = {});

/// Fits the null model on the rows with keep_all[i] != 0 and stores what the chord iteration reuses.
/// Check ok(): when the null fit failed, fit_logistic falls back to Newton from the intercept-only start.
LogisticNull make_logistic_null(const SharedDesign& d,
                                Eigen::Ref<const Eigen::VectorXd> y,     // [n_samples]
                                std::span<const std::uint8_t> keep_all,  // [n_samples]
                                LogisticWorkspace& ws, const LogisticOptions& opt = {});

}  // namespace pwas::kernels
