#pragma once
// Internals shared by cox.cpp (fits), cox_zph.cpp (PH test) and cox_screen.cpp (score screen): the kept rows in
// risk-set order and one pass of the partial likelihood over them. Not part of the kernels' interface.
#include <span>

#include "kernels/cox.hpp"

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
};

/// Fills ws with the kept rows (keep != 0 and weight > 0) in risk-set order: rows, dk, wk, xk (with column
/// n_cov = v - kept weighted mean of v when v is given, else 0) and the tie groups gstart / gfirst.
void prepare(Problem& pr, const double* v, std::span<const std::uint8_t> keep, std::span<const double> weights,
             CoxWorkspace& ws);

/// At theta [stride] (0 at the intercept, at inactive columns and beyond p): eta = X theta, r = w exp(eta -
/// max eta) and the scalars of the risk sets; returns the log partial likelihood.
///   Breslow, group with weighted deaths d: l -= d log S0,  U -= d S1 / S0
///   Efron, terms k < d, f = k / d, D_k = S0 - f e0:  l -= sum_k log D_k,  U -= sum_k (S1 - f e1) / D_k
/// Per group h_g = sum_k 1/D_k, a_g = sum_k f/D_k (ws.h, ws.a), Lambda = suffix sums of h within the stratum
/// (ws.lam); per row omega_i = r_i (Lambda_g(i) - delta_i a_g(i)) and the martingale residual
/// m_i = w_i delta_i - omega_i (ws.omega, ws.resid), so that U = X'm; the 2x2 factor of each group's rank
/// term (ws.rank_coef, see information).
double risk_sets(const Problem& pr, const Eigen::VectorXd& theta, CoxWorkspace& ws);

/// The log partial likelihood and the score (into ws.u) at theta in one forward sweep over the kept rows (each
/// row read once): U = sum_deaths w x - sum_g (h_g S1_g - a_g e1_g) needs only prefix sums, no Lambda. With exp()
/// shifted by the last risk_sets' largest eta (falls back on risk_sets + score when theta moved it by > 300).
/// Leaves ws.h, ws.a, ws.omega, ws.resid stale: for the chord steps, which need U alone.
double sweep(const Problem& pr, const Eigen::VectorXd& theta, CoxWorkspace& ws);

/// The score U = X'm into ws.u [stride], after risk_sets.
void score(const Problem& pr, CoxWorkspace& ws);

/// The information after risk_sets, lower triangle into ws.info [p x p]:
///   I = sum_k [(S2 - f e2) / D_k - (S1 - f e1)(S1 - f e1)' / D_k^2]
///     = sum_i omega_i x_i x_i' - sum_g [S1 e1] M_g [S1 e1]',  M_g = sum_k [1, -f][1, -f]' / D_k^2 (rank <= 2),
/// one weighted Gram of the kept rows plus a Gram of <= 2 rows per tie group (ws.rank, returned count).
Eigen::Index information(const Problem& pr, CoxWorkspace& ws);

/// risk_sets, score and (with_information) information at theta; returns the log partial likelihood.
double pass(const Problem& pr, const Eigen::VectorXd& theta, bool with_information, CoxWorkspace& ws,
            Eigen::Index* n_rank);

/// Adds sum_t w_t x_t x_t' over the kept rows (x_t = [c row of ws.rows[t], v = ws.xk(t, n_cov)], w [n_obs] of any
/// sign) to the lower triangle of g [p x p], in SharedDesign's compressed layout (cox_gram.cpp).
void compressed_gram(const Problem& pr, const double* w, Eigen::Ref<Eigen::MatrixXd> g, CoxWorkspace& ws);

/// Adds sum_i w_i x_i x_i' over rows x_i = xk.row(k) (k < n) to the lower triangle of g [p x p], w of any sign.
void signed_gram(const RowMatrixXd& xk, const Eigen::VectorXd& w, Eigen::Index n, Eigen::Ref<Eigen::MatrixXd> g,
                 CoxWorkspace& ws);

/// The cox.zph test (see cox_zph.cpp) at the point of the last risk_sets + information in ws: fills fit.ph_chisq /
/// ph_p and, with `global`, fit.ph_global_* for the active columns ws.cols (v last).
void ph_test(const Problem& pr, CoxWorkspace& ws, CoxFit& fit, bool global);

}  // namespace pwas::kernels::cox_detail
