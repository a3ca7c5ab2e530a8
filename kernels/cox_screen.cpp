// Score screen of a protein from the null model alone (the SPACox / REGENIE step 2 idea): at (beta_null, 0)
//   U_v  = sum_i v_i m_i,                     m_i = w_i delta_i - omega_i (martingale residual; Efron-adjusted)
//   I_vv = sum_i omega_i v_i^2 - sum_rank (l11 S1v + l21 e1v)^2 + (l22 e1v)^2
//   I_Cv = sum_i omega_i x_i v_i - sum_rank rank_C (rank row of v)
// (the identity of cox_detail::pass with v as one more column), and the statistic U_v^2 / (I_vv - I_vC I_CC^-1 I_Cv):
// O(n p) per protein against O(n p^2) per Newton step of a fit.
#include <cmath>
#include <limits>

#include "kernels/assert.hpp"
#include "kernels/cox.hpp"

namespace pwas::kernels {

double cox_score_screen(const SharedDesign& d, const CoxNull& null, Eigen::Ref<const Eigen::VectorXd> v,
                        std::span<const std::uint8_t> keep, CoxWorkspace& ws) {
  using Eigen::Index;
  const Index n = d.n_samples();
  const Index n_cov = d.n_cov();
  PWAS_ASSERT(null.ok() && v.size() == n && static_cast<Index>(keep.size()) == n);
  // v centred at its (weighted) mean over the null rows it is observed on; 0 on the others.
  double sw = 0.0, swv = 0.0;
  for (const Index i : null.rows)
    if (keep[i]) {
      const double w = null.weights.empty() ? 1.0 : null.weights[i];
      sw += w;
      swv += w * v(i);
    }
  if (!(sw > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  const double mean_v = swv / sw;
  Eigen::VectorXd& vc = ws.screen_v;
  vc.setZero(n);
  for (const Index i : null.rows)
    if (keep[i]) vc(i) = v(i) - mean_v;

  double u = 0.0, ivv = 0.0;
  Eigen::VectorXd& icv = ws.s1;
  icv.setZero(d.c_rows.cols());
  for (const Index i : null.rows) {
    if (vc(i) == 0.0) continue;
    u += null.resid(i) * vc(i);
    ivv += null.omega(i) * vc(i) * vc(i);
    icv.noalias() += (null.omega(i) * vc(i)) * c_rows_of(d).row(i).transpose();
  }
  // Rank rows of v from the running sums S1v, e1v per group, in the order make_cox_null stored rank_c.
  double s1v = 0.0;
  Index k = 0;
  const auto n_groups = static_cast<Index>(null.gfirst.size());
  for (Index g = 0; g < n_groups; ++g) {
    if (null.gfirst[static_cast<std::size_t>(g)]) s1v = 0.0;
    double e1v = 0.0;
    for (Index t = null.gstart[static_cast<std::size_t>(g)]; t < null.gstart[static_cast<std::size_t>(g) + 1]; ++t) {
      const Index i = null.rows[static_cast<std::size_t>(t)];
      s1v += null.r(i) * vc(i);
      if (null.resid(i) + null.omega(i) > 0.0) {  // an event row (w delta > 0)
        e1v += null.r(i) * vc(i);
      }
    }
    const double l11 = null.rank_coef(g, 0), l21 = null.rank_coef(g, 1), l22 = null.rank_coef(g, 2);
    if (l11 == 0.0) continue;  // no events
    const double rv1 = l11 * s1v + l21 * e1v;
    ivv -= rv1 * rv1;
    icv.noalias() -= rv1 * null.rank_c.row(k++).transpose();
    // Efron groups with more than one (weighted) death carry a second rank row, and only they have l21 != 0.
    if (l21 != 0.0) {
      const double rv2 = l22 * e1v;
      ivv -= rv2 * rv2;
      icv.noalias() -= rv2 * null.rank_c.row(k++).transpose();
    }
  }
  PWAS_ASSERT(k == null.rank_c.rows());
  ws.trial.resize(d.c_rows.cols());
  ws.trial.head(n_cov).noalias() = null.info_c_inv * icv.head(n_cov);
  const double schur = ivv - icv.head(n_cov).dot(ws.trial.head(n_cov));
  if (!(schur > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  return u * u / schur;
}

}  // namespace pwas::kernels
