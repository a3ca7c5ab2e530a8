#pragma once
// Resampling inference of one plan over a block of proteins (docs/resampling.md): the protein-side columns are
// prepared by the grouped scan right after the fits (engine/group_scan.cpp), then every 64 replicates (shared
// permutations, Poisson-bootstrap weights, half splits) of the block are one product A'B (kernels/cross_product.hpp)
// over all its proteins (engine/resample_replicates.cpp). Shared parts: resample_shared.cpp; split half:
// split_half.cpp.
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "engine/fit_one.hpp"
#include "engine/scan.hpp"
#include "io/config.hpp"
#include "kernels/cross_product.hpp"
#include "kernels/projector.hpp"

namespace pwas::engine {

/// What every protein's resampling under one plan shares, built once per rank.
struct ResampleShared {
  bool usable = false;              // false: the covariates-only model failed; every row's resampling is NA
  bool logistic = false;
  Eigen::VectorXd a1;               // [n_rows] the permuted vector: linear e_s = M_C s (s = the non-protein side,
                                    // Freedman–Lane), logistic r0 = y - mu0 (null residuals)
  Eigen::VectorXd a2;               // [n_rows] logistic: w0 = mu0 (1 - mu0)
  bool null_all_rows = false;       // logistic: the null was fitted on every plan row (its Gram can be downdated)
  std::vector<std::int32_t> strata; // [n_rows] split-half strata: the binary non-protein variable (cases and
                                    // controls), else one stratum
  double ss_shared = 0.0;           // linear: e_s' e_s
  Eigen::MatrixXd gram_inverse;     // [n_cov x n_cov] linear: (C'C)^-1 over the plan rows
  kernels::PackedPanels covariates; // linear: C as 16-column panels, for C' P e_s
};
ResampleShared make_resample_shared(const FitPlan& plan, const FitSettings& s);

/// The extra result columns resampling adds, in order.
std::vector<std::string> resample_columns(const io::ResamplingConfig& rc);

/// One block's protein-side columns for one plan; column j is written only by the task holding protein j.
struct ResampleBlock {
  Eigen::Index k = 0;
  kernels::PackedPanels b1, b2, psi;   // [n_rows x k]: M v (linear e_j, logistic W0-residualised protein);
                                       // linear: the kept-row mask, logistic: b1 squared; influence of BETA
  std::vector<std::uint8_t> ok;        // [k] the fit and its resampling columns are usable
  std::vector<double> observed;        // [k] observed statistic (partial t or score z): T_PERM
  std::vector<double> ss_protein, df, frac;         // [k] linear: e_j'e_j, residual df, kept share of the rows
  std::vector<double> beta, acceleration;           // [k] BETA of the fit; BCa acceleration
  std::vector<Eigen::VectorXd> fit_beta;            // [k] logistic: every coefficient of the fit (empty unless OK)
  void resize(Eigen::Index n_rows, Eigen::Index columns, const io::ResamplingConfig& rc, bool logistic);
};

/// What the grouped scan needs to prepare the resampling columns of a block (one ResampleBlock per plan).
struct BlockResampling {
  const std::vector<ResampleShared>* shared = nullptr;   // [plan]
  const io::ResamplingConfig* config = nullptr;
  std::vector<ResampleBlock> blocks;                     // [plan]
};

/// Proteins per block when resampling: as many as keep the blocks' columns within `budget_bytes`.
std::int64_t resample_block_proteins(const std::vector<FitPlan>& plans, const io::ResamplingConfig& rc,
                                     bool logistic, double budget_bytes);

/// Runs every replicate over the block and writes the resampling columns into each protein's predictor row
/// (rows[j].rows.back().extra, NaN where not available; P_MAXT is left NaN for the reducer). `replicate_max`
/// [permutations] is raised to the largest |statistic| of the block in each permutation. Returns the floating-point
/// operations of its matrix products (2 x multiply-adds, padding included).
double run_replicates(const FitPlan& plan, const ResampleShared& sh, const ResampleBlock& block,
                    const io::ResamplingConfig& rc, std::uint64_t seed, int threads, std::vector<ProteinRows>& rows,
                    std::vector<double>& replicate_max);

/// The split-half summary of an analysis (rank 0, after gathering): per split and plan, the correlation of BETA
/// between the halves and the replication of each half's hits (P < alpha_bonferroni) in the other (same sign,
/// P < 0.05), as TSV; `log_line` gets the means over splits.
std::string split_half_table(const std::vector<FitPlan>& plans, const std::vector<std::vector<ProteinRows>>& per_plan,
                             const io::ResamplingConfig& rc, double alpha_bonferroni, std::string& log_line);

/// P_MAXT of every row from the proteome-wide maxima (column T_PERM against replicate_max), at rank 0.
void fill_max_t(const io::ResamplingConfig& rc, const std::vector<double>& replicate_max, std::vector<io::ResultRow>& rows);

}  // namespace pwas::engine
