#pragma once
// Turns one analysis of the config into fit plans: the samples it keeps (with a count after each filter),
// the dummy-coded covariate block, and the fixed outcome / predictor vectors of each outcome × predictor pair.
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "io/cohort.hpp"
#include "io/config.hpp"
#include "kernels/cox.hpp"
#include "kernels/logistic.hpp"
#include "kernels/shared_design.hpp"

namespace pwas::engine {

/// One categorical covariate's dummy coding on the plan rows, so each fit can check its levels on its own rows.
struct LevelGroup {
  std::string name;
  std::vector<std::int32_t> level_of_row;   // [n_rows] level index, 0 = reference
  std::vector<Eigen::Index> column;         // [n_levels] design column of each level, -1 for the reference
};

/// A number no other FitPlan made in this process has (caches keyed by a plan must not trust its address).
std::uint64_t next_plan_id();

/// The fits of one outcome × predictor pair, over every protein (or one fit when no protein is involved).
struct FitPlan {
  std::uint64_t id = next_plan_id();
  std::string outcome;                 // column name or "protein"
  std::string predictor;               // column name or "protein"
  bool protein_outcome = false;
  bool protein_predictor = false;
  std::vector<std::int64_t> rows;      // [n_rows] cohort sample indices with complete covariates/outcome/predictor
  kernels::SharedDesign design;        // [n_rows x n_cov] intercept + dummy-coded covariates
  std::vector<std::string> terms;      // [n_cov + 1] "(Intercept)", covariate terms, then the predictor
  Eigen::VectorXd outcome_values;      // [n_rows] when the outcome is a column (binary 0/1 for logistic)
  Eigen::VectorXd predictor_values;    // [n_rows] when the predictor is a column
  Eigen::VectorXd null_start;          // [n_cov + 1] logistic start: covariates-only fit, 0 for the predictor
  kernels::LogisticNull null_model;    // logistic: covariates-only fit on all rows, reused by every protein's fit
  std::int64_t n_cases = -1;           // logistic: cases among rows; cox: events among rows
  // Cox: the survival outcome on the plan rows (non-eligible samples are not rows). The Cox likelihood has no
  // intercept: its fit ignores design column 0, which stays so that every model shares one design layout.
  Eigen::VectorXd surv_time;               // [n_rows] follow-up in years
  std::vector<std::uint8_t> surv_event;    // [n_rows] 1 = event, 0 = censored
  std::vector<std::int32_t> stratum;       // [n_rows] 0..n_strata-1; all 0 without strata
  std::int32_t n_strata = 0;               // cox: strata among the rows
  kernels::CoxSurvival cox_survival;       // cox: the rows sorted into risk sets (engine/prepare_cox.cpp)
  Eigen::VectorXd cox_events;              // cox: [n_rows] surv_event as 0/1, for the per-fit level guard
  kernels::CoxNull cox_null;               // cox: covariates-only fit on all rows, reused by every protein's fit
  std::vector<LevelGroup> groups;      // categorical covariates
  std::vector<std::string> log;        // sample counts after each step
};

/// Samples kept by the analysis' keep/remove files and conditions, with a log line per step.
struct SampleSelection {
  std::vector<std::uint8_t> keep;      // [n_samples]
  std::vector<std::string> log;
};

/// Applies keep/remove files and filter conditions; throws InputError naming the config location or file line.
SampleSelection select_samples(const io::CohortMeta& meta, const io::AnalysisConfig& a);

/// Builds the plan for one outcome × predictor pair; throws InputError for unknown columns, a non-binary
/// logistic outcome, a survival outcome or stratum of the wrong kind, or covariates that are collinear on the
/// analysis samples. For Cox, `outcome` is the name of one of the analysis' survival outcomes. With threads > 1 the
/// rank check runs beside the shared design's set-up.
FitPlan build_plan(const io::CohortMeta& meta, const io::AnalysisConfig& a, const SampleSelection& sel,
                   const std::string& outcome, const std::string& predictor, int threads = 1);

}  // namespace pwas::engine
