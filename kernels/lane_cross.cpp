#include "kernels/lane_cross.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/assert.hpp"

namespace pwas::kernels {
namespace {

using Eigen::Index;

constexpr Index kBlockRows = kLaneBlockRows;  // rows per sweep of the column chunks
// Columns whose accumulators stay in registers in one sweep: with both vectors 2 per column (8 columns with AVX-512,
// 6 with AVX2), with b alone 1 per column (16 and 8).
constexpr Index kChunkTwo = std::clamp(kLaneAccumulators / 2, 1, 8);
constexpr Index kChunkOne = std::clamp(kLaneAccumulators / 8 * 8, 1, 16);

// Columns j0 .. j0 + W - 1 over the block's m rows (z: the block's first row). The first sweep of a block also
// prefetches the next block's rows: a sweep reads one or two cache lines of each row, which the hardware prefetcher
// does not follow at the design's row stride.
// With kS also s's sums: W columns of one row times s[t], the same fused multiply-add per column as a lane's.
template <bool kA, bool kS, Index W>
void sweep(const double* z, Index stride, Index m, Index j0, const Lane* a, const Lane* b, const double* s,
           bool prefetch_next, LaneCross& lc) {
  Lane acc_a[kA ? W : 1], acc_b[W];
  double acc_s[kS ? W : 1];
  for (Index q = 0; q < W; ++q) {
    if constexpr (kA) acc_a[q] = lc.dense_a[static_cast<std::size_t>(j0 + q)];
    if constexpr (kS) acc_s[q] = lc.dense_s[static_cast<std::size_t>(j0 + q)];
    acc_b[q] = lc.dense_b[static_cast<std::size_t>(j0 + q)];
  }
  const auto row_bytes = static_cast<std::size_t>(stride) * sizeof(double);
  for (Index t = 0; t < m; ++t) {
    const double* zr = z + t * stride + j0;
    if (prefetch_next) {
      const char* ahead = reinterpret_cast<const char*>(z + (kBlockRows + t) * stride);
      for (std::size_t k = 0; k < row_bytes; k += 64) __builtin_prefetch(ahead + k, 0, 3);
    }
    const Lane bt = b[t];
    if constexpr (kA) {
      const Lane at = a[t];
      for (Index q = 0; q < W; ++q) {
        acc_a[q] += zr[q] * at;
        acc_b[q] += zr[q] * bt;
      }
    } else {
      for (Index q = 0; q < W; ++q) acc_b[q] += zr[q] * bt;
    }
    if constexpr (kS) {
      const double st = s[t];
      for (Index q = 0; q < W; ++q) acc_s[q] += zr[q] * st;
    }
  }
  for (Index q = 0; q < W; ++q) {
    if constexpr (kA) lc.dense_a[static_cast<std::size_t>(j0 + q)] = acc_a[q];
    if constexpr (kS) lc.dense_s[static_cast<std::size_t>(j0 + q)] = acc_s[q];
    lc.dense_b[static_cast<std::size_t>(j0 + q)] = acc_b[q];
  }
}

template <bool kA, bool kS>
void pass(const SharedDesign& d, LaneCross& lc, const LaneFill& fill) {
  constexpr Index kChunk = kA ? kChunkTwo : kChunkOne;
  const Index n = d.n_samples();
  const Index stride = d.z_rows.cols();
  // The dense columns rounded up to a multiple of 4 where the padding allows (padding columns add exact zeros), swept
  // in whole chunks, then 8 and 4 at a time: 25 columns cost 28 multiply-adds per row and lane, not 32.
  const Index nd = std::min(stride, (d.n_dense() + 3) / 4 * 4);
  const auto n_groups = static_cast<Index>(d.groups.size());
  for (Index i0 = 0; i0 < n; i0 += kBlockRows) {
    const Index m = std::min(kBlockRows, n - i0);
    const double* z = d.z_rows.data() + i0 * stride;
    const Lane* a = lc.a.data() + i0;
    const Lane* b = lc.b.data() + i0;
    if (fill) {
      fill(i0, m, lc.block_a.data(), lc.block_b.data());
      a = lc.block_a.data();
      b = lc.block_b.data();
    }
    const double* s = kS ? lc.s.data() + i0 : nullptr;
    const bool more = i0 + kBlockRows + m <= n;  // the next block is whole: its rows may be prefetched
    Index j0 = 0;
    for (; j0 + kChunk <= nd; j0 += kChunk) sweep<kA, kS, kChunk>(z, stride, m, j0, a, b, s, more && j0 == 0, lc);
    if constexpr (kChunk > 8)
      for (; j0 + 8 <= nd; j0 += 8) sweep<kA, kS, 8>(z, stride, m, j0, a, b, s, more && j0 == 0, lc);
    for (; j0 + 4 <= nd; j0 += 4) sweep<kA, kS, 4>(z, stride, m, j0, a, b, s, more && j0 == 0, lc);
    for (; j0 < nd; ++j0) sweep<kA, kS, 1>(z, stride, m, j0, a, b, s, false, lc);
    for (Index t = 0; t < m; ++t) {
      const std::uint16_t* lev = d.level.row(i0 + t).data();
      for (Index g = 0; g < n_groups; ++g) {
        const auto row = static_cast<std::size_t>(d.groups[static_cast<std::size_t>(g)].offset + lev[g]);
        if constexpr (kA) lc.level_a[row] += a[t];
        if constexpr (kS) lc.level_s[row] += s[t];
        lc.level_b[row] += b[t];
      }
    }
  }
}

}  // namespace

void LaneCross::resize(const SharedDesign& d, bool inputs) {
  const auto n = static_cast<std::size_t>(d.n_samples());
  const auto stride = static_cast<std::size_t>(d.z_rows.cols());
  const auto levels = static_cast<std::size_t>(d.level_rows);
  a.assign(inputs ? n : 0, Lane{});
  b.assign(inputs ? n : 0, Lane{});
  block_a.assign(static_cast<std::size_t>(kBlockRows), Lane{});
  block_b.assign(static_cast<std::size_t>(kBlockRows), Lane{});
  dense_a.assign(stride, Lane{});
  dense_b.assign(stride, Lane{});
  level_a.assign(levels, Lane{});
  level_b.assign(levels, Lane{});
  s.assign(n, 0.0);
  dense_s.assign(stride, 0.0);
  level_s.assign(levels, 0.0);
}

void lane_cross(const SharedDesign& d, LaneCross& lc, bool with_a, bool with_s, const LaneFill& fill) {
  const Index n = d.n_samples();
  const Index stride = d.z_rows.cols();
  PWAS_ASSERT((fill || (static_cast<Index>(lc.a.size()) == n && static_cast<Index>(lc.b.size()) == n)) &&
              static_cast<Index>(lc.dense_a.size()) == stride && static_cast<Index>(lc.level_a.size()) == d.level_rows);
  if (with_a) {
    std::fill(lc.dense_a.begin(), lc.dense_a.end(), Lane{});
    std::fill(lc.level_a.begin(), lc.level_a.end(), Lane{});
  }
  if (with_s) {
    PWAS_ASSERT(static_cast<Index>(lc.s.size()) == n);
    std::fill(lc.dense_s.begin(), lc.dense_s.end(), 0.0);
    std::fill(lc.level_s.begin(), lc.level_s.end(), 0.0);
  }
  std::fill(lc.dense_b.begin(), lc.dense_b.end(), Lane{});
  std::fill(lc.level_b.begin(), lc.level_b.end(), Lane{});
  if (with_a) {
    if (with_s) pass<true, true>(d, lc, fill);
    else pass<true, false>(d, lc, fill);
  } else {
    if (with_s) pass<false, true>(d, lc, fill);
    else pass<false, false>(d, lc, fill);
  }
}

void unpack_cross(const SharedDesign& d, const LaneCross& lc, int lane, double* out_a, double* out_b) {
  for (Index k = 0; k < d.n_dense(); ++k) {
    const Index j = d.dense_cols[static_cast<std::size_t>(k)];
    if (out_a) out_a[j] = lc.dense_a[static_cast<std::size_t>(k)][lane];
    out_b[j] = lc.dense_b[static_cast<std::size_t>(k)][lane];
  }
  const double sum_a = out_a ? out_a[0] : 0.0, sum_b = out_b[0];  // dense column 0 is the intercept
  for (const DummyGroup& g : d.groups)
    for (std::size_t k = 0; k < g.cols.size(); ++k) {
      const Index j = g.cols[k];
      const auto row = static_cast<std::size_t>(g.offset + 1) + k;
      if (out_a) out_a[j] = lc.level_a[row][lane] - d.mean(j) * sum_a;
      out_b[j] = lc.level_b[row][lane] - d.mean(j) * sum_b;
    }
}

void unpack_shared(const SharedDesign& d, const LaneCross& lc, double* out) {
  for (Index k = 0; k < d.n_dense(); ++k) out[d.dense_cols[static_cast<std::size_t>(k)]] = lc.dense_s[static_cast<std::size_t>(k)];
  const double sum = out[0];
  for (const DummyGroup& g : d.groups)
    for (std::size_t k = 0; k < g.cols.size(); ++k) {
      const Index j = g.cols[k];
      out[j] = lc.level_s[static_cast<std::size_t>(g.offset + 1) + k] - d.mean(j) * sum;
    }
}

}  // namespace pwas::kernels
