// The chord iteration of kernels/logistic.cpp (see the top of that file) for a batch of fits in lockstep.
#include <algorithm>
#include <cmath>

#include "kernels/anderson.hpp"
#include "kernels/assert.hpp"
#include "kernels/gram.hpp"
#include "kernels/lane_blocks.hpp"
#include "kernels/logistic_detail.hpp"

namespace pwas::kernels::logistic_detail {
namespace {

using Eigen::Index;

enum class LaneState { kRunning, kConverged, kFailed };

void load_theta(const Problem& pr, const Eigen::VectorXd& theta, int b, LanePass& lp) {
  lane_detail::load_theta(pr.d, theta, pr.has_v, b, lp);
}

void unpack(const Problem& pr, const std::vector<Lane>& pad, const std::vector<Lane>& levels, double v_entry, int b,
            Eigen::VectorXd& out) {
  out.resize(pr.p);
  lane_detail::unpack(pr.d, pad, levels, v_entry, pr.has_v, b, out);
}

using lane_detail::park;

// The start (theta_null, 0); with inactive columns, the W0-weighted projection of the null's linear predictor on
// the active ones, theta_a = H0[a,a]^{-1} H0[a,:] theta_null: exactly the null's eta on the kept rows when the
// inactive columns are combinations of active ones there (an empty or re-referenced level). Needs ws.h0.
void start(const Problem& pr, const LogisticNull& null, LogisticWorkspace& ws) {
  const Index pc = pr.d.n_cov();
  const auto& cols = ws.cols;
  const Index qc = static_cast<Index>(cols.size()) - 1;  // active covariate columns; cols[qc] = pc is v
  ws.theta.setZero(pr.p);
  ws.theta.head(pc) = null.theta;
  if (!pr.masked) return;
  fill_upper_from_lower(ws.h0);
  ws.cw.resize(pc);
  ws.cw.noalias() = ws.h0 * null.theta;
  ws.a.resize(qc, qc);
  ws.cu.resize(qc);
  for (Index l = 0; l < qc; ++l) {
    ws.cu(l) = ws.cw(cols[l]);
    for (Index k = 0; k < qc; ++k) ws.a(k, l) = ws.h0(cols[k], cols[l]);
  }
  ws.llt_c.compute(ws.a);
  ws.theta.setZero(pr.p);
  if (ws.llt_c.info() == Eigen::Success) {
    ws.llt_c.solveInPlace(ws.cu);
    for (Index l = 0; l < qc; ++l) ws.theta(cols[l]) = ws.cu(l);
  } else {
    for (Index l = 0; l < qc; ++l) ws.theta(cols[l]) = null.theta(cols[l]);
  }
}

// H0 = [C'W0C, C'W0v; v'W0C, v'W0v] on the active columns (lower triangle) into ws.b, factored.
bool factor_h0(const Problem& pr, double svv, LogisticWorkspace& ws) {
  const Index pc = pr.d.n_cov();
  const auto& cols = ws.cols;
  const Index qc = static_cast<Index>(cols.size()) - 1;
  ws.b.resize(pr.p, pr.p);
  for (Index l = 0; l < qc; ++l) {
    for (Index k = l; k < qc; ++k) ws.b(cols[k], cols[l]) = ws.h0(cols[k], cols[l]);
    ws.b(pc, cols[l]) = ws.cw(cols[l]);
  }
  ws.b(pc, pc) = svv;
  return factor_compact(ws.b, ws);
}

// Anderson acceleration (type II, depth m) of the fixed-point map x -> x + s(x), s = H0^{-1} U(x): the next iterate
// is x_k + s_k - sum_j gamma_j (dx_j + ds_j), gamma minimising ||s_k - dS gamma|| in the H0 norm, whose Gram matrix
// is dS'H0 dS = dS'dU (H0 s = U). For the near-linear problem this is GMRES on the H0-preconditioned Newton system:
// it removes the few slow directions of I - H0^{-1} I(theta*) (rare factor levels, the protein itself) instead of
// waiting for them to contract. One step k of a lane from its score ws.u: kRunning with the next iterate in
// ws.theta, or the lane's verdict.
LaneState step(const Problem& pr, const LogisticOptions& opt, int k, double& norm2_first, LogisticWorkspace& ws) {
  const Index p = pr.p;
  const int depth = std::clamp(opt.chord_anderson, 0, kMaxAndersonDepth);
  const Index slots = depth + 1;
  auto slot = [&](int j) { return static_cast<Index>(j % slots); };
  if (k == 0) {
    ws.hist_x.resize(p, slots);
    ws.hist_s.resize(p, slots);
    ws.hist_u.resize(p, slots);
  }
  solve_step(p, ws);
  const double norm2 = ws.step.dot(ws.u);  // ||s_k||_H0^2
  if (!(norm2 >= 0.0) || !std::isfinite(norm2)) return LaneState::kFailed;
  ws.hist_x.col(slot(k)) = ws.theta;
  ws.hist_s.col(slot(k)) = ws.step;
  ws.hist_u.col(slot(k)) = ws.u;
  // The error of x_k is ~ I(theta*)^{-1} U_k = (H0^{-1} I)^{-1} s_k; after the plain step below it is
  // ~ rho / (1 - rho) s_k, below s_k for the contraction rates (rho < 1/2) the chord keeps.
  const double bound = eta_bound(pr, ws.step);
  // Mean contraction per step so far (Anderson steps contract unevenly): slow or diverging -> Newton.
  if (k == 0) norm2_first = norm2;
  if (k >= 1 && !(std::pow(norm2 / norm2_first, 0.5 / k) <= opt.chord_max_rate)) return LaneState::kFailed;
  if (bound <= opt.chord_tol) {
    ws.theta += ws.step;
    return LaneState::kConverged;
  }
  if (k >= opt.chord_max_iter) return LaneState::kFailed;
  ws.theta += ws.step;
  const int m = std::min(k, depth);
  if (m > 0) anderson_mix(ws.hist_x, ws.hist_s, ws.hist_u, k, m, slot, ws.u, ws.theta);
  return LaneState::kRunning;
}

}  // namespace

void chord_batch(const LogisticNull& null, std::span<ChordLane> lanes, const LogisticOptions& opt, LanePass& lp) {
  PWAS_ASSERT(!lanes.empty() && static_cast<int>(lanes.size()) <= kLanes);
  const SharedDesign& d = lanes[0].pr->d;
  const Index pc = d.n_cov();
  const auto n_lanes = static_cast<int>(lanes.size());
  PWAS_ASSERT(null.theta.size() == pc && null.w.size() == d.n_samples() &&
              static_cast<Index>(null.keep.size()) == d.n_samples() && null.gram.rows() == pc);
  lp.resize(d);
  LaneState state[kLanes];
  double norm2_first[kLanes] = {};
  for (int b = 0; b < n_lanes; ++b) {
    ChordLane& lane = lanes[static_cast<std::size_t>(b)];
    PWAS_ASSERT(&lane.pr->d == &d && lane.pr->has_v);
    LogisticWorkspace& ws = *lane.ws;
    lane.converged = false;
    lane.steps = 0;
    kept_null_gram(*lane.pr, null, lane.keep, ws);
    start(*lane.pr, null, ws);
    const Index n_obs = static_cast<Index>(ws.rows.size());
    for (Index k = 0; k < n_obs; ++k) {
      const auto i = static_cast<std::size_t>(ws.rows[static_cast<std::size_t>(k)]);
      lp.v[i][b] = ws.vk(k);
      lp.mask[i][b] = 1.0;
    }
    load_theta(*lane.pr, ws.theta, b, lp);
    state[b] = LaneState::kRunning;
  }

  // The first pass at the start also gives C'W0v and v'W0v, completing H0.
  lane_score_pass(d, null.w.data(), lp);
  for (int b = 0; b < n_lanes; ++b) {
    const ChordLane& lane = lanes[static_cast<std::size_t>(b)];
    LogisticWorkspace& ws = *lane.ws;
    unpack(*lane.pr, lp.score_pad, lp.level_score, lp.score_v[b], b, ws.u);
    unpack(*lane.pr, lp.cw_pad, lp.level_cw, 0.0, b, ws.cw);
    if (!(lp.max_abs_eta[b] <= opt.separation_eta) || !factor_h0(*lane.pr, lp.svv[b], ws)) state[b] = LaneState::kFailed;
  }

  for (int k = 0;; ++k) {
    int running = 0;
    for (int b = 0; b < n_lanes; ++b) {
      if (state[b] != LaneState::kRunning) continue;
      ChordLane& lane = lanes[static_cast<std::size_t>(b)];
      state[b] = step(*lane.pr, opt, k, norm2_first[b], *lane.ws);
      if (state[b] == LaneState::kRunning) {
        lane.steps = k + 1;
        load_theta(*lane.pr, lane.ws->theta, b, lp);
        ++running;
      } else {
        lane.converged = state[b] == LaneState::kConverged;
        park(d, b, lp);
      }
    }
    if (running == 0) return;
    lane_score_pass(d, nullptr, lp);
    for (int b = 0; b < n_lanes; ++b) {
      if (state[b] != LaneState::kRunning) continue;
      const ChordLane& lane = lanes[static_cast<std::size_t>(b)];
      if (!(lp.max_abs_eta[b] <= opt.separation_eta)) {
        state[b] = LaneState::kFailed;
        park(d, b, lp);
        continue;
      }
      unpack(*lane.pr, lp.score_pad, lp.level_score, lp.score_v[b], b, lane.ws->u);
    }
  }
}

}  // namespace pwas::kernels::logistic_detail
