#pragma once
// Internals of kernels/logistic.cpp shared with kernels/logistic_chord.cpp (not part of the kernels' API).
#include <cstdint>
#include <span>

#include <Eigen/Dense>

#include "kernels/logistic.hpp"
#include "kernels/logistic_lanes.hpp"

namespace pwas::kernels::logistic_detail {

/// One fit's problem: the design, whether it has the column v, and v's kept mean and spread.
struct Problem {
  const SharedDesign& d;
  bool has_v;
  Eigen::Index p;     // columns of X, active or not
  double mean_v;      // kept mean of v (0 without v)
  double abs_max_v;   // max |v - mean_v| on kept rows
  bool masked;        // some covariate column is inactive
};

/// C'W0C over the fit's kept rows into the lower triangle of ws.h0 (the null's Gram, downdated).
void kept_null_gram(const Problem& pr, const LogisticNull& null, std::span<const std::uint8_t> keep,
                    LogisticWorkspace& ws);

/// Equilibrates and factors the active block of the lower triangle of `info`; false when not positive definite.
bool factor_compact(const Eigen::MatrixXd& info, LogisticWorkspace& ws);

/// ws.step [p] = I^{-1} ws.u on the active columns (0 elsewhere), from factor_compact's factorisation.
void solve_step(Eigen::Index p, LogisticWorkspace& ws);

/// sum_j |delta_j| max_i |x_ij|: a bound for max_i |x_i' delta| over the kept rows without a pass.
double eta_bound(const Problem& pr, const Eigen::VectorXd& delta);

/// One fit of a chord batch. On return `converged` says whether the chord iteration reached the estimate (left in
/// ws->theta); otherwise the fit goes to Newton. `steps` counts the chord steps taken.
struct ChordLane {
  const Problem* pr = nullptr;
  LogisticWorkspace* ws = nullptr;
  std::span<const std::uint8_t> keep;
  bool converged = false;
  int steps = 0;
};

/// The chord iteration (kernels/logistic.cpp, top) for up to kLanes fits of one design, null and outcome in
/// lockstep, their O(n p) passes shared (lane_score_pass; lp.y must hold the outcome, finite on every row).
/// Each lane's iterates depend only on its own fit.
void chord_batch(const LogisticNull& null, std::span<ChordLane> lanes, const LogisticOptions& opt, LanePass& lp);

}  // namespace pwas::kernels::logistic_detail
