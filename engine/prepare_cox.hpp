#pragma once
// What every Cox fit of a plan shares, built once per (analysis, outcome): the sorted risk sets and the
// covariates-only model.
#include <string>
#include <vector>

#include "engine/design.hpp"
#include "io/config.hpp"
#include "kernels/cox.hpp"

namespace pwas::engine {

/// Sorts the plan rows into risk sets (plan.cox_survival, strata when the plan has more than one) and fits the
/// covariates-only Cox model on all of them (plan.cox_null), with a log line. A null model that fails (e.g. a
/// covariate with monotone likelihood) is logged; every protein's fit then starts from zero and refits it.
void prepare_cox(FitPlan& plan, io::CoxTies ties);

/// The kernels' tie handling for a config's.
kernels::CoxTies cox_ties(io::CoxTies ties);

/// The result columns a Cox table adds before ERRCODE, in the order fit_one fills ResultRow::extra.
const std::vector<std::string>& cox_columns();
/// The same, plus HR_EXPOSURE, HR_EXPOSURE_ADJ, PERM, PERM_L95, PERM_U95 when a mediation exposure is set.
std::vector<std::string> cox_columns(const std::string& mediation_exposure);

}  // namespace pwas::engine
