#include "engine/fit_one.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/level_guard.hpp"
#include "engine/prepare_cox.hpp"
#include "kernels/assert.hpp"
#include "kernels/cox_perm.hpp"
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

kernels::LinearOptions linear_options(const FitPlan& plan, const FitSettings& s) {
  // The side that is not the protein is the same vector for every fit: its products come from the Gram downdate.
  // Only the predictor's row is reported unless report = "all" (every beta is kept for the resampling).
  kernels::LinearOptions opt;
  opt.all_se = s.report != io::ReportTerms::kPredictor;
  if (plan.protein_outcome != plan.protein_predictor)
    opt.shared = plan.protein_outcome ? kernels::LinearShared::kV : kernels::LinearShared::kY;
  return opt;
}

namespace {

// The scratch of one protein's transform: the values as read, before it, and the rank workspace. One per thread, not
// per FitScratch: a batch prepares its proteins one after another, so one set stays in cache where kLanes would not.
struct TransformScratch {
  std::vector<float> protein_f32;  // [n_rows]
  kernels::RankWorkspace rank;
};

}  // namespace

void prepare_protein(const FitPlan& plan, io::ProteinColumn values, const FitSettings& s, FitScratch& sc) {
  thread_local TransformScratch ts;
  const auto n = static_cast<Eigen::Index>(plan.rows.size());
  const bool has_protein = static_cast<bool>(values);
  if (has_protein) sc.keep.resize(static_cast<std::size_t>(n));  // every entry written below
  else sc.keep.assign(static_cast<std::size_t>(n), 1);
  sc.protein.resize(n);
  if (has_protein) {
    ts.protein_f32.resize(static_cast<std::size_t>(n));
    // Raw pointers (stores through the vectors' own would make the compiler reload their data pointers every row),
    // and the column's values fetched ahead: a mapped column is strided, often not yet in any cache.
    const std::int64_t* rows = plan.rows.data();
    const float* from = values.data;
    const std::int64_t stride = values.stride;
    float* f32 = ts.protein_f32.data();
    double* x64 = sc.protein.data();
    std::uint8_t* keep = sc.keep.data();
    constexpr Eigen::Index kAhead = 96;
    for (Eigen::Index r = 0; r < n; ++r) {
      if (r + kAhead < n) __builtin_prefetch(from + rows[r + kAhead] * stride, 0, 0);
      const float x = from[rows[r] * stride];
      f32[r] = x;
      x64[r] = static_cast<double>(x);
      keep[r] = std::isnan(x) ? 0 : 1;
    }
  }
  auto transform = [&] {
    if (!has_protein) return;
    if (s.transform == io::ProteinTransform::kRin) kernels::rank_inverse_normal(sc.protein, ts.protein_f32, sc.keep, ts.rank);
    else if (s.transform == io::ProteinTransform::kZscore) kernels::zscore(sc.protein, sc.keep);
  };
  // Cox: the rows of a level without events stay in R's fit (their coefficient runs to -infinity, their risk
  // weights to 0), so the protein is transformed over all its complete cases before the guard takes them out.
  const bool cox = s.model == io::ModelKind::kCox;
  if (cox) transform();
  // The protein's own complete cases may empty a covariate level, or leave one without cases or controls (Cox:
  // without events).
  sc.active.assign(static_cast<std::size_t>(plan.design.n_cov()), 1);
  const Eigen::VectorXd* y = cox ? &plan.cox_events
                                 : s.model == io::ModelKind::kLogistic ? &plan.outcome_values : nullptr;
  if (!plan.groups.empty()) guard_levels(plan, y, sc.keep, sc.active, cox, true);
  if (!cox) transform();
}

