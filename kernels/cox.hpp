#pragma once
// Cox proportional-hazards regression Surv(time, event) ~ [C, v] (+ strata) on the kept rows: Newton-Raphson
// from the covariates-only model, Efron or Breslow ties, optional frequency weights; Wald, score and
// likelihood-ratio tests for v; the proportional-hazards test of survival::cox.zph; a score screen of v from
// the null model alone.
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Dense>

#include "kernels/fit_status.hpp"
#include "kernels/gram.hpp"
#include "kernels/lane_gram.hpp"
#include "kernels/lanes.hpp"
#include "kernels/logistic_lanes.hpp"
#include "kernels/shared_design.hpp"

namespace pwas::kernels {

/// How tied event times enter the partial likelihood.
enum class CoxTies : std::uint8_t { kEfron, kBreslow };

struct CoxOptions {
  CoxTies ties = CoxTies::kEfron;
  int max_iter = 30;
  /// Converged when a Newton step moves no linear predictor by more than tol (bounded by sum_j |s_j| max_i |x_ij|).
  double tol = 1e-9;
  /// kTooFewCases below this many events (weighted) on the kept rows.
  int min_events = 1;
  /// kSingular when the smallest squared Cholesky pivot of the equilibrated (unit-diagonal) information is below this.
  double singular_rcond = 1e-12;
  /// Reach the estimate by the chord iteration (fixed information from the start, O(n p) per step), then one
  /// Newton check with the exact information; false: Newton-Raphson throughout.
  bool chord = true;
  /// Mean contraction per chord step above which it gives way to Newton.
  double chord_max_rate = 0.5;
  /// Chord steps before it gives way to Newton.
  int chord_max_iter = 40;
  /// Depth of the Anderson acceleration of the chord iteration (0: plain chord steps; at most 8).
  int chord_anderson = 5;
  /// Batches: the exact passes of the fits whose chord converged (the score test's information, the Newton check,
  /// cox.zph) run as lanes over the shared rows (cox_lane_exact.cpp); false: each fit on its own copy of its rows.
  bool lane_exact = true;
  /// Compute the proportional-hazards test (cox.zph) at the estimate: about two more information passes.
  bool ph_test = true;
  /// With ph_test, also the GLOBAL test (all columns): two weighted Grams more; the v term alone is O(n p).
  bool ph_global = true;
};

/// Survival outcome of one analysis, sorted once and shared by every fit: risk sets are prefixes of the
/// descending-time order within a stratum.
struct CoxSurvival {
  Eigen::VectorXd time;                    // [n_samples]
  std::vector<std::uint8_t> event;         // [n_samples] 0/1
  std::vector<Eigen::Index> order;         // [n_samples] rows by stratum ascending, then time descending
  std::vector<Eigen::Index> group_start;   // [n_groups + 1] runs of `order` with one (stratum, time)
  std::vector<std::uint8_t> stratum_first; // [n_groups] 1 when a group is the first (latest time) of its stratum
  std::vector<Eigen::Index> time_order;    // [n_samples] rows by time descending, strata ignored (the KM of cox.zph)
  std::vector<Eigen::Index> position;      // [n_samples] where each row stands in `order` (its inverse)
  Eigen::Index n_samples() const { return time.size(); }
  Eigen::Index n_groups() const { return static_cast<Eigen::Index>(stratum_first.size()); }
};

/// Sorts rows by stratum, then time descending, and finds the tie groups. time finite, event 0/1,
/// stratum empty (one stratum) or [n_samples].
CoxSurvival make_cox_survival(Eigen::Ref<const Eigen::VectorXd> time,  // [n_samples]
                              std::span<const std::uint8_t> event,     // [n_samples]
                              std::span<const std::int32_t> stratum);  // [n_samples] or empty

/// One Cox fit. Estimates are in the original parametrisation of [C, v] (index n_cov = v); column 0 of C,
/// the intercept, has no Cox coefficient (NaN), nor do inactive columns. beta and se are NaN unless kOk.
struct CoxFit {
  Eigen::VectorXd beta, se;     // [n_cov + 1] ([n_cov] for a null model)
  double loglik = 0.0;          // log partial likelihood at the estimate
  double loglik_null = 0.0;     // covariates-only log partial likelihood on the same rows
  double wald = 0.0, score = 0.0, lrt = 0.0;        // 1-df chi-squares for v
  double p_wald = 0.0, p_score = 0.0, p_lrt = 0.0;
  double ph_chisq = 0.0, ph_p = 0.0;                // cox.zph, the v term (1 df)
  double ph_global_chisq = 0.0, ph_global_p = 0.0;  // cox.zph GLOBAL (ph_global_df df)
  int ph_global_df = 0;
  int iterations = 0;           // Newton steps of the full fit (after its chord steps)
  int chord_iterations = 0;     // chord steps of the full fit
  int null_chord_iterations = 0;  // chord steps of the covariates-only refit on these rows (0: null reused)
  int n_obs = 0;                // kept rows (sum of weights)
  int n_events = 0;             // kept events (sum of weights)
  FitStatus status = FitStatus::kOk;
};

/// The factored information of one column set (equilibrated: D I D, D = diag(I)^-1/2).
struct CoxSolver {
  Eigen::MatrixXd a, inv;       // [q x q] D I D; its inverse
  Eigen::VectorXd scale, cs;    // [q] D; a compacted right-hand side
  Eigen::LLT<Eigen::MatrixXd> llt;
};

/// The chord passes of up to kLanes Cox fits at once (cox_lanes.cpp), one per lane, over the shared design's rows in
/// risk-set order. Inputs in `lp` (risk-set order): theta (compressed layout), v - mean_v on each lane's kept rows
/// (0 elsewhere) and, in lp.mask, each lane's row weights (0 on rows it leaves out). Outputs: lp.score_* = X'm, the score (m the
/// martingale residual); with the information column, lp.cw_* and lp.svv = X'q, the column of v of the
/// information (q per row from the risk sets, see cox_lanes.cpp).
struct CoxLanePass {
  LanePass lp;
  std::vector<Lane> r, m, q;             // [n_samples] w exp(eta - shift) (eta before), the two row weights
  std::vector<Lane> h, a, alpha, beta;   // [n_groups] hazard increment, Efron correction, information terms
  std::vector<Lane> omega;               // [n_samples] exact passes: the information's row weights r (Lambda - delta a)
  std::vector<Lane> l11, l21, l22;       // [n_groups] exact passes: the rank rows' factor (cox_detail::GroupTerms)
  Lane loglik{};                         // exact passes: the log partial likelihood
  std::vector<Lane> s1z, e1z, s1l, e1l;  // running sums of r z (risk set, deaths): [z stride], [level rows]
                                         // (s1l: + kLevelTrash slots for the skipped codes)
  std::vector<Eigen::Index> group_offset, group_skip;  // [dummy groups] the sweep's copy of d's
  Lane shift{};                          // the exp() shift of the pass (per lane)
  Lane max_eta{};                        // the largest eta over each lane's rows in the last pass
  void resize(const SharedDesign& d, const CoxSurvival& s);
};

/// The exact passes of a batch (cox_lane_exact.cpp): per lane at its theta, the information (Gram of the rows
/// minus the Gram of the rank rows) and, for cox.zph, the g- and g^2-weighted informations and score.
struct CoxLaneExact {
  static constexpr Eigen::Index kRankRows = 32;  // rank rows buffered before they are multiplied out
  Eigen::Index pp = 0;                  // n_cov + 1 rounded up to kGramTileA
  LaneGram gram[3];                     // sum w x x' with w = omega, then cox.zph's w1, w2
  std::vector<Lane> rank;               // [kRankRows x pp] rank rows in design order, zero-padded
  std::vector<Lane> rank_s[3];          // [kRankRows] their weights in the three rank Grams: 1, g, g^2
  std::vector<Lane> rank_gram[3];       // [pp x pp] row-major, lower: sum s R R'
  std::vector<Lane> s1z, e1z, s1l, e1l; // running sums of r x (risk set, the group's deaths): [n_dense + 1], [level rows]
  std::vector<Lane> rz, rl, expanded;   // a rank row compressed, [n_dense + 1], [level rows]; expanded [pp]
  // cox.zph
  std::vector<Lane> gt, lam1, lam2;     // [n_groups] g(t) of each group's time, centred per lane
  std::vector<Lane> w1, w2, mg;         // [n_samples] the g- and g^2-weighted information's row weights; m_g
                                        // (sized on the first pass with cox.zph)
  std::vector<Lane> ug_pad, ug_levels, ug_split;  // X'm_g: [z stride], [level rows], [kLevelSplit x level rows]
  Lane ug_v{};
  std::vector<Lane> prefix;             // [nd_padded^2] the running risk-set Gram of the three dense blocks
  std::vector<double> death_z;          // [kBlockRows x z stride] death rows buffered for their dense terms
  std::vector<Lane> death_s[3];         // [kBlockRows] their weights -r a g^k
  std::vector<Lane> flush_coef[3];      // [kBlockRows] per group with deaths in a block: g^k h
  std::vector<std::uint8_t> flags;      // [kBlockRows] lane_prefix_gram's row flags
  std::vector<double> km_time;          // [distinct times] scratch of the Kaplan-Meier transform
  std::vector<Lane> km_at_risk, km_deaths;
  LevelGram scratch;                    // one lane's Gram sums while they are assembled
  /// Whether the arrays are sized for d and s (else resize: it zeroes them all).
  bool fits(const SharedDesign& d, const CoxSurvival& s) const;
  void resize(const SharedDesign& d, const CoxSurvival& s);
};

/// One fit's chord state in a batch (fit_cox_batch): what a lane keeps between passes.
struct CoxLaneState {
  Eigen::VectorXd theta, start, u, step;  // [stride] iterate, its start, score, chord step
  Eigen::MatrixXd info;                   // [p x p] the fixed matrix of the chord (lower)
  Eigen::MatrixXd hist_x, hist_s, hist_u; // [stride x depth + 1] Anderson history
  CoxSolver solver[2];                    // covariates only; covariates and v (neither reallocates)
  int with_v = 0;                         // which solver the current column set uses
  std::vector<Eigen::Index> cols;         // active columns
  double norm2_first = 0.0;
  int steps = 0;
};

/// The sums of one weighted Gram in SharedDesign's compressed layout (cox_gram.cpp), accumulated block by block.
struct CoxGramSums {
  Eigen::MatrixXd dense_pos, dense_neg; // [nz x nz] Grams of the dense columns and v, positive and negative weights
  RowMatrixXd level_sums;               // [level rows x z stride] sum over a level's rows of w z
  Eigen::MatrixXd level_cross;          // [level rows x level rows] sum of w at two groups' levels
};

/// Caller-owned scratch: sized on first use to the analysis (n_samples, n_cov), then no allocation per fit.
struct CoxWorkspace {
  RowMatrixXd xk;                       // [n_samples x z stride] kept rows in risk-set order, compressed: the dense
                                        // columns of C (SharedDesign::z_rows), then v - mean_v; levels in lk
  Eigen::VectorXd wk, eta, r, omega;    // [n_samples] weight, linear predictor, w exp(eta - max), Gram weight
  Eigen::VectorXd resid;                // [n_samples] martingale residual w delta - omega (the score is X' resid)
  std::vector<Eigen::Index> ident;      // [n_samples] 0, 1, ...: kept-row indices for rows_dot / rows_axpy
  std::vector<std::uint8_t> dk;         // [n_samples] event of kept row k
  std::vector<Eigen::Index> rows;       // [n_obs] design row of kept row k
  std::vector<Eigen::Index> gstart;     // [n_groups + 1] kept groups (with a kept row): starts in kept order
  std::vector<std::uint8_t> gfirst;     // [n_groups] first kept group of its stratum
  Eigen::VectorXd h, a, lam, gt;        // [n_groups] hazard increment, Efron correction, cumulative hazard, g(t)
  RowMatrixXd rank;                     // [2 n_groups x stride] rows whose Gram is sum_k d S1 S1' / S0^2
  Eigen::MatrixXd rank_coef;            // [n_groups x 3] those rows as l11 S1 + l21 e1 and l22 e1 per group
  std::vector<Eigen::Index> rank_group; // [2 n_groups] group of each rank row
  Eigen::Index n_rank = 0;              // rank rows of the last information
  RowMatrixXd xs, xs2;                  // [512 x stride] rows scaled by sqrt(weight) for the Gram kernel
  Eigen::VectorXd s1, e1, u, theta, theta0, trial, step;  // [stride]
  Eigen::VectorXd zt, zs1, ze1;         // [z stride] compressed theta; running sums of r z (risk set, deaths)
  Eigen::VectorXd lt, ls1, le1;         // [level rows] the same per level code
  double shift = 0.0;                   // the exp() shift of the last risk_sets (largest eta)
  Eigen::MatrixXd info, info2, info3;   // [p x p] information (lower), scratch
  CoxSolver solver[2];                  // covariates only; covariates and v
  int with_v = 0;                       // which solver the current column set uses
  Eigen::MatrixXd neg;                  // [p x p] the negative-weight Gram of signed_gram
  RowMatrixXd zs;                       // [512 x z stride] dense columns and v of a block's rows scaled by sqrt|w|
                                        // (cox_gram: positive weights from the top, negative from the bottom)
  std::vector<Eigen::Index> blk_slot, blk_t;  // [512] a block's rows: slot in zs, kept row
  Eigen::VectorXd blk_coef;             // [512] sign(w) sqrt|w| per row
  LevelSortScratch level_sort;          // a block's slots sorted by level
  LevelCodes lk;                        // [n_samples x n_groups]
                                        // level codes of kept row t
  CoxGramSums gram_sums[2];             // two weighted Grams accumulated in one pass over the rows
  Eigen::MatrixXd hist_x, hist_s, hist_u;  // [stride x depth + 1] chord iterates, steps, scores (a ring)
  std::vector<Eigen::Index> cols;       // active columns (q)
  Eigen::VectorXd km_time, km_g;        // [n_samples] scratch of the cox.zph time transform
  Eigen::VectorXd screen_v;             // [n_samples] the centred protein of cox_score_screen
  Eigen::MatrixXd zph, zph_sub;         // [2q x 2q], [(q + 1) x (q + 1)] information of the cox.zph score test
  Eigen::VectorXd zph_u, zph_w, zph_rhs;  // [2q] its score; [n_samples] signed Gram weights; [q + 1]
  Eigen::VectorXd zph_sol, zph_sol_term;  // [2q], [q + 1] solutions
  Eigen::LDLT<Eigen::MatrixXd> ldlt_global, ldlt_term;
  CoxLanePass lanes;                    // the batch's chord passes
  CoxLaneExact exact;                   // and its exact passes
  CoxLaneState lane[kLanes];            // and its fits' chord states
};

/// The covariates-only model fitted once per (analysis, outcome) on its rows: the start of every protein's
/// fit, its log-likelihood when a protein keeps the same rows, and what the score screen needs.
struct CoxNull {
  CoxFit fit;                       // beta, se [n_cov]; loglik; status
  Eigen::VectorXd theta;            // [stride] the estimate (0 at the intercept, inactive columns and v)
  std::vector<std::uint8_t> keep;   // [n_samples] rows it was fitted on
  std::vector<double> weights;      // [n_samples] or empty (all 1)
  // Score screen: U_v = sum_i m_i v_i and the information column of v need, per row and risk set,
  Eigen::VectorXd resid;            // [n_samples] m_i = w_i delta_i - omega_i (Efron/Breslow martingale residual)
  Eigen::VectorXd omega;            // [n_samples] omega_i = r_i (Lambda_i - delta_i a_g)
  Eigen::VectorXd r;                // [n_samples] w_i exp(eta_i - max eta)
  std::vector<Eigen::Index> rows;   // [n_obs] null rows in risk-set order
  std::vector<Eigen::Index> gstart; // [n_groups + 1] their groups
  std::vector<std::uint8_t> gfirst; // [n_groups]
  Eigen::MatrixXd rank_coef;        // [n_groups x 3] rank rows l11 S1 + l21 e1, l22 e1 of each group
  RowMatrixXd rank_c;               // [n_rank x stride] those rows for C
  std::vector<std::uint8_t> active; // [n_cov] or empty
  Eigen::MatrixXd info;             // [n_cov x n_cov] information at the estimate (lower): a covariates-only
                                    // refit's fixed matrix for the chord iteration
  Eigen::MatrixXd info_c_inv;       // [n_cov x n_cov] inverse information of the active covariates (0 elsewhere)
  CoxTies ties = CoxTies::kEfron;
  // The design's compressed rows in the risk-set order of `order` (all rows): what the batched chord passes read
  // sequentially (fit_cox_batch).
  RowMatrixXd risk_z;               // [n_samples x z stride]
  LevelCodes risk_level;            // [n_samples x n_groups]
  bool ok() const { return fit.status == FitStatus::kOk && theta.size() > 0; }
};

/// Fits Surv ~ C (+ strata) on rows with keep_all != 0 (`weights`: empty or [n_samples] non-negative integers,
/// frequency weights) and stores what fit_cox and cox_score_screen reuse.
CoxNull make_cox_null(const SharedDesign& d, const CoxSurvival& s,
                      std::span<const std::uint8_t> keep_all,  // [n_samples]
                      std::span<const std::uint8_t> active,    // [n_cov] or empty
                      std::span<const double> weights,         // [n_samples] or empty
                      CoxWorkspace& ws, const CoxOptions& opt = {});

/// Fits Surv ~ [C, v] (+ strata) on the kept rows with the active covariate columns. Weights are frequency
/// weights (bootstrap multiplicities): a row of weight k is k copies of it, under Efron ties too.
/// With `null` (its keep, weights and active mask equal to this fit's: the same rows) the null's estimate and
/// loglik are reused; otherwise the covariates-only model is first refitted on this fit's rows (from the
/// null's estimate when given) so that the score test and LRT compare models on the same rows, as R does.
/// Status: kTooFewCases (events < min_events or n_obs <= columns), kConstant (v constant), kSingular,
/// kSeparation (monotone likelihood: a coefficient runs off to infinity), kNotConverged.
CoxFit fit_cox(const SharedDesign& d, const CoxSurvival& s, const CoxNull* null,
               Eigen::Ref<const Eigen::VectorXd> v,   // [n_samples]
               std::span<const std::uint8_t> keep,    // [n_samples]
               std::span<const std::uint8_t> active,  // [n_cov] or empty
               std::span<const double> weights,       // [n_samples] or empty
               CoxWorkspace& ws, const CoxOptions& opt = {});

/// fit_cox for up to kLanes proteins of one analysis and outcome (v[b], keep[b], active[b]; shared weights) into
/// out[b]. Their chord steps (the covariates-only refit's and the full fit's) share each pass over the design, one
/// lane per fit; the exact passes (the score test's information, the Newton check, cox.zph) run per fit. Every
/// lane operation is elementwise, so out[b] equals fit_cox's result for the same inputs to the bit, whichever fits
/// share the batch and whichever lane a fit has (fit_cox is a batch of one).
void fit_cox_batch(const SharedDesign& d, const CoxSurvival& s, const CoxNull* null,
                   std::span<const double* const> v,                     // [n_fits] each [n_samples]
                   std::span<const std::span<const std::uint8_t>> keep,  // [n_fits] each [n_samples]
                   std::span<const std::span<const std::uint8_t>> active,  // [n_fits] each [n_cov] or empty
                   std::span<const double> weights,                      // [n_samples] or empty
                   CoxWorkspace& ws, std::span<CoxFit> out, const CoxOptions& opt = {});

/// Score statistic for v at the null model, without a fit: U_v^2 / (I_vv - I_vC I_CC^-1 I_Cv), exact
/// (= fit_cox's score) when the protein keeps every null row. Rows the protein lacks stay in the null's risk
/// sets with v at its kept mean (they add nothing to U_v or the information of v): an approximation, meant for
/// screening with a lenient threshold before full fits. Returns the 1-df chi-square (NaN if v is constant).
double cox_score_screen(const SharedDesign& d, const CoxNull& null,
                        Eigen::Ref<const Eigen::VectorXd> v,  // [n_samples]
                        std::span<const std::uint8_t> keep,   // [n_samples]
                        CoxWorkspace& ws);

}  // namespace pwas::kernels
