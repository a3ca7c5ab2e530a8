// The chord iteration of a batch of Cox fits in lockstep (see chord() in kernels/cox.cpp for the single-fit
// version and the reasoning): one lane pass (cox_lanes.cpp) per step for every lane still iterating.
#include <algorithm>
#include <cmath>

#include "kernels/anderson.hpp"
#include "kernels/assert.hpp"
#include "kernels/cox_detail.hpp"
#include "kernels/lane_blocks.hpp"

namespace pwas::kernels::cox_detail {
namespace {

using Eigen::Index;

enum class LaneState { kRunning, kConverged, kFailed };

// |largest eta - shift| beyond which a sweep's fixed shift could overflow or underflow exp().
constexpr double kMaxShiftGap = 300.0;

// Lane b's score from the pass into st.u [stride]; false when not finite.
bool take_score(const Problem& pr, const CoxLanePass& cp, int b, CoxLaneState& st) {
  st.u.setZero(st.theta.size());
  lane_detail::unpack(pr.d, cp.lp.score_pad, cp.lp.level_score, cp.lp.score_v[b], pr.has_v, b, st.u);
  for (const Index j : st.cols)
    if (!std::isfinite(st.u(j))) return false;
  return std::isfinite(cp.shift[b]);
}

// Step k of a lane from its score: the plain chord step s = H0^-1 U, convergence when no eta moves by more than
// tol, the mean contraction check, then Anderson mixing; kRunning with the next iterate in st.theta.
LaneState step(const Problem& pr, const CoxOptions& opt, int k, CoxLaneState& st) {
  const int depth = std::clamp(opt.chord_anderson, 0, kMaxAndersonDepth);
  const Index slots = depth + 1;
  const Index stride = st.theta.size();
  auto slot = [&](int j) { return static_cast<Index>(j % slots); };
  if (k == 0) {
    st.hist_x.resize(stride, slots);
    st.hist_s.resize(stride, slots);
    st.hist_u.resize(stride, slots);
  }
  const double gain2 = solve_information(st.solver[st.with_v], st.cols, st.u, st.step);  // ||s||^2 in the H0 norm
  if (!std::isfinite(gain2) || gain2 < 0.0) return LaneState::kFailed;
  if (k == 0) {
    st.norm2_first = gain2;
  } else if (!(std::pow(gain2 / st.norm2_first, 0.5 / k) <= opt.chord_max_rate)) {
    return LaneState::kFailed;
  }
  st.steps = k + 1;
  if (eta_bound(pr, st.cols, st.step) <= opt.tol) {
    st.theta += st.step;
    return LaneState::kConverged;
  }
  if (k + 1 >= opt.chord_max_iter) return LaneState::kFailed;
  st.hist_x.col(slot(k)) = st.theta;
  st.hist_s.col(slot(k)) = st.step;
  st.hist_u.col(slot(k)) = st.u;
  st.theta += st.step;
  const int m = std::min(k, depth);
  if (m > 0) anderson_mix(st.hist_x, st.hist_s, st.hist_u, k, m, slot, st.u, st.theta);
  return LaneState::kRunning;
}

}  // namespace

void chord_lanes(const CoxOptions& opt, bool with_v, const lane_detail::LaneRows& rows, std::span<ChordJob> jobs,
                 CoxLanePass& cp) {
  PWAS_ASSERT(!jobs.empty() && static_cast<int>(jobs.size()) <= kLanes);
  const Problem* first = nullptr;
  for (const ChordJob& j : jobs)
    if (j.run) first = j.pr;
  if (first == nullptr) return;
  const SharedDesign& d = first->d;
  const Index pc = d.n_cov();
  LaneState state[kLanes];
  bool drifted[kLanes] = {};
  const auto n_jobs = static_cast<int>(jobs.size());
  for (int b = 0; b < kLanes; ++b) {
    const bool run = b < n_jobs && jobs[static_cast<std::size_t>(b)].run;
    state[b] = run ? LaneState::kRunning : LaneState::kFailed;
    if (b < n_jobs) jobs[static_cast<std::size_t>(b)].converged = false;
    if (run) {
      ChordJob& j = jobs[static_cast<std::size_t>(b)];
      PWAS_ASSERT(&j.pr->d == &d && j.pr->has_v);
      j.st->steps = 0;
      j.st->with_v = with_v ? 1 : 0;
      lane_detail::load_theta(d, j.st->theta, with_v, b, cp.lp);
    } else {
      lane_detail::park(d, b, cp.lp);
    }
  }

  bool need_column = false;  // the information column of v, for a lane whose fixed matrix lacks its row of v
  for (int b = 0; b < n_jobs; ++b)
    need_column = need_column || (with_v && state[b] == LaneState::kRunning && !jobs[static_cast<std::size_t>(b)].complete);
  cox_lane_pass(d, rows, first->s, first->ties, need_column, cp);
  for (int b = 0; b < n_jobs; ++b) {
    if (state[b] != LaneState::kRunning) continue;
    ChordJob& j = jobs[static_cast<std::size_t>(b)];
    CoxLaneState& st = *j.st;
    bool ok = take_score(*j.pr, cp, b, st);
    if (ok && with_v && !j.complete) {
      // The row of v of the information at the start (lower triangle: row pc, columns <= pc).
      st.step.setZero(st.theta.size());  // scratch for the unpacked column
      lane_detail::unpack(d, cp.lp.cw_pad, cp.lp.level_cw, cp.lp.svv[b], true, b, st.step);
      for (Index c = 0; c <= pc; ++c) st.info(pc, c) = st.step(c);
    }
    ok = ok && factor_information(st.info, st.cols, st.solver[st.with_v], opt.singular_rcond);
    if (!ok) {
      state[b] = LaneState::kFailed;
      lane_detail::park(d, b, cp.lp);
    }
  }

  for (int k = 0;; ++k) {
    int running = 0;
    for (int b = 0; b < n_jobs; ++b) {
      if (state[b] != LaneState::kRunning) continue;
      ChordJob& j = jobs[static_cast<std::size_t>(b)];
      state[b] = step(*j.pr, opt, k, *j.st);
      if (state[b] == LaneState::kRunning) {
        lane_detail::load_theta(d, j.st->theta, with_v, b, cp.lp);
        ++running;
      } else {
        j.converged = state[b] == LaneState::kConverged;
        lane_detail::park(d, b, cp.lp);
      }
    }
    if (running == 0) return;
    // One sweep at each lane's shift of the pass before; a lane whose largest eta moved away from its shift by
    // more than kMaxShiftGap (exp() could overflow or underflow) takes its score from a two-sweep pass instead.
    cox_lane_sweep(d, rows, first->s, first->ties, cp);
    bool redo = false;
    for (int b = 0; b < n_jobs; ++b) {
      if (state[b] != LaneState::kRunning) continue;
      ChordJob& j = jobs[static_cast<std::size_t>(b)];
      drifted[b] = !(std::abs(cp.max_eta[b] - cp.shift[b]) <= kMaxShiftGap);
      redo = redo || drifted[b];
      if (!drifted[b] && !take_score(*j.pr, cp, b, *j.st)) {
        state[b] = LaneState::kFailed;
        lane_detail::park(d, b, cp.lp);
      }
    }
    const Lane next_shift = cp.max_eta;
    if (redo) {
      cox_lane_pass(d, rows, first->s, first->ties, false, cp);
      for (int b = 0; b < n_jobs; ++b) {
        if (state[b] != LaneState::kRunning || !drifted[b]) continue;
        ChordJob& j = jobs[static_cast<std::size_t>(b)];
        if (!take_score(*j.pr, cp, b, *j.st)) {
          state[b] = LaneState::kFailed;
          lane_detail::park(d, b, cp.lp);
        }
      }
    }
    cp.shift = next_shift;
  }
}

}  // namespace pwas::kernels::cox_detail
