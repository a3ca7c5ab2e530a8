#pragma once
// The O(n p) pass of the logistic chord iteration for up to kLanes fits of one design at once. Each fit is one lane
// of kLanes-wide vectors, and each design row is read once for all of them: the single-fit pass streamed z's rows
// from memory at ~2 flops per 8 bytes; eight lanes make it compute-bound. A lane's arithmetic does not depend on
// the other lanes (every operation is elementwise, in a fixed order over rows and columns), so a fit's result is
// bit-identical whichever fits share its batch and whichever lane it has.
#include <cstdint>
#include <vector>

#include <Eigen/Dense>

#include "kernels/lanes.hpp"
#include "kernels/shared_design.hpp"

namespace pwas::kernels {

/// Inputs and outputs of lane_score_pass. The caller sizes the inputs with `resize` and fills them per lane.
struct LanePass {
  // Inputs, shared and per lane.
  std::vector<double> y;           // [n_samples] the outcome (0/1 on every row some lane keeps), finite on every row
  std::vector<Lane> v;             // [n_samples] v - mean_v on the lane's kept rows, 0 on the others
  std::vector<Lane> mask;          // [n_samples] 1 on the lane's kept rows, 0 on the others
  std::vector<Lane> theta_pad;     // [z stride] theta of the dense columns of z (0 on the padding and v's column)
  std::vector<Lane> theta_levels;  // [level rows] theta of each group's level codes (0 for code 0)
  Lane kappa{};                    // sum over dummy columns of mean_j theta_j
  Lane theta_v{};                  // theta of v
  // Outputs: X'r split as in the compressed layout, max |eta| over the kept rows; with w0 also X'W0 v, v'W0 v.
  std::vector<Lane> score_pad, level_score;  // [z stride], [level rows]
  Lane score_v{}, max_abs_eta{};
  std::vector<Lane> cw_pad, level_cw;        // [z stride], [level rows]
  Lane svv{};
  // Scratch: the level sums' interleaved copies (lane_detail::kLevelSplit x level rows) of level_score, level_cw.
  std::vector<Lane> level_score_split, level_cw_split;

  /// Sizes every array for `d` (inputs zeroed, y left to the caller).
  void resize(const SharedDesign& d);
};

/// One pass over all rows of `d` at every lane's theta: eta = z'theta_z - kappa + sum_g theta_level + theta_v v,
/// r = mask (y - mu), then the score sums of r (and, when w0 [n_samples] is given, of w0 v).
void lane_score_pass(const SharedDesign& d, const double* w0, LanePass& lp);

struct LaneGram;

/// lane_score_pass (without w0) plus what a Newton step needs: each lane's X'WX, W = diag(mask mu (1 - mu)), into g
/// (kernels/lane_gram.hpp) and its deviance 2 sum mask (softplus(eta) - y eta).
void lane_information_pass(const SharedDesign& d, LanePass& lp, LaneGram& g, Lane& deviance);

}  // namespace pwas::kernels
