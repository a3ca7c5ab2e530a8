// The proportional-hazards test of survival::cox.zph (survival >= 3, transform = "km", terms = TRUE,
// global = TRUE): a score test, at the fitted beta, of the added covariates g(t) x, where g(t) = 1 - S(t-) is
// the Kaplan-Meier transform of time (all strata pooled, centred at its mean over the events). With
//   U_g  = sum over event groups of g_k (sum_deaths w x - E_k)               (E_k: the term the score subtracts)
//   I_g  = sum_k g_k   I_k,   I_gg = sum_k g_k^2 I_k                        (I_k: group k's information term)
// the statistic is u' M^-1 u with M = [[I, I_g], [I_g, I_gg]], u = (0, U_g) over all columns (GLOBAL, df = q)
// or over the columns and the g x of one term (the protein: df 1). I_g and I_gg use the same identity as the
// information (cox_detail::pass): per-row weights with Lambda replaced by sums of g h and g^2 h, and the rank
// rows of each group weighted by g_k or g_k^2 (signed weights: two Grams).
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

// sum over kept rows of omega x x' with Lambda -> suffix sums of c_g h_g and the death term scaled by c_g,
// minus the rank rows weighted by c_g, for c_g = gt_g^power: into the lower triangle of out [p x p].
void weighted_information(const Problem& pr, int power, Index n_rank, Eigen::Ref<Eigen::MatrixXd> out,
                          CoxWorkspace& ws) {
  auto c = [&](Index g) { return power == 1 ? ws.gt(g) : ws.gt(g) * ws.gt(g); };
  double lam = 0.0;
  // Lambda^c per group into ws.lam (the caller's pass recomputes it), then the row weights.
  for (Index g = pr.n_groups - 1; g >= 0; --g) {
    const bool last_of_stratum = g == pr.n_groups - 1 || ws.gfirst[static_cast<std::size_t>(g) + 1];
    lam = c(g) * ws.h(g) + (last_of_stratum ? 0.0 : lam);
    ws.lam(g) = lam;
  }
  for (Index g = 0; g < pr.n_groups; ++g)
    for (Index t = ws.gstart[static_cast<std::size_t>(g)]; t < ws.gstart[static_cast<std::size_t>(g) + 1]; ++t)
      ws.zph_w(t) = ws.r(t) * (ws.lam(g) - (ws.dk[static_cast<std::size_t>(t)] ? c(g) * ws.a(g) : 0.0));
  out.setZero();
  signed_gram(ws.xk, ws.zph_w, pr.n_obs, out, ws);
  for (Index k = 0; k < n_rank; ++k) ws.zph_w(k) = -c(ws.rank_group[static_cast<std::size_t>(k)]);
  signed_gram(ws.rank, ws.zph_w, n_rank, out, ws);
}

}  // namespace

void ph_test(const Problem& pr, const Eigen::VectorXd& theta, CoxWorkspace& ws, CoxFit& fit) {
  const Index q = static_cast<Index>(ws.cols.size());
  const Index p = pr.p;
  km_transform(pr, ws);
  Index n_rank = 0;
  pass(pr, theta, true, ws, &n_rank);  // info, h, a, r and rank rows at theta
  ws.zph.setZero(2 * q, 2 * q);
  for (Index l = 0; l < q; ++l)
    for (Index k = 0; k < q; ++k)
      ws.zph(k, l) = ws.info(std::max(ws.cols[k], ws.cols[l]), std::min(ws.cols[k], ws.cols[l]));

  // U_g: the score's terms per event group, weighted by g (running sums as in pass).
  const Index stride = ws.xk.cols();
  Eigen::VectorXd& ug = ws.trial;
  ug.setZero(stride);
  ws.s1.setZero(stride);
  ws.e1.setZero(stride);
  for (Index g = 0; g < pr.n_groups; ++g) {
    if (ws.gfirst[static_cast<std::size_t>(g)]) ws.s1.setZero();
    ws.e1.setZero();
    const Index t0 = ws.gstart[static_cast<std::size_t>(g)], t1 = ws.gstart[static_cast<std::size_t>(g) + 1];
    ws.u.setZero();  // deaths' sum of w x
    for (Index t = t0; t < t1; ++t) {
      ws.s1.noalias() += ws.r(t) * ws.xk.row(t).transpose();
      if (ws.dk[static_cast<std::size_t>(t)]) {
        ws.e1.noalias() += ws.r(t) * ws.xk.row(t).transpose();
        ws.u.noalias() += ws.wk(t) * ws.xk.row(t).transpose();
      }
    }
    if (ws.h(g) == 0.0) continue;
    ug.noalias() += ws.gt(g) * (ws.u - ws.h(g) * ws.s1 + ws.a(g) * ws.e1);
  }

  ws.info.resize(p, p);
  weighted_information(pr, 1, n_rank, ws.info, ws);
  for (Index l = 0; l < q; ++l)
    for (Index k = 0; k < q; ++k) {
      const double x = ws.info(std::max(ws.cols[k], ws.cols[l]), std::min(ws.cols[k], ws.cols[l]));
      ws.zph(q + k, l) = x;
      ws.zph(l, q + k) = x;
    }
  weighted_information(pr, 2, n_rank, ws.info, ws);
  for (Index l = 0; l < q; ++l)
    for (Index k = 0; k < q; ++k)
      ws.zph(q + k, q + l) = ws.info(std::max(ws.cols[k], ws.cols[l]), std::min(ws.cols[k], ws.cols[l]));

  ws.zph_u.setZero(2 * q);
  for (Index k = 0; k < q; ++k) ws.zph_u(q + k) = ug(ws.cols[k]);
  ws.ldlt.compute(ws.zph);
  fit.ph_global_chisq = ws.zph_u.dot(ws.ldlt.solve(ws.zph_u));
  fit.ph_global_df = static_cast<int>(q);
  fit.ph_global_p = p_chisq_upper(fit.ph_global_chisq, static_cast<double>(q));
  // The v term: the q columns and g v (the last of the added block).
  ws.zph_sub.resize(q + 1, q + 1);
  ws.zph_sub.topLeftCorner(q, q) = ws.zph.topLeftCorner(q, q);
  ws.zph_sub.row(q).head(q) = ws.zph.row(2 * q - 1).head(q);
  ws.zph_sub.col(q).head(q) = ws.zph.col(2 * q - 1).head(q);
  ws.zph_sub(q, q) = ws.zph(2 * q - 1, 2 * q - 1);
  const double uv = ws.zph_u(2 * q - 1);
  ws.ldlt.compute(ws.zph_sub);
  Eigen::VectorXd& rhs = ws.cs;
  rhs.setZero(q + 1);
  rhs(q) = uv;
  fit.ph_chisq = uv * ws.ldlt.solve(rhs)(q);
  fit.ph_p = p_chisq_upper(fit.ph_chisq, 1.0);
}

}  // namespace pwas::kernels::cox_detail
