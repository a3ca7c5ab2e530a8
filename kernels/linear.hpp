#pragma once
// Ordinary least squares for y ~ [C, v] on the rows a mask keeps (kernels: Eigen + std only).
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Dense>

#include "kernels/fit_status.hpp"
#include "kernels/level_gram.hpp"
#include "kernels/lane_cross.hpp"
#include "kernels/shared_design.hpp"

namespace pwas::kernels {

/// Which of the two vectors every fit of a batch shares. The engine's scans share one: the exposure when the protein is
/// the outcome, the outcome when it is the predictor.
enum class LinearShared { kNone, kV, kY };

struct LinearOptions {
  /// kV / kY: the shared vector s's products with C come from the Gram downdate (s as one more column of the dropped
  /// rows' Gram) and one pass per batch for C's over all rows, so the batch's lane pass carries only the other vector.
  /// Any inputs give the same results as kNone up to rounding; the saving needs the fits to share s.
  LinearShared shared = LinearShared::kNone;
  /// false: the SE of v only (the other SEs NaN; every beta is still there). The normal equations' inverse is then
  /// formed only when the Cholesky factor's condition estimate is within 10x of qr_rcond, where the exact rcond
  /// decides as with true; otherwise v's variance is sigma2 / L_vv^2 with v ordered last.
  bool all_se = true;
  /// Below this reciprocal condition number of the equilibrated normal equations the fit is redone by
  /// column-pivoted Householder QR on the kept rows (normal equations lose ~log10(1/rcond) digits twice).
  double qr_rcond = 1e-5;
  /// A pivoted-QR diagonal below rank_tol * |R(0,0)| marks the design rank-deficient (R's lm uses 1e-7).
  double rank_tol = 1e-10;
};

/// Estimates in the ORIGINAL parametrisation of [raw C, v]: index 0 = intercept, 1..n_cov-1 = covariates,
/// n_cov = the varying column v. beta, se and sigma2 are NaN unless status is kOk; beta and se are NaN for
/// the covariate columns a fit's `active` mask leaves out, and se for all but v without LinearOptions::all_se.
struct LinearFit {
  Eigen::VectorXd beta;     // [n_cov + 1]
  Eigen::VectorXd se;       // [n_cov + 1]
  double sigma2 = 0.0;      // residual variance RSS / df_residual
  int n_obs = 0;            // rows kept
  int df_residual = 0;      // n_obs - (active covariate columns + 1)
  bool used_qr = false;     // true when the QR fallback ran
  FitStatus status = FitStatus::kOk;
};

/// Caller-owned scratch so the per-protein loop does not allocate.
struct LinearWorkspace {
  Eigen::MatrixXd a, b;     // scratch, resized on first use: a = QR design, b = kept-row Gram of C
  Eigen::VectorXd u, w;     // w = residuals or the QR right-hand side; u is spare
  RowMatrixXd block;        // [512 x z stride] gathered compressed rows of C for the Gram downdate
  LevelGram gram;           // its accumulators (kernels/level_gram.hpp)
  Eigen::VectorXd ones;     // [512] the rows' weights
  Eigen::MatrixXd dvy;      // [n_samples x 2] centred v and y on kept rows, 0 elsewhere
  Eigen::MatrixXd cross;    // [row stride x 2] C' dvy (rows past n_cov are padding)
  Eigen::MatrixXd cov;      // [p - 1 x p - 1] inverse of the equilibrated centred normal matrix
  Eigen::VectorXd colsum, rhs, scale, coef, offset;  // [row stride] or [q] per-fit vectors
  std::vector<Eigen::Index> cols;                    // [q] column of [C, v] of each centred unknown
  std::vector<Eigen::Index> gather;                  // rows whose Gram the downdate needs
  Eigen::LLT<Eigen::MatrixXd> llt;
  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr;   // fallback for ill-conditioned designs
  LaneCross lanes;                                   // the cross-product pass of a batch (in its first workspace)
  Eigen::VectorXd v_copy, y_copy;                    // contiguous copies of strided inputs
  Eigen::VectorXd cs0;  // [n_cov] LinearOptions::shared: C's0 over all rows for the batch (in its first workspace)
};

/// OLS of y on [C, v] over rows with keep[i] != 0, using only the covariate columns with active[j] != 0
/// (empty span: all; column 0, the intercept, must be active); rows not kept may hold NaN in v and y.
/// Normal equations via the Gram downdate G - sum_{dropped} c_i c_i' (cost ~ n_dropped * n_cov^2 + n * n_cov),
/// falling back to pivoted QR when ill-conditioned. Status: kTooFewCases if n_obs <= active columns + 1,
/// kConstant if v (or y) is constant on kept rows, kSingular if the design is rank-deficient.
LinearFit fit_linear(const SharedDesign& d,
                     Eigen::Ref<const Eigen::VectorXd> v,   // [n_samples]
                     Eigen::Ref<const Eigen::VectorXd> y,   // [n_samples]
                     std::span<const std::uint8_t> keep,    // [n_samples]
                     std::span<const std::uint8_t> active,  // [n_cov] or empty
                     LinearWorkspace& ws, const LinearOptions& opt = {});

/// Up to kLanes fits as fit_linear, of one design, each with its own v[f], y[f] [n_samples], kept rows and active
/// columns, in workspaces *ws[f]: their cross products C'[v y] come from one pass over the design (lane_cross).
/// Each result is bit-identical to fit_linear's for that fit (a batch of one), whatever else is in the batch.
std::vector<LinearFit> fit_linear_batch(const SharedDesign& d, std::span<const double* const> v,
                                        std::span<const double* const> y,
                                        std::span<const std::span<const std::uint8_t>> keep,
                                        std::span<const std::span<const std::uint8_t>> active,
                                        std::span<LinearWorkspace* const> ws, const LinearOptions& opt = {});

}  // namespace pwas::kernels
