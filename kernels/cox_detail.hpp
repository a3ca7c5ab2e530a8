#pragma once
// Internals shared by cox.cpp (fits), cox_zph.cpp (PH test) and cox_screen.cpp (score screen): the kept rows in
// risk-set order and one pass of the partial likelihood over them. Not part of the kernels' interface.
#include <span>

#include "kernels/cox.hpp"
#include "kernels/lane_blocks.hpp"

namespace pwas::kernels::cox_detail {

/// One fit's view of the data after prepare(): indices in [0, n_cov] are design columns, n_cov is v.
struct Problem {
  const SharedDesign& d;
  const CoxSurvival& s;
  CoxTies ties;
  bool has_v;
  Eigen::Index p;          // n_cov + 1: columns of a kept row that can carry a coefficient
  Eigen::Index n_obs = 0;  // kept rows with positive weight
  Eigen::Index n_groups = 0;
  double n_weighted = 0.0, n_events = 0.0;  // sums of weights over kept rows, over kept events
  double mean_v = 0.0, abs_max_v = 0.0;
  bool v_constant = false;
  // The design's rows in s's risk-set order (CoxNull::risk_z / risk_level), when at hand: prepare then copies the
  // kept rows sequentially instead of gathering them.
  const RowMatrixXd* risk_z = nullptr;
  const LevelCodes* risk_level = nullptr;
};

/// One tie group's terms from S0 (risk set incl. the group), e0 (its deaths' risk) and d (their weight):
/// h = sum_k 1/D_k, a = sum_k f/D_k, sum_k log D_k, and the 2x2 factor [[l11, 0], [l21, l22]] of
/// sum_k [1, -f][1, -f]' / D_k^2 (Breslow, or one death: h = d / S0, l11 = sqrt(d) / S0, the rest 0).
struct GroupTerms {
  double h = 0.0, a = 0.0, log_sum = 0.0, l11 = 0.0, l21 = 0.0, l22 = 0.0;
};
GroupTerms group_terms(CoxTies ties, double s0, double e0, double dw);

/// group_terms' h and a alone (no log or square root), for passes that need no more.
inline void group_hazard(CoxTies ties, double s0, double e0, double dw, double& h, double& a) {
  h = a = 0.0;
  if (ties == CoxTies::kBreslow || dw == 1.0) {
    h = dw / s0;
    return;
  }
  const auto n_terms = static_cast<long>(dw);
  for (long k = 0; k < n_terms; ++k) {
    const double f = static_cast<double>(k) / dw;
    const double inv = 1.0 / (s0 - f * e0);
    h += inv;
    a += f * inv;
  }
}

/// Compressed sums (dense columns, then v at n_dense; per level code) in design order into out (v at n_cov): a
/// dummy column's sum is its code's sum minus m_j times the intercept's (T = double, or Lane for a batch's lanes).
template <class T>
void expand(const SharedDesign& d, const T* z, const T* lev, T* out) {
  const Eigen::Index nd = d.n_dense();
  for (Eigen::Index a = 0; a < nd; ++a) out[d.dense_cols[static_cast<std::size_t>(a)]] = z[a];
  out[d.n_cov()] = z[nd];
  for (const DummyGroup& g : d.groups)
    for (std::size_t k = 0; k < g.cols.size(); ++k)
      out[g.cols[k]] = lev[g.offset + 1 + static_cast<Eigen::Index>(k)] - d.mean(g.cols[k]) * z[0];
}

/// Fills ws with the kept rows (keep != 0 and weight > 0) in risk-set order: rows, dk, wk, xk (compressed: the
/// dense columns, then at column n_dense v - kept weighted mean of v when v is given, else 0), lk and the tie
/// groups gstart / gfirst. Without copy_rows, only rows, wk, dk, the groups and pr's counts (not xk, lk).
void prepare(Problem& pr, const double* v, std::span<const std::uint8_t> keep, std::span<const double> weights,
             CoxWorkspace& ws, bool copy_rows = true);

/// eta [n_obs] = X theta [stride, design order] over the kept rows, from their compressed rows (ws.xk, ws.lk).
void kept_eta(const Problem& pr, const Eigen::VectorXd& theta, CoxWorkspace& ws, double* eta);

/// out [stride, design order; 0 beyond p] = X'w = sum over kept rows t of w_t x_t, from the compressed rows. Also in
/// pieces, for passes that read the rows block by block: begin, rows [t0, t1) (sums in ws.zt, ws.lt), end.
void kept_cross(const Problem& pr, const double* w, CoxWorkspace& ws, Eigen::VectorXd& out);
void kept_cross_begin(const Problem& pr, CoxWorkspace& ws);
void kept_cross_rows(const Problem& pr, const double* w, Eigen::Index t0, Eigen::Index t1, CoxWorkspace& ws);
void kept_cross_end(const Problem& pr, CoxWorkspace& ws, Eigen::VectorXd& out);

/// At theta [stride] (0 at the intercept, at inactive columns and beyond p): eta = X theta, r = w exp(eta -
/// max eta) and the scalars of the risk sets; returns the log partial likelihood.
///   Breslow, group with weighted deaths d: l -= d log S0,  U -= d S1 / S0
///   Efron, terms k < d, f = k / d, D_k = S0 - f e0:  l -= sum_k log D_k,  U -= sum_k (S1 - f e1) / D_k
/// Per group h_g = sum_k 1/D_k, a_g = sum_k f/D_k (ws.h, ws.a), Lambda = suffix sums of h within the stratum
/// (ws.lam); per row omega_i = r_i (Lambda_g(i) - delta_i a_g(i)) and the martingale residual
/// m_i = w_i delta_i - omega_i (ws.omega, ws.resid), so that U = X'm; the 2x2 factor of each group's rank
/// term (ws.rank_coef, see information).
double risk_sets(const Problem& pr, const Eigen::VectorXd& theta, CoxWorkspace& ws);

/// The score U = X'm into ws.u [stride], after risk_sets.
void score(const Problem& pr, CoxWorkspace& ws);

/// The information after risk_sets, lower triangle into ws.info [p x p], and the score into ws.u (one pass):
///   I = sum_k [(S2 - f e2) / D_k - (S1 - f e1)(S1 - f e1)' / D_k^2]
///     = sum_i omega_i x_i x_i' - sum_g [S1 e1] M_g [S1 e1]',  M_g = sum_k [1, -f][1, -f]' / D_k^2 (rank <= 2),
/// one weighted Gram of the kept rows plus a Gram of <= 2 rows per tie group (ws.rank, returned count).
Eigen::Index information(const Problem& pr, CoxWorkspace& ws);

/// risk_sets, score and (with_information) information at theta; returns the log partial likelihood.
double pass(const Problem& pr, const Eigen::VectorXd& theta, bool with_information, CoxWorkspace& ws,
            Eigen::Index* n_rank);

/// Rows per block of the weighted Grams (512 rows of <= 64 doubles stay in L2).
inline constexpr Eigen::Index kGramBlock = 512;

/// A weighted Gram block by block (cox_gram.cpp): gram_begin zeroes acc, gram_rows adds kept rows [t0, t1)
/// (t1 - t0 <= kGramBlock) with weights w [n_obs] of any sign, gram_end adds the lower triangle of the Gram [p x p]
/// in design order to g. compressed_gram below is the three in one.
void gram_begin(const Problem& pr, CoxGramSums& acc, CoxWorkspace& ws);
void gram_rows(const Problem& pr, const double* w, Eigen::Index t0, Eigen::Index t1, CoxGramSums& acc,
               CoxWorkspace& ws);
void gram_end(const Problem& pr, CoxGramSums& acc, Eigen::Ref<Eigen::MatrixXd> g);

/// Adds sum_t w_t x_t x_t' over the kept rows (x_t = [c row of ws.rows[t], v], w [n_obs] of any sign) to the lower
/// triangle of g [p x p], from the compressed rows (cox_gram.cpp).
void compressed_gram(const Problem& pr, const double* w, Eigen::Ref<Eigen::MatrixXd> g, CoxWorkspace& ws);

/// Adds sum_i w_i x_i x_i' over rows x_i = xk.row(k) (k < n) to the lower triangle of g [p x p], w of any sign.
void signed_gram(const RowMatrixXd& xk, const Eigen::VectorXd& w, Eigen::Index n, Eigen::Ref<Eigen::MatrixXd> g,
                 CoxWorkspace& ws);

/// The chord pass of the lanes in cp (CoxLanePass in cox.hpp) over `rows`, d's compressed rows in s's risk-set order:
/// eta = X theta, r = w exp(eta - shift) with shift the largest kept eta, the risk sets (global tie groups; a lane's
/// rows are those of weight > 0), then U = X'm and, with info_column, X'q; two sweeps (cox_lanes.cpp). With
/// `exact`, also what an exact pass needs: cp.loglik, cp.omega and the rank factors cp.l11, l21, l22.
void cox_lane_pass(const SharedDesign& d, const lane_detail::LaneRows& rows, const CoxSurvival& s, CoxTies ties,
                   bool info_column, CoxLanePass& cp, bool exact = false);

/// The score U of every lane in one sweep at the shift cp.shift of an earlier pass; cp.max_eta is this pass's
/// largest eta per lane, for the caller's check that the shift still keeps exp() in range.
void cox_lane_sweep(const SharedDesign& d, const lane_detail::LaneRows& rows, const CoxSurvival& s, CoxTies ties,
                    CoxLanePass& cp);

/// cox.zph's time transform for every lane (the lanes' rows: weights `mask` [n_samples] in risk-set order) into
/// ex.gt: per tie group, g = 1 - KM(t-) at its time, all strata pooled, centred at its mean over the lane's events.
void cox_lane_km(const CoxSurvival& s, const std::vector<Lane>& mask, CoxLaneExact& ex);

/// The exact pass of every lane at its theta in cp.lp (cox_lane_exact.cpp): cox_lane_pass with `exact` (the score,
/// cp.loglik), then the informations' Gram and rank sums into ex; with zph (after cox_lane_km) also cox.zph's.
void cox_lane_exact(const SharedDesign& d, const lane_detail::LaneRows& rows, const CoxSurvival& s, CoxTies ties,
                    bool zph, CoxLanePass& cp, CoxLaneExact& ex);

/// Lane b's information after cox_lane_exact, lower triangle in design order into out [n_cov + 1]^2: which = 0 the
/// information, 1 and 2 cox.zph's g- and g^2-weighted ones.
void lane_exact_information(const SharedDesign& d, CoxLaneExact& ex, int which, int b, Eigen::MatrixXd& out);

/// The equilibrated Cholesky factor of the columns `cols` of info (lower) into sv (D I D, D = diag(I)^-1/2); false
/// when not positive definite or its smallest squared pivot is below rcond_min.
bool factor_information(const Eigen::MatrixXd& info, const std::vector<Eigen::Index>& cols, CoxSolver& sv,
                        double rcond_min);

/// step [stride] = I^-1 u on the columns cols (0 elsewhere) from the factor sv; returns u'I^-1 u.
double solve_information(CoxSolver& sv, const std::vector<Eigen::Index>& cols, const Eigen::VectorXd& u,
                         Eigen::VectorXd& step);

/// Bound on max_i |x_i' step| over the kept rows.
double eta_bound(const Problem& pr, const std::vector<Eigen::Index>& cols, const Eigen::VectorXd& step);

/// One fit in chord_lanes: its problem (after prepare) and chord state; lane = its index in the span.
/// Outputs of fit_cox_estimates_batch, one entry per fit.
struct LaneEstimates {
  std::span<Eigen::VectorXd> refit;  // [n_cov] the covariates-only model's coefficients on the fit's rows
  std::span<Eigen::VectorXd> full;   // [n_cov + 1] the full model's (v last)
  std::span<std::uint8_t> done;      // 0: no lane or its chord gave way; fit this one exactly
};

/// Bootstrap replicates as lanes (cox_perm): fit_cox_batch's chord phases for fits with their own weights (and rows
/// and active columns), the covariates-only refit and the full fit of each from `null` (made with opt.chord), and
/// nothing after: no exact passes, no tests, so no SEs. Estimates to the chord's tolerance (opt.chord_tol on eta);
/// each lane's are bit-identical whichever fits share the batch.
void fit_cox_estimates_batch(const SharedDesign& d, const CoxSurvival& s, const CoxNull& null,
                             std::span<const double* const> v, std::span<const std::span<const std::uint8_t>> keep,
                             std::span<const std::span<const std::uint8_t>> active,
                             std::span<const std::span<const double>> weights, CoxWorkspace& ws,
                             const LaneEstimates& est, const CoxOptions& opt);

struct ChordJob {
  const Problem* pr = nullptr;
  CoxLaneState* st = nullptr;
  bool run = false;        // in: iterate this lane (its theta, cols and info set; lp.v and lp.mask filled)
  bool complete = false;   // in (with v): st->info is complete already (else its row of v comes from the first pass)
  bool converged = false;  // out: st->theta is the estimate
};

/// The chord iteration of kernels/cox.cpp for the jobs with run, in lockstep: each pass (cox_lane_pass) gives every
/// running lane its score, then each lane takes its step. with_v: the fixed matrices' row of v (column n_cov of p)
/// comes from the first pass's information column, which completes them before they are factored.
void chord_lanes(const CoxOptions& opt, bool with_v, const lane_detail::LaneRows& rows, std::span<ChordJob> jobs,
                 CoxLanePass& cp);

/// The cox.zph test (see cox_zph.cpp) at the point of the last risk_sets + information in ws: fills fit.ph_chisq /
/// ph_p and, with `global`, fit.ph_global_* for the active columns ws.cols (v last).
void ph_test(const Problem& pr, CoxWorkspace& ws, CoxFit& fit, bool global);

/// The cox.zph statistics from the information (lower, design order), the g- and g^2-weighted informations (lower;
/// without `global`, only their row of v is read) and U_g, over the active columns cols (v last).
void ph_statistics(const Eigen::MatrixXd& info, const Eigen::MatrixXd& ig, const Eigen::MatrixXd& igg,
                   const Eigen::VectorXd& ug, const std::vector<Eigen::Index>& cols, bool global, CoxWorkspace& ws,
                   CoxFit& fit);

}  // namespace pwas::kernels::cox_detail
