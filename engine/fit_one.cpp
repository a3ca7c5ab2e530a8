#include "engine/fit_one.hpp"

#include <cmath>
#include <limits>

#include "engine/level_guard.hpp"
#include "kernels/pvalues.hpp"
#include "kernels/rank_normal.hpp"

namespace pwas::engine {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

io::ResultRow blank_row(const FitPlan& plan, const std::string& protein) {
  io::ResultRow r;
  r.outcome = plan.protein_outcome ? protein : plan.outcome;
  r.predictor = plan.protein_predictor ? protein : plan.predictor;
  r.protein = protein;
  r.beta = r.se = r.stat = r.p = r.effect = r.effect_l95 = r.effect_u95 = r.p_bonf = r.q_fdr = kNaN;
  return r;
}

/// Fills the statistics of one term: Wald t (linear, df) or z (logistic), CI as R's confint.lm / confint.default.
void fill_term(io::ResultRow& r, double beta, double se, bool logistic, double df) {
  r.beta = beta;
  r.se = se;
  r.stat = beta / se;
  if (logistic) {
    r.p = kernels::p_normal_two_sided(r.stat);
    const double z = kernels::qnorm(0.975);
    r.effect = std::exp(beta);
    r.effect_l95 = std::exp(beta - z * se);
    r.effect_u95 = std::exp(beta + z * se);
  } else {
    r.p = kernels::p_t_two_sided(r.stat, df);
    const double t = kernels::qt(0.975, df);
    r.effect = beta;
    r.effect_l95 = beta - t * se;
    r.effect_u95 = beta + t * se;
  }
}

void prepare_protein(const FitPlan& plan, const float* values, const FitSettings& s, FitScratch& sc) {
  const auto n = static_cast<Eigen::Index>(plan.rows.size());
  const bool has_protein = values != nullptr;
  sc.keep.assign(static_cast<std::size_t>(n), 1);
  sc.protein.resize(n);
  if (has_protein) {
    for (Eigen::Index r = 0; r < n; ++r) {
      const float x = values[plan.rows[static_cast<std::size_t>(r)]];
      sc.protein(r) = static_cast<double>(x);
      sc.keep[static_cast<std::size_t>(r)] = std::isnan(x) ? 0 : 1;
    }
  }
  // The protein's own complete cases may empty a covariate level, or leave one without cases or controls.
  sc.active.assign(static_cast<std::size_t>(plan.design.n_cov()), 1);
  if (!plan.groups.empty())
    guard_levels(plan, s.model == io::ModelKind::kLogistic ? &plan.outcome_values : nullptr, sc.keep, sc.active);
  if (has_protein) {
    if (s.transform == io::ProteinTransform::kRin) kernels::rank_inverse_normal(sc.protein, sc.keep);
    else if (s.transform == io::ProteinTransform::kZscore) kernels::zscore(sc.protein, sc.keep);
  }
}

std::vector<io::ResultRow> fit_one(const FitPlan& plan, const float* values, const std::string& protein_name,
                                   const FitSettings& s, FitScratch& sc) {
  const auto n = static_cast<Eigen::Index>(plan.rows.size());
  prepare_protein(plan, values, s, sc);
  const Eigen::VectorXd& v = plan.protein_predictor ? sc.protein : plan.predictor_values;
  const Eigen::VectorXd& y = plan.protein_outcome ? sc.protein : plan.outcome_values;

  io::ResultRow base = blank_row(plan, protein_name);
  std::int64_t obs = 0;
  for (auto k : sc.keep) obs += k;
  base.obs_ct = obs;
  const bool logistic = s.model == io::ModelKind::kLogistic;

  Eigen::VectorXd beta, se;
  double df = kNaN;
  kernels::FitStatus status = kernels::FitStatus::kOk;
  if (logistic) {
    std::int64_t cases = 0;
    for (Eigen::Index r = 0; r < n; ++r)
      if (sc.keep[static_cast<std::size_t>(r)] && y(r) == 1.0) ++cases;
    base.case_ct = cases;
    if (cases < s.min_case_ct || obs - cases < s.min_case_ct) {
      status = kernels::FitStatus::kTooFewCases;
    } else {
      const kernels::LogisticNull* null = plan.null_model.ok() ? &plan.null_model : nullptr;
      kernels::LogisticFit f = kernels::fit_logistic(plan.design, null, v, y, sc.keep, sc.active, sc.logistic);
      status = f.status;
      beta = std::move(f.beta);
      se = std::move(f.se);
    }
  } else {
    kernels::LinearFit f = kernels::fit_linear(plan.design, v, y, sc.keep, sc.active, sc.linear);
    status = f.status;
    df = f.df_residual;
    beta = std::move(f.beta);
    se = std::move(f.se);
  }
  base.errcode = std::string(kernels::to_string(status));
  sc.status = status;
  sc.df = df;
  if (status == kernels::FitStatus::kOk) sc.beta = beta;

  std::vector<io::ResultRow> rows;
  const auto last = static_cast<Eigen::Index>(plan.terms.size()) - 1;
  if (s.report == io::ReportTerms::kPredictor) {
    rows.push_back(base);
    if (status == kernels::FitStatus::kOk) fill_term(rows.back(), beta(last), se(last), logistic, df);
    return rows;
  }
  for (Eigen::Index t = 0; t <= last; ++t) {
    rows.push_back(base);
    if (t < last) rows.back().predictor = plan.terms[static_cast<std::size_t>(t)];
    if (status == kernels::FitStatus::kOk) fill_term(rows.back(), beta(t), se(t), logistic, df);
  }
  return rows;
}

}  // namespace pwas::engine
