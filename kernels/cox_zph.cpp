// The proportional-hazards test of survival::cox.zph (survival >= 3, transform = "km", terms = TRUE,
// global = TRUE): a score test, at the fitted beta, of the added covariates g(t) x, where g(t) = 1 - S(t-) is
// the Kaplan-Meier transform of time (all strata pooled, centred at its mean over the events). With
//   U_g  = sum over event groups of g_k (sum_deaths w x - E_k)               (E_k: the term the score subtracts)
//   I_g  = sum_k g_k   I_k,   I_gg = sum_k g_k^2 I_k                        (I_k: group k's information term)
// the statistic is u' M^-1 u with M = [[I, I_g], [I_g, I_gg]], u = (0, U_g) over all columns (GLOBAL, df = q)
// or over the columns and the g x of one term (the protein: df 1). I_g and I_gg use the same identity as the
// information (cox_detail::information): per-row weights with Lambda replaced by sums of g h and g^2 h, and the rank
// rows of each group weighted by g_k or g_k^2 (signed weights: two Grams). The term test alone needs only the
// column of v of I_g and I_gg: O(n p) sums. Evaluated where the fit left its last information (one Newton step,
// moving no eta by more than the fit's tolerance, before the estimate).
#include <algorithm>
#include <cmath>

#include "kernels/assert.hpp"
#include "kernels/cox_detail.hpp"
#include "kernels/pvalues.hpp"

