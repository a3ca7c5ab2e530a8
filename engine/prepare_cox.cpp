#include "engine/prepare_cox.hpp"

#include <span>

#include <fmt/format.h>

#include "engine/level_guard.hpp"

namespace pwas::engine {

kernels::CoxTies cox_ties(io::CoxTies ties) {
  return ties == io::CoxTies::kEfron ? kernels::CoxTies::kEfron : kernels::CoxTies::kBreslow;
}

const std::vector<std::string>& cox_columns() {
  static const std::vector<std::string> cols = {"EVENT_CT", "HR",    "HR_L95", "HR_U95",
                                                "P_SCORE",  "P_LRT", "P_PH",   "P_PH_GLOBAL"};
  return cols;
}

std::vector<std::string> cox_columns(const std::string& mediation_exposure) {
  std::vector<std::string> cols = cox_columns();
  if (!mediation_exposure.empty()) cols.insert(cols.end(), {"HR_EXPOSURE", "HR_EXPOSURE_ADJ", "PERM", "PERM_L95", "PERM_U95"});
  return cols;
}

void prepare_cox(FitPlan& plan, io::CoxTies ties) {
  const auto n = static_cast<Eigen::Index>(plan.rows.size());
  const std::span<const std::int32_t> strata =
      plan.n_strata > 1 ? std::span<const std::int32_t>(plan.stratum) : std::span<const std::int32_t>();
  plan.cox_survival = kernels::make_cox_survival(plan.surv_time, plan.surv_event, strata);
  kernels::CoxOptions opt;
  opt.ties = cox_ties(ties);
  kernels::CoxWorkspace ws;
  // The event indicator as numbers, for the level guard (here and per fit in fit_one).
  plan.cox_events.resize(n);
  for (Eigen::Index r = 0; r < n; ++r) plan.cox_events(r) = plan.surv_event[static_cast<std::size_t>(r)];
  // A covariate level without events has no finite coefficient (monotone likelihood); in the limit its rows leave
  // every risk set, so the null model is fitted without them and without its column, as each protein's fit is.
  std::vector<std::uint8_t> keep(static_cast<std::size_t>(n), 1), active(static_cast<std::size_t>(plan.design.n_cov()), 1);
  if (!plan.groups.empty() && guard_levels(plan, &plan.cox_events, keep, active, true)) {
    std::int64_t left = 0;
    for (auto k : keep) left += k;
    plan.log.push_back(fmt::format("Cox: covariate levels without events leave the fits (their samples and "
                                   "columns): {} of {} rows stay", left, n));
  }
  plan.cox_null = kernels::make_cox_null(plan.design, plan.cox_survival, keep, active, {}, ws, opt);
  const kernels::CoxFit& f = plan.cox_null.fit;
  if (plan.cox_null.ok())
    plan.log.push_back(fmt::format("Cox covariates-only model: {} rows, {} events, {} tie groups, log partial "
                                   "likelihood {:.6f} after {} Newton steps", f.n_obs, f.n_events,
                                   plan.cox_survival.n_groups(), f.loglik, f.iterations));
  else
    plan.log.push_back(fmt::format("Cox covariates-only model: {} ({} rows, {} events); each protein's fit refits it",
                                   kernels::to_string(f.status), f.n_obs, f.n_events));
}

}  // namespace pwas::engine
