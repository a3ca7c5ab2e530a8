#include "kernels/lane_cross.hpp"

#include <algorithm>

#include "kernels/assert.hpp"

namespace pwas::kernels {
namespace {

using Eigen::Index;

constexpr Index kBlockRows = 256;  // rows per sweep of the column chunks (a block of z stays in L1/L2)
// Columns whose accumulators (2 x kChunk lanes) stay in registers: 8 with AVX-512, 3 with AVX2.
constexpr Index kChunk = std::clamp(kLaneAccumulators / 2, 1, 8);

}  // namespace

void LaneCross::resize(const SharedDesign& d) {
  const auto n = static_cast<std::size_t>(d.n_samples());
  const auto stride = static_cast<std::size_t>(d.z_rows.cols());
  const auto levels = static_cast<std::size_t>(d.level_rows);
  a.assign(n, Lane{});
  b.assign(n, Lane{});
  dense_a.assign(stride, Lane{});
  dense_b.assign(stride, Lane{});
  level_a.assign(levels, Lane{});
  level_b.assign(levels, Lane{});
}

void lane_cross(const SharedDesign& d, LaneCross& lc) {
  const Index n = d.n_samples();
  const Index stride = d.z_rows.cols();
  PWAS_ASSERT(static_cast<Index>(lc.a.size()) == n && static_cast<Index>(lc.b.size()) == n &&
              static_cast<Index>(lc.dense_a.size()) == stride && static_cast<Index>(lc.level_a.size()) == d.level_rows);
  std::fill(lc.dense_a.begin(), lc.dense_a.end(), Lane{});
  std::fill(lc.dense_b.begin(), lc.dense_b.end(), Lane{});
  std::fill(lc.level_a.begin(), lc.level_a.end(), Lane{});
  std::fill(lc.level_b.begin(), lc.level_b.end(), Lane{});
  // The dense columns rounded up to whole chunks where the padding allows (padding rows add exact zeros).
  const Index nd = std::min(stride, (d.n_dense() + kChunk - 1) / kChunk * kChunk);
  const auto n_groups = static_cast<Index>(d.groups.size());
  for (Index i0 = 0; i0 < n; i0 += kBlockRows) {
    const Index m = std::min(kBlockRows, n - i0);
    const double* z = d.z_rows.data() + i0 * stride;
    const Lane* a = lc.a.data() + i0;
    const Lane* b = lc.b.data() + i0;
    Index j0 = 0;
    for (; j0 + kChunk <= nd; j0 += kChunk) {
      Lane acc_a[kChunk], acc_b[kChunk];
      for (Index q = 0; q < kChunk; ++q) {
        acc_a[q] = lc.dense_a[static_cast<std::size_t>(j0 + q)];
        acc_b[q] = lc.dense_b[static_cast<std::size_t>(j0 + q)];
      }
      for (Index t = 0; t < m; ++t) {
        const double* zr = z + t * stride + j0;
        const Lane at = a[t], bt = b[t];
        for (Index q = 0; q < kChunk; ++q) {
          acc_a[q] += zr[q] * at;
          acc_b[q] += zr[q] * bt;
        }
      }
      for (Index q = 0; q < kChunk; ++q) {
        lc.dense_a[static_cast<std::size_t>(j0 + q)] = acc_a[q];
        lc.dense_b[static_cast<std::size_t>(j0 + q)] = acc_b[q];
      }
    }
    for (; j0 < nd; ++j0) {
      Lane acc_a = lc.dense_a[static_cast<std::size_t>(j0)], acc_b = lc.dense_b[static_cast<std::size_t>(j0)];
      for (Index t = 0; t < m; ++t) {
        acc_a += z[t * stride + j0] * a[t];
        acc_b += z[t * stride + j0] * b[t];
      }
      lc.dense_a[static_cast<std::size_t>(j0)] = acc_a;
      lc.dense_b[static_cast<std::size_t>(j0)] = acc_b;
    }
    for (Index t = 0; t < m; ++t) {
      const std::uint16_t* lev = d.level.row(i0 + t).data();
      for (Index g = 0; g < n_groups; ++g) {
        const auto row = static_cast<std::size_t>(d.groups[static_cast<std::size_t>(g)].offset + lev[g]);
        lc.level_a[row] += a[t];
        lc.level_b[row] += b[t];
      }
    }
  }
}

void unpack_cross(const SharedDesign& d, const LaneCross& lc, int lane, double* out_a, double* out_b) {
  for (Index k = 0; k < d.n_dense(); ++k) {
    const Index j = d.dense_cols[static_cast<std::size_t>(k)];
    out_a[j] = lc.dense_a[static_cast<std::size_t>(k)][lane];
    out_b[j] = lc.dense_b[static_cast<std::size_t>(k)][lane];
  }
  const double sum_a = out_a[0], sum_b = out_b[0];  // dense column 0 is the intercept
  for (const DummyGroup& g : d.groups)
    for (std::size_t k = 0; k < g.cols.size(); ++k) {
      const Index j = g.cols[k];
      const auto row = static_cast<std::size_t>(g.offset + 1) + k;
      out_a[j] = lc.level_a[row][lane] - d.mean(j) * sum_a;
      out_b[j] = lc.level_b[row][lane] - d.mean(j) * sum_b;
    }
}

}  // namespace pwas::kernels