namespace {

// The score screen's approximation (the rows a protein lacks stay in the null model's risk sets with the protein at
// its mean) holds when few rows are missing; a protein missing more of the null's rows than this is always fitted.
constexpr double kScreenMaxMissing = 0.05;

bool screen_applies(const kernels::CoxNull& null, const std::vector<std::uint8_t>& keep) {
  std::size_t kept = 0;
  for (const Eigen::Index i : null.rows) kept += keep[static_cast<std::size_t>(i)] ? 1 : 0;
  return static_cast<double>(null.rows.size() - kept) <= kScreenMaxMissing * static_cast<double>(null.rows.size());
}

// Percent excess risk of the exposure mediated by the protein (the study's PERM): HR of the exposure without and with
// the protein, both on the protein's rows, PERM = (HR_without - HR_with) / (HR_without - 1) x 100, and its Poisson-
// bootstrap percentile interval (kernels::cox_perm; weights keyed by (seed, replicate), the same for every protein).
void fill_mediation(const FitPlan& plan, const Eigen::VectorXd& v, const FitSettings& s, FitScratch& sc,
                    const kernels::CoxOptions& opt, io::ResultRow& r) {
  const auto it = std::find(plan.terms.begin(), plan.terms.end(), s.mediation_exposure);
  const auto col = static_cast<Eigen::Index>(it - plan.terms.begin());
  if (it == plan.terms.end() || col >= plan.design.n_cov() || !sc.active[static_cast<std::size_t>(col)]) return;
  const kernels::CoxPerm m = kernels::cox_perm(plan.design, plan.cox_survival, col, v, sc.keep, sc.active,
                                               s.mediation_bootstrap, s.seed, {}, sc.cox, opt);
  if (m.status != kernels::FitStatus::kOk) return;
  const std::size_t at = cox_columns().size();
  r.extra[at] = m.hr_without;
  r.extra[at + 1] = m.hr_with;
  r.extra[at + 2] = m.perm;
  r.extra[at + 3] = m.lower;
  r.extra[at + 4] = m.upper;
}

// The Cox fit of one protein (the plan's predictor): Wald z for BETA / SE / P, and the extra columns EVENT_CT,
// HR, HR_L95, HR_U95, P_SCORE, P_LRT, P_PH, P_PH_GLOBAL (cox_columns). With a score screen, a protein whose
// score test from the null model alone (kernels::cox_score_screen) has P >= score_screen_p is not fitted: its
// row carries that P in P and P_SCORE (so that Bonferroni and FDR count it) and ERRCODE SCREENED_OUT. Proteins
// missing more than kScreenMaxMissing of the null model's rows skip the screen.
kernels::CoxOptions cox_options(const FitSettings& s) {
  kernels::CoxOptions opt;
  opt.ties = cox_ties(s.ties);
  return opt;
}

// The checks before a Cox fit: EVENT_CT into base, too few events, the score screen. kOk: go on to the fit.
kernels::FitStatus cox_precheck(const FitPlan& plan, const Eigen::VectorXd& v, const FitSettings& s, FitScratch& sc,
                                io::ResultRow& base) {
  const auto n = static_cast<Eigen::Index>(plan.rows.size());
  std::int64_t events = 0;
  for (Eigen::Index r = 0; r < n; ++r)
    if (sc.keep[static_cast<std::size_t>(r)] && plan.surv_event[static_cast<std::size_t>(r)]) ++events;
  const bool mediation = !s.mediation_exposure.empty();
  base.extra.assign(cox_columns().size() + (mediation ? 5 : 0), kNaN);
  base.extra[0] = static_cast<double>(events);
  const kernels::CoxNull* null = plan.cox_null.ok() ? &plan.cox_null : nullptr;
  if (events < s.min_case_ct) return kernels::FitStatus::kTooFewCases;
  if (s.score_screen_p && null != nullptr && screen_applies(*null, sc.keep)) {
    const double chi2 = kernels::cox_score_screen(plan.design, *null, v, sc.keep, sc.cox);
    const double p = kernels::p_chisq_upper(chi2, 1.0);
    if (!(p < *s.score_screen_p)) {
      base.p = p;
      base.extra[4] = p;
      return kernels::FitStatus::kScreenedOut;
    }
  }
  return kernels::FitStatus::kOk;
}

// The rows of one Cox fit (status from the precheck, or the fit's own).
std::vector<io::ResultRow> cox_rows(const FitPlan& plan, const Eigen::VectorXd& v, io::ResultRow base,
                                    kernels::FitStatus status, const kernels::CoxFit& f, const FitSettings& s,
                                    FitScratch& sc) {
  const bool mediation = !s.mediation_exposure.empty();
  const kernels::CoxOptions opt = cox_options(s);
  base.errcode = std::string(kernels::to_string(status));
  sc.status = status;
  sc.df = kNaN;
  std::vector<io::ResultRow> rows;
  const auto last = static_cast<Eigen::Index>(plan.terms.size()) - 1;
  auto fill = [&](io::ResultRow& r, Eigen::Index t) {
    if (status != kernels::FitStatus::kOk) return;
    // Wald z and the HR's CI as R's summary(coxph): exp(beta -/+ qnorm(0.975) se).
    fill_term(r, f.beta(t), f.se(t), true, kNaN);
    r.extra[1] = r.effect;
    r.extra[2] = r.effect_l95;
    r.extra[3] = r.effect_u95;
    if (t == last) {
      r.extra[4] = f.p_score;
      r.extra[5] = f.p_lrt;
      r.extra[6] = f.ph_p;
      r.extra[7] = f.ph_global_p;
    }
  };
  if (status == kernels::FitStatus::kOk) sc.beta = f.beta;
  if (s.report == io::ReportTerms::kPredictor) {
    rows.push_back(base);
    fill(rows.back(), last);
    if (mediation && status == kernels::FitStatus::kOk) fill_mediation(plan, v, s, sc, opt, rows.back());
    return rows;
  }
  // Every term; the intercept has no Cox coefficient (NA).
  for (Eigen::Index t = 1; t <= last; ++t) {
    rows.push_back(base);
    if (t < last) rows.back().predictor = plan.terms[static_cast<std::size_t>(t)];
    fill(rows.back(), t);
  }
  return rows;
}

std::vector<io::ResultRow> fit_one_cox(const FitPlan& plan, const Eigen::VectorXd& v, io::ResultRow base,
                                       const FitSettings& s, FitScratch& sc) {
  kernels::FitStatus status = cox_precheck(plan, v, s, sc, base);
  kernels::CoxFit f;
  if (status == kernels::FitStatus::kOk) {
    const kernels::CoxNull* null = plan.cox_null.ok() ? &plan.cox_null : nullptr;
    f = kernels::fit_cox(plan.design, plan.cox_survival, null, v, sc.keep, sc.active, {}, sc.cox, cox_options(s));
    status = f.status;
  }
  return cox_rows(plan, v, std::move(base), status, f, s, sc);
}

// The rows of one fit (one, or one per term with report = "all"), and the fit's outcome in sc for the resampling
// that may follow on the same thread.
std::vector<io::ResultRow> term_rows(const FitPlan& plan, io::ResultRow base, kernels::FitStatus status,
                                     const Eigen::VectorXd& beta, const Eigen::VectorXd& se, double df, bool logistic,
                                     const FitSettings& s, FitScratch& sc) {
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

}  // namespace

std::vector<io::ResultRow> fit_one(const FitPlan& plan, io::ProteinColumn values, const std::string& protein_name,
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
  if (s.model == io::ModelKind::kCox) return fit_one_cox(plan, v, base, s, sc);

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
    kernels::LinearFit f = kernels::fit_linear(plan.design, v, y, sc.keep, sc.active, sc.linear, linear_options(plan, s));
    status = f.status;
    df = f.df_residual;
    beta = std::move(f.beta);
    se = std::move(f.se);
  }
  return term_rows(plan, std::move(base), status, beta, se, df, logistic, s, sc);
}

