#pragma once
// One protein (or one column) under one fit plan: transform, fit, and the reported rows.
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "engine/design.hpp"
#include "io/config.hpp"
#include "io/protein_block.hpp"
#include "io/results.hpp"
#include "kernels/cox.hpp"
#include "kernels/linear.hpp"
#include "kernels/logistic.hpp"
#include "kernels/rank_normal.hpp"

namespace pwas::engine {

struct FitSettings {
  io::ModelKind model = io::ModelKind::kLogistic;
  io::ProteinTransform transform = io::ProteinTransform::kRin;
  io::ReportTerms report = io::ReportTerms::kPredictor;
  int min_case_ct = 10;
  io::CoxTies ties = io::CoxTies::kEfron;      // cox
  std::optional<double> score_screen_p;        // cox: full fits only where the null model's score test P < this
  std::string mediation_exposure;              // cox: PERM of this covariate through each protein (empty: none)
  int mediation_bootstrap = 1000;              // cox: Poisson-bootstrap replicates of PERM
  std::uint64_t seed = 1;                      // run seed: keys the PERM bootstrap's weights
};

/// Per-thread scratch, allocated once and reused for every fit the thread runs.
struct FitScratch {
  Eigen::VectorXd protein;             // [n_rows]
  Eigen::VectorXd other;               // [n_rows]
  std::vector<std::uint8_t> keep;      // [n_rows]
  std::vector<std::uint8_t> active;    // [n_cov] covariate columns in this fit
  kernels::LinearWorkspace linear;
  kernels::LogisticWorkspace logistic;
  kernels::CoxWorkspace cox;
  // The last fit, for the resampling that follows it on the same thread (engine/resample_column.cpp).
  Eigen::VectorXd beta;                // [n_cov + 1] all coefficients (NaN unless status is kOk)
  kernels::FitStatus status = kernels::FitStatus::kOk;
  double df = 0.0;                     // linear: residual degrees of freedom
};

/// A result row of `plan` for `protein` (its name; empty without a protein) with every statistic NaN.
io::ResultRow blank_row(const FitPlan& plan, const std::string& protein);

/// Fills the statistics of one term: Wald t with df (linear) or z (logistic), CI as R's confint.lm / confint.default.
void fill_term(io::ResultRow& r, double beta, double se, bool logistic, double df);

/// The linear kernel's options for the plan's fits (kernels::LinearShared: the side that is not the protein; the
/// covariates' SEs only when they are reported).
kernels::LinearOptions linear_options(const FitPlan& plan, const FitSettings& s);

/// Fills sc.protein (transformed on its kept rows), sc.keep and sc.active for the protein column `values` (cohort
/// order, NaN = missing; empty when the plan has no protein): complete cases, level guard, then the transform.
void prepare_protein(const FitPlan& plan, io::ProteinColumn values, const FitSettings& s, FitScratch& sc);

/// Fits `plan` with the protein column `values` (cohort order, NaN = missing; empty when the plan has no protein)
/// and returns its rows (one, or one per term with report = "all"). Failures become ERRCODEs, never exceptions.
std::vector<io::ResultRow> fit_one(const FitPlan& plan, io::ProteinColumn values, const std::string& protein_name,
                                   const FitSettings& s, FitScratch& scratch);

/// fit_one for up to kernels::kLanes protein columns of one plan (values[f], names[f], scratch sc[f]); returns the
/// rows of each. Logistic fits with the protein as predictor run as one kernels::fit_logistic_batch, linear fits with
/// a protein as one kernels::fit_linear_batch, Cox fits of a protein as one kernels::fit_cox_batch (in sc[0]'s
/// workspace), whose results are bit-identical to fit_one's; others run one by one.
std::vector<std::vector<io::ResultRow>> fit_batch(const FitPlan& plan, std::span<const io::ProteinColumn> values,
                                                  std::span<const std::string* const> names, const FitSettings& s,
                                                  std::span<FitScratch> sc);

}  // namespace pwas::engine
