#pragma once
// C'a and C'b for up to kLanes pairs of vectors (one pair per lane) in one pass over a SharedDesign's compressed
// layout: the O(n p) part of kLanes linear fits at the cost of reading the design once (kernels/lanes.hpp).
#include <vector>

#include <Eigen/Dense>

#include "kernels/lanes.hpp"
#include "kernels/shared_design.hpp"

namespace pwas::kernels {

struct LaneCross {
  std::vector<Lane> a, b;                // [n_samples] inputs: each lane's two vectors (0 on rows it leaves out)
  std::vector<Lane> dense_a, dense_b;    // [z stride] sums over rows of z a, z b (dense columns of C)
  std::vector<Lane> level_a, level_b;    // [level rows] sums of a, b over each level's rows

  /// Sizes the arrays for `d` (inputs zeroed).
  void resize(const SharedDesign& d);
};

/// One pass over the rows of `d` in row order.
void lane_cross(const SharedDesign& d, LaneCross& lc);

/// Lane `lane` of the products in design column order: out_a [n_cov] = C'a, out_b [n_cov] = C'b. A dummy column j at
/// level code l of its group is 1{level = l} - mean_j, so (C'a)_j = (level sum of a) - mean_j (sum of a).
void unpack_cross(const SharedDesign& d, const LaneCross& lc, int lane, double* out_a, double* out_b);

}  // namespace pwas::kernels