namespace {

// prepare_protein, then the protein's blank row with OBS_CT (a batch's first step for every fit).
io::ResultRow prepared_row(const FitPlan& plan, io::ProteinColumn values, const std::string& name, const FitSettings& s,
                           FitScratch& x) {
  prepare_protein(plan, values, s, x);
  io::ResultRow base = blank_row(plan, name);
  std::int64_t obs = 0;
  for (const auto k : x.keep) obs += k;
  base.obs_ct = obs;
  return base;
}

}  // namespace

std::vector<std::vector<io::ResultRow>> fit_batch(const FitPlan& plan, std::span<const io::ProteinColumn> values,
                                                  std::span<const std::string* const> names, const FitSettings& s,
                                                  std::span<FitScratch> sc) {
  const std::size_t n_fits = values.size();
  PWAS_ASSERT(names.size() == n_fits && sc.size() >= n_fits && n_fits <= static_cast<std::size_t>(kernels::kLanes));
  std::vector<std::vector<io::ResultRow>> out(n_fits);
  const bool has_protein = plan.protein_predictor || plan.protein_outcome;
  if (s.model == io::ModelKind::kLinear && has_protein) {
    // Linear: the fits share one pass over the design for their cross products.
    std::vector<io::ResultRow> bases;
    std::vector<const double*> v, y;
    std::vector<std::span<const std::uint8_t>> keep, active;
    std::vector<kernels::LinearWorkspace*> ws;
    for (std::size_t f = 0; f < n_fits; ++f) {
      FitScratch& x = sc[f];
      bases.push_back(prepared_row(plan, values[f], *names[f], s, x));
      v.push_back(plan.protein_predictor ? x.protein.data() : plan.predictor_values.data());
      y.push_back(plan.protein_outcome ? x.protein.data() : plan.outcome_values.data());
      keep.emplace_back(x.keep);
      active.emplace_back(x.active);
      ws.push_back(&x.linear);
    }
    std::vector<kernels::LinearFit> fits =
        kernels::fit_linear_batch(plan.design, v, y, keep, active, ws, linear_options(plan, s));
    for (std::size_t f = 0; f < n_fits; ++f) {
      kernels::LinearFit& fit = fits[f];
      out[f] = term_rows(plan, std::move(bases[f]), fit.status, fit.beta, fit.se, fit.df_residual, false, s, sc[f]);
    }
    return out;
  }
  if (s.model == io::ModelKind::kCox && plan.protein_predictor) {
    // Cox: the proteins that pass the checks share their chord passes (one workspace, sc[0]'s, for the batch).
    std::vector<io::ResultRow> bases;
    std::vector<kernels::FitStatus> status(n_fits);
    std::vector<const double*> v;
    std::vector<std::span<const std::uint8_t>> keep, active;
    std::vector<std::size_t> fitted;
    for (std::size_t f = 0; f < n_fits; ++f) {
      FitScratch& x = sc[f];
      io::ResultRow base = prepared_row(plan, values[f], *names[f], s, x);
      status[f] = cox_precheck(plan, x.protein, s, x, base);
      bases.push_back(std::move(base));
      if (status[f] != kernels::FitStatus::kOk) continue;
      fitted.push_back(f);
      v.push_back(x.protein.data());
      keep.emplace_back(x.keep);
      active.emplace_back(x.active);
    }
    std::vector<kernels::CoxFit> fits(n_fits), done(fitted.size());
    const kernels::CoxNull* cox_null = plan.cox_null.ok() ? &plan.cox_null : nullptr;
    if (!fitted.empty())
      kernels::fit_cox_batch(plan.design, plan.cox_survival, cox_null, v, keep, active, {}, sc[0].cox, done,
                             cox_options(s));
    for (std::size_t k = 0; k < fitted.size(); ++k) {
      status[fitted[k]] = done[k].status;
      fits[fitted[k]] = std::move(done[k]);
    }
    for (std::size_t f = 0; f < n_fits; ++f)
      out[f] = cox_rows(plan, sc[f].protein, std::move(bases[f]), status[f], fits[f], s, sc[f]);
    return out;
  }
  const kernels::LogisticNull* null = plan.null_model.ok() ? &plan.null_model : nullptr;
  if (s.model != io::ModelKind::kLogistic || !plan.protein_predictor || null == nullptr) {
    for (std::size_t f = 0; f < n_fits; ++f) out[f] = fit_one(plan, values[f], *names[f], s, sc[f]);
    return out;
  }
  // Logistic with the protein as predictor: the proteins that reach a fit share their chord passes.
  const auto n = static_cast<Eigen::Index>(plan.rows.size());
  std::vector<io::ResultRow> bases;
  std::vector<const double*> v;
  std::vector<std::span<const std::uint8_t>> keep, active;
  std::vector<kernels::LogisticWorkspace*> ws;
  std::vector<std::size_t> lane_fit;
  for (std::size_t f = 0; f < n_fits; ++f) {
    FitScratch& x = sc[f];
    prepare_protein(plan, values[f], s, x);
    io::ResultRow base = blank_row(plan, *names[f]);
    std::int64_t obs = 0, cases = 0;
    for (Eigen::Index r = 0; r < n; ++r)
      if (x.keep[static_cast<std::size_t>(r)]) {
        ++obs;
        cases += plan.outcome_values(r) == 1.0 ? 1 : 0;
      }
    base.obs_ct = obs;
    base.case_ct = cases;
    bases.push_back(std::move(base));
    if (cases < s.min_case_ct || obs - cases < s.min_case_ct) continue;
    v.push_back(x.protein.data());
    keep.emplace_back(x.keep);
    active.emplace_back(x.active);
    ws.push_back(&x.logistic);
    lane_fit.push_back(f);
  }
  std::vector<kernels::LogisticFit> fits;
  if (!v.empty()) fits = kernels::fit_logistic_batch(plan.design, null, v, plan.outcome_values, keep, active, ws);
  std::size_t lane = 0;
  for (std::size_t f = 0; f < n_fits; ++f) {
    if (lane < lane_fit.size() && lane_fit[lane] == f) {
      kernels::LogisticFit& fit = fits[lane++];
      out[f] = term_rows(plan, std::move(bases[f]), fit.status, fit.beta, fit.se, kNaN, true, s, sc[f]);
    } else {
      out[f] = term_rows(plan, std::move(bases[f]), kernels::FitStatus::kTooFewCases, {}, {}, kNaN, true, s, sc[f]);
    }
  }
  return out;
}

}  // namespace pwas::engine
