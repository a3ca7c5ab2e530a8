#pragma once
// C'a and C'b for up to kLanes pairs of vectors (one pair per lane) in one pass over a SharedDesign's compressed
// layout: the O(n p) part of kLanes linear fits at the cost of reading the design once (kernels/lanes.hpp). When the
// fits share one of their two vectors only C'b is needed per lane (the shared side's products come from the Gram
// downdate, kernels/linear.cpp): half the arithmetic, and the design is read in half as many sweeps.
#include <vector>

#include <Eigen/Dense>

#include "kernels/lanes.hpp"
#include "kernels/shared_design.hpp"

namespace pwas::kernels {

/// Rows per block of the pass: a block of z (and of the lanes' inputs) stays in L1/L2 while it is swept.
inline constexpr Eigen::Index kLaneBlockRows = 256;

/// Fills the lanes' inputs of rows [i0, i0 + m) (m <= kLaneBlockRows), row i0 + t at a[t] (when the pass has a) and
/// b[t]: lane_cross then reads each block's inputs from L1 instead of whole input arrays formed before the pass.
/// A reference to a callable (no allocation, unlike std::function with a capturing lambda); it must outlive the call.
class LaneFill {
 public:
  LaneFill() = default;
  template <class F>
  static LaneFill of(const F& f) {
    LaneFill r;
    r.call_ = [](const void* c, Eigen::Index i0, Eigen::Index m, Lane* a, Lane* b) {
      (*static_cast<const F*>(c))(i0, m, a, b);
    };
    r.ctx_ = &f;
    return r;
  }
  explicit operator bool() const { return call_ != nullptr; }
  void operator()(Eigen::Index i0, Eigen::Index m, Lane* a, Lane* b) const { call_(ctx_, i0, m, a, b); }

 private:
  void (*call_)(const void*, Eigen::Index, Eigen::Index, Lane*, Lane*) = nullptr;
  const void* ctx_ = nullptr;
};

struct LaneCross {
  std::vector<Lane> a, b;                // [n_samples] inputs: each lane's two vectors (0 on rows it leaves out)
  std::vector<Lane> block_a, block_b;    // [kLaneBlockRows] one block's inputs when a LaneFill forms them
  std::vector<Lane> dense_a, dense_b;    // [z stride] sums over rows of z a, z b (dense columns of C)
  std::vector<Lane> level_a, level_b;    // [level rows] sums of a, b over each level's rows
  std::vector<double> s;                 // [n_samples] one more vector, the same for every lane (with_s)
  std::vector<double> dense_s, level_s;  // [z stride], [level rows]: its sums as dense_b, level_b

  /// Sizes the arrays for `d` (inputs zeroed). Without inputs, a and b stay empty: the pass then takes its inputs
  /// from a LaneFill.
  void resize(const SharedDesign& d, bool inputs = true);
};

/// One pass over the rows of `d` in row order: dense_b, level_b and, when with_a, dense_a, level_a, when with_s,
/// dense_s, level_s (else left as they are). Each column's sum runs over the rows in order, however the pass is
/// chunked: C's does not depend on what else the pass computes.
/// With `fill`, the inputs come from it block by block (lc.a and lc.b are not read).
void lane_cross(const SharedDesign& d, LaneCross& lc, bool with_a = true, bool with_s = false,
                const LaneFill& fill = {});

/// Lane `lane` of the products in design column order: out_a [n_cov] = C'a, out_b [n_cov] = C'b. A dummy column j at
/// level code l of its group is 1{level = l} - mean_j, so (C'a)_j = (level sum of a) - mean_j (sum of a).
/// out_a may be null (lane_cross without a).
void unpack_cross(const SharedDesign& d, const LaneCross& lc, int lane, double* out_a, double* out_b);

/// C's [n_cov] in design column order (lane_cross with_s).
void unpack_shared(const SharedDesign& d, const LaneCross& lc, double* out);

}  // namespace pwas::kernels
