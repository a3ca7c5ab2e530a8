#pragma once
// C += A'B for the resampling engines (tensorQTL's "permutations as one matrix product"), with a summation
// order that depends on nothing but the depth index: every C(r, j) is the fused multiply-add chain
// c = fma(a_0r, b_0j, c), fma(a_1r, b_1j, c), ... over p = 0..n-1. So a protein's statistic is the same bits
// whichever block, column, rank, thread or vector width computed it, which a BLAS GEMM does not promise
// (its depth blocking and edge kernels depend on the matrix shapes).
#include <cstdint>
#include <vector>

#include <Eigen/Dense>

namespace pwas::kernels {

/// Rows of A (replicates) per panel and columns of B (proteins) per panel: the packed layouts below.
inline constexpr Eigen::Index kCrossRows = 8;
inline constexpr Eigen::Index kCrossCols = 16;

/// A packed as panels of kCrossRows replicates: panel t holds A(p, t*8 + r) at [t][p][r] (n x 8, row-major).
/// B packed as panels of kCrossCols columns: panel u holds B(p, u*16 + j) at [u][p][j] (n x 16, row-major).
/// Padding columns are zero. Allocation and filling are the caller's: the engine writes the permuted or
/// reweighted vectors straight into the A layout.
struct PackedPanels {
  Eigen::Index n = 0;          // depth (samples)
  Eigen::Index panels = 0;     // number of panels
  Eigen::Index width = 0;      // kCrossRows or kCrossCols
  std::vector<double> data;    // [panels x n x width]
  void resize(Eigen::Index depth, Eigen::Index n_panels, Eigen::Index panel_width);
  double* panel(Eigen::Index t) { return data.data() + t * n * width; }
  const double* panel(Eigen::Index t) const { return data.data() + t * n * width; }
};

/// c[t*8 + r][u*16 + j] += sum_p a.panel(t)[p][r] * b.panel(u)[p][j] for every A panel t and B panel u.
/// c is row-major [a.panels*8 x ldc] with ldc >= b.panels*16. Cache-blocked over depth and B panels; each
/// element's chain is sequential in p (see above). Single-threaded: callers split A panels across threads.
void cross_product_add(const PackedPanels& a, const PackedPanels& b, double* c, Eigen::Index ldc);

}  // namespace pwas::kernels
