#pragma once
// Mediation by a protein in a Cox model: the percent excess risk mediated (PERM) of an exposure, with a Poisson
// bootstrap interval from counter-based streams (kernels/resampling.hpp).
#include <cstdint>
#include <span>

#include <Eigen/Dense>

#include "kernels/cox.hpp"

namespace pwas::kernels {

struct CoxPerm {
  double hr_without = 0.0;   // exp(beta of the exposure) in Surv ~ C
  double hr_with = 0.0;      // exp(beta of the exposure) in Surv ~ C + v
  double perm = 0.0;         // (hr_without - hr_with) / (hr_without - 1) x 100
  double lower = 0.0, upper = 0.0;  // percentile 95% bootstrap interval of perm (NaN below 20 usable replicates)
  int replicates_ok = 0;     // replicates in which both fits converged
  int replicates_alone = 0;  // replicates fitted alone by Newton (their lane's chord gave way), the rest in lanes
  FitStatus status = FitStatus::kOk;  // of the point estimate's two fits (the first that failed)
};

/// PERM = (HR_without - HR_with) / (HR_without - 1) x 100 for covariate column `exposure` of C, both models on the
/// protein's kept rows, and its interval from n_boot Poisson-bootstrap replicates: replicate b refits both models
/// with frequency weights poisson_weights(seed, b) (the same weights for every protein, rank and thread).
/// `replicates`: empty or [n_boot], receives each replicate's PERM (NaN where a fit failed). The replicates run
/// kLanes at a time as chord lanes (estimates to the chord's tolerance, 1e-10 on eta), each bit-identical
/// whichever replicates share its batch.
CoxPerm cox_perm(const SharedDesign& d, const CoxSurvival& s, Eigen::Index exposure,
                 Eigen::Ref<const Eigen::VectorXd> v,   // [n_samples]
                 std::span<const std::uint8_t> keep,    // [n_samples]
                 std::span<const std::uint8_t> active,  // [n_cov] or empty
                 int n_boot, std::uint64_t seed, std::span<double> replicates, CoxWorkspace& ws,
                 const CoxOptions& opt = {});

}  // namespace pwas::kernels