namespace pwas::kernels::cox_detail {

using Eigen::Index;

namespace {

// g(t) per kept group into ws.gt: 1 - KM(t-) from all kept rows (strata pooled, frequency weights), then
// centred at its weighted mean over the kept events.
void km_transform(const Problem& pr, CoxWorkspace& ws) {
  const CoxSurvival& s = pr.s;
  const Index n = s.n_samples();
  // Weight of each design row in this fit (0: not kept), in ws.zph_w.
  ws.zph_w.head(n).setZero();
  for (Index t = 0; t < pr.n_obs; ++t) ws.zph_w(ws.rows[static_cast<std::size_t>(t)]) = ws.wk(t);
  // Distinct kept times, descending, with the weight at risk (time >= t) and the events at t.
  Index n_times = 0;
  ws.km_time.resize(n);
  ws.km_g.resize(n);
  Eigen::VectorXd& at_risk = ws.omega;  // scratch [n_samples]: the omegas are recomputed by the caller's next pass
  Eigen::VectorXd& deaths = ws.eta;     // likewise
  double cum = 0.0;
  for (const Index i : s.time_order) {
    const double w = ws.zph_w(i);
    if (w == 0.0) continue;
    if (n_times == 0 || s.time(i) != ws.km_time(n_times - 1)) {
      ws.km_time(n_times) = s.time(i);
      deaths(n_times) = 0.0;
      ++n_times;
    }
    cum += w;
    at_risk(n_times - 1) = cum;
    deaths(n_times - 1) += w * s.event[i];
  }
  // Ascending: g at t_j is 1 - prod over earlier times of (1 - d / n).
  double surv = 1.0;
  for (Index j = n_times - 1; j >= 0; --j) {
    ws.km_g(j) = 1.0 - surv;
    surv *= 1.0 - deaths(j) / at_risk(j);
  }
  double sum_g = 0.0;
  for (Index g = 0; g < pr.n_groups; ++g) {
    const Index t0 = ws.gstart[static_cast<std::size_t>(g)];
    const double time = s.time(ws.rows[static_cast<std::size_t>(t0)]);
    // km_time is descending: the first entry <= time is time itself.
    const Index j = std::lower_bound(ws.km_time.data(), ws.km_time.data() + n_times, time, std::greater<>()) -
                    ws.km_time.data();
    PWAS_ASSERT(j < n_times && ws.km_time(j) == time);
    ws.gt(g) = ws.km_g(j);
    for (Index t = t0; t < ws.gstart[static_cast<std::size_t>(g) + 1]; ++t)
      if (ws.dk[static_cast<std::size_t>(t)]) sum_g += ws.wk(t) * ws.gt(g);
  }
  ws.gt.head(pr.n_groups).array() -= sum_g / pr.n_events;
}

// Row weights of the g^power-weighted information into w [n_obs]: omega with Lambda -> suffix sums of c_g h_g and
// the death term scaled by c_g, c_g = gt_g^power.
void row_weights(const Problem& pr, int power, CoxWorkspace& ws, Eigen::VectorXd& w) {
  auto c = [&](Index g) { return power == 1 ? ws.gt(g) : ws.gt(g) * ws.gt(g); };
  double lam = 0.0;
  for (Index g = pr.n_groups - 1; g >= 0; --g) {
    const bool last_of_stratum = g == pr.n_groups - 1 || ws.gfirst[static_cast<std::size_t>(g) + 1];
    lam = c(g) * ws.h(g) + (last_of_stratum ? 0.0 : lam);
    ws.lam(g) = lam;  // the fit's Lambda is no longer needed
  }
  for (Index g = 0; g < pr.n_groups; ++g)
    for (Index t = ws.gstart[static_cast<std::size_t>(g)]; t < ws.gstart[static_cast<std::size_t>(g) + 1]; ++t)
      w(t) = ws.r(t) * (ws.lam(g) - (ws.dk[static_cast<std::size_t>(t)] ? c(g) * ws.a(g) : 0.0));
}

// Rank-row weights -c_g for the g^power-weighted information into ws.zph_w [n_rank].
void rank_weights(int power, CoxWorkspace& ws) {
  for (Index k = 0; k < ws.n_rank; ++k) {
    const double gt = ws.gt(ws.rank_group[static_cast<std::size_t>(k)]);
    ws.zph_w(k) = -(power == 1 ? gt : gt * gt);
  }
}

// Column v of the g^power-weighted information (into row n_cov of out, the lower triangle's) by O(n p) sums:
// sum_t w_t v_t x_t - sum_k c_k (rank_k . e_v) rank_k.
void weighted_column_v(const Problem& pr, int power, Eigen::Ref<Eigen::MatrixXd> out, CoxWorkspace& ws) {
  const Index n_cov = pr.d.n_cov();
  const Index stride = pr.d.c_rows.cols();
  out.setZero();
  row_weights(pr, power, ws, ws.zph_w);
  const Index nd = pr.d.n_dense();
  for (Index t = 0; t < pr.n_obs; ++t) ws.resid(t) = ws.zph_w(t) * ws.xk(t, nd);
  kept_cross(pr, ws.resid.data(), ws, ws.trial);
  rank_weights(power, ws);
  for (Index k = 0; k < ws.n_rank; ++k) ws.resid(k) = ws.zph_w(k) * ws.rank(k, n_cov);
  rows_axpy(ws.rank.data(), stride, ws.ident.data(), ws.n_rank, ws.resid.data(), ws.trial.data());
  out.row(n_cov).head(n_cov + 1) = ws.trial.head(n_cov + 1).transpose();  // as the lower triangle holds it
}

// Both g- and g^2-weighted informations in full (lower triangles into ig and igg [p x p]) and X'm_g (m_g in
// ws.resid; into ug) from one pass over the kept rows: two weighted Grams side by side, then the rank rows'
// signed Grams weighted by -g_k and -g_k^2.
void weighted_informations(const Problem& pr, Eigen::Ref<Eigen::MatrixXd> ig, Eigen::Ref<Eigen::MatrixXd> igg,
                           Eigen::VectorXd& ug, CoxWorkspace& ws) {
  ig.setZero();
  igg.setZero();
  Eigen::VectorXd& w1 = ws.zph_w;
  Eigen::VectorXd& w2 = ws.eta;  // scratch: the linear predictor is not needed after the fit's last pass
  row_weights(pr, 1, ws, w1);
  row_weights(pr, 2, ws, w2);
  gram_begin(pr, ws.gram_sums[0], ws);
  gram_begin(pr, ws.gram_sums[1], ws);
  kept_cross_begin(pr, ws);
  for (Index t0 = 0; t0 < pr.n_obs; t0 += kGramBlock) {
    const Index t1 = std::min(t0 + kGramBlock, pr.n_obs);
    gram_rows(pr, w1.data(), t0, t1, ws.gram_sums[0], ws);
    gram_rows(pr, w2.data(), t0, t1, ws.gram_sums[1], ws);
    kept_cross_rows(pr, ws.resid.data(), t0, t1, ws);
  }
  kept_cross_end(pr, ws, ug);
  gram_end(pr, ws.gram_sums[0], ig);
  gram_end(pr, ws.gram_sums[1], igg);
  rank_weights(1, ws);
  signed_gram(ws.rank, ws.zph_w, ws.n_rank, ig, ws);
  rank_weights(2, ws);
  signed_gram(ws.rank, ws.zph_w, ws.n_rank, igg, ws);
}

// Entry (k, l) of a lower-triangle-filled matrix.
double lower(const Eigen::MatrixXd& m, Index k, Index l) { return m(std::max(k, l), std::min(k, l)); }

}  // namespace

void ph_test(const Problem& pr, CoxWorkspace& ws, CoxFit& fit, bool global) {
  const Index p = pr.p;
  PWAS_ASSERT(pr.has_v && ws.cols.back() == pr.d.n_cov());
  km_transform(pr, ws);
  // U_g = X' m_g, m_g = gt_g w delta - omega_g: the score's terms per event group weighted by g.
  row_weights(pr, 1, ws, ws.zph_w);
  for (Index g = 0; g < pr.n_groups; ++g)
    for (Index t = ws.gstart[static_cast<std::size_t>(g)]; t < ws.gstart[static_cast<std::size_t>(g) + 1]; ++t)
      ws.resid(t) = (ws.dk[static_cast<std::size_t>(t)] ? ws.gt(g) * ws.wk(t) : 0.0) - ws.zph_w(t);
  // With I_g and I_gg (the fit's information in ws.info is kept): in full for GLOBAL (one pass with U_g), else
  // their columns of v.
  Eigen::VectorXd& ug = ws.u;
  ws.info2.resize(p, p);
  ws.info3.resize(p, p);
  if (global) {
    weighted_informations(pr, ws.info2, ws.info3, ug, ws);
  } else {
    kept_cross(pr, ws.resid.data(), ws, ug);
    weighted_column_v(pr, 1, ws.info2, ws);
    weighted_column_v(pr, 2, ws.info3, ws);
  }
  ph_statistics(ws.info, ws.info2, ws.info3, ug, ws.cols, global, ws, fit);
}

void ph_statistics(const Eigen::MatrixXd& info, const Eigen::MatrixXd& ig, const Eigen::MatrixXd& igg,
                   const Eigen::VectorXd& ug, const std::vector<Index>& cols, bool global, CoxWorkspace& ws,
                   CoxFit& fit) {
  const Index q = static_cast<Index>(cols.size());
  // The blocks of M in the order (x columns, g x columns) over the active columns.
  ws.zph.setZero(2 * q, 2 * q);
  for (Index l = 0; l < q; ++l)
    for (Index k = 0; k < q; ++k) ws.zph(k, l) = lower(info, cols[k], cols[l]);
  ws.zph_u.setZero(2 * q);
  for (Index k = 0; k < q; ++k) ws.zph_u(q + k) = ug(cols[k]);
  for (Index l = 0; l < q; ++l)
    for (Index k = 0; k < q; ++k) {
      if (global || k == q - 1) ws.zph(q + k, l) = ws.zph(l, q + k) = lower(ig, cols[k], cols[l]);
      if (global || (k == q - 1 && l == q - 1)) ws.zph(q + k, q + l) = lower(igg, cols[k], cols[l]);
    }

  if (global) {
    ws.ldlt_global.compute(ws.zph);
    ws.zph_sol = ws.ldlt_global.solve(ws.zph_u);
    fit.ph_global_chisq = ws.zph_u.dot(ws.zph_sol);
    fit.ph_global_df = static_cast<int>(q);
    fit.ph_global_p = p_chisq_upper(fit.ph_global_chisq, static_cast<double>(q));
  }
  // The v term: the q columns and g v (the last of the added block).
  ws.zph_sub.resize(q + 1, q + 1);
  ws.zph_sub.topLeftCorner(q, q) = ws.zph.topLeftCorner(q, q);
  ws.zph_sub.row(q).head(q) = ws.zph.row(2 * q - 1).head(q);
  ws.zph_sub.col(q).head(q) = ws.zph.col(2 * q - 1).head(q);
  ws.zph_sub(q, q) = ws.zph(2 * q - 1, 2 * q - 1);
  const double uv = ws.zph_u(2 * q - 1);
  ws.ldlt_term.compute(ws.zph_sub);
  ws.zph_rhs.setZero(q + 1);
  ws.zph_rhs(q) = uv;
  ws.zph_sol_term = ws.ldlt_term.solve(ws.zph_rhs);
  fit.ph_chisq = uv * ws.zph_sol_term(q);
  fit.ph_p = p_chisq_upper(fit.ph_chisq, 1.0);
}

}  // namespace pwas::kernels::cox_detail
