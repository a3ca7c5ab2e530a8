// Lane Grams over shared compressed rows (see lane_gram.hpp).
#include "kernels/lane_gram.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "kernels/assert.hpp"

namespace pwas::kernels {

using Eigen::Index;

namespace {

// Rows [a0, a0 + kGramTileA) x columns [c0, c0 + W) of lane_syrk: per row, kGramTileA products s x_a, then
// kGramTileA W fused multiply-adds with x_c (broadcast when shared), the sums in registers over the m rows.
template <int W, class T>
void gram_tile(const T* z, Index zstride, Index m, const Lane* w, Index a0, Index c0, Index n, Lane* acc) {
  Lane sum[kGramTileA][W];
#pragma GCC unroll 8
  for (Index i = 0; i < kGramTileA; ++i)
#pragma GCC unroll 8
    for (Index j = 0; j < W; ++j) sum[i][j] = acc[(a0 + i) * n + c0 + j];
  for (Index t = 0; t < m; ++t) {
    const T* zt = z + t * zstride;
    const Lane wt = w[t];
    Lane u[kGramTileA];
#pragma GCC unroll 8
    for (Index i = 0; i < kGramTileA; ++i) u[i] = wt * zt[a0 + i];
#pragma GCC unroll 8
    for (Index j = 0; j < W; ++j) {
      const T zc = zt[c0 + j];
#pragma GCC unroll 8
      for (Index i = 0; i < kGramTileA; ++i) sum[i][j] += u[i] * zc;
    }
  }
#pragma GCC unroll 8
  for (Index i = 0; i < kGramTileA; ++i)
#pragma GCC unroll 8
    for (Index j = 0; j < W; ++j) acc[(a0 + i) * n + c0 + j] = sum[i][j];
}

template <class T>
using TileFn = void (*)(const T*, Index, Index, const Lane*, Index, Index, Index, Lane*);
template <class T, std::size_t... W>
constexpr std::array<TileFn<T>, sizeof...(W)> tile_table(std::index_sequence<W...>) {
  return {&gram_tile<static_cast<int>(W), T>...};
}
// kRestTiles<T>[w]: the tile of width w (0 < w < kGramTileC).
template <class T>
constexpr auto kRestTiles = tile_table<T>(std::make_index_sequence<kGramTileC>());

}  // namespace

template <class T>
void lane_syrk(const T* x, Index stride, Index m, const Lane* s, Index n, Lane* acc) {
  // Row strips of kGramTileA: tiles of kGramTileC columns left of the diagonal block, one of the remaining width,
  // then the kGramTileA-square diagonal block.
  PWAS_ASSERT(n % kGramTileA == 0 && stride >= n);
  for (Index a0 = 0; a0 < n; a0 += kGramTileA) {
    Index c0 = 0;
    for (; c0 + kGramTileC <= a0; c0 += kGramTileC) gram_tile<kGramTileC>(x, stride, m, s, a0, c0, n, acc);
    if (a0 > c0) kRestTiles<T>[static_cast<std::size_t>(a0 - c0)](x, stride, m, s, a0, c0, n, acc);
    gram_tile<kGramTileA>(x, stride, m, s, a0, a0, n, acc);
  }
}

template void lane_syrk<double>(const double*, Index, Index, const Lane*, Index, Lane*);
template void lane_syrk<Lane>(const Lane*, Index, Index, const Lane*, Index, Lane*);

void lane_gram_reset(const SharedDesign& d, LaneGram& g) {
  const Index nd = d.n_dense();
  // Padded to whole row strips: the z stride (v's column and whole lanes past it) covers that, and its padding is
  // zero (SharedDesign::z_rows).
  const Index ndp = (nd + kGramTileA - 1) / kGramTileA * kGramTileA;
  const auto lr = static_cast<std::size_t>(d.level_rows);
  g.nd = nd;
  g.nd_padded = ndp;
  g.dense.assign(static_cast<std::size_t>(ndp * ndp), Lane{});
  g.dense_v.assign(static_cast<std::size_t>(nd), Lane{});
  g.vv = Lane{};
  g.level_sums.assign(lr * static_cast<std::size_t>(nd + 1), Lane{});
  g.level_cross.assign(lr * lr, Lane{});
  if (g.wv.size() != static_cast<std::size_t>(lane_detail::kBlockRows)) g.wv.resize(lane_detail::kBlockRows);
}

void lane_gram_rows(const SharedDesign& d, const lane_detail::LaneRows& rows, const Lane* v, const Lane* w, Index i0,
                    Index m, LaneGram& g) {
  const Index nd = g.nd;
  const Index zstride = rows.z->cols();
  PWAS_ASSERT(m <= lane_detail::kBlockRows && nd == d.n_dense() && zstride >= g.nd_padded);
  const double* zblock = rows.z->data() + i0 * zstride;
  for (Index t = 0; t < m; ++t) g.wv[static_cast<std::size_t>(t)] = w[t] * v[t];
  // The next block's rows into L2 meanwhile (the first strip would otherwise wait for each row from memory).
  {
    const Index next_rows = std::min(m, rows.z->rows() - (i0 + m));
    const char* next = reinterpret_cast<const char*>(zblock + m * zstride);
    const auto bytes = static_cast<std::size_t>(std::max<Index>(next_rows, 0) * zstride) * sizeof(double);
    for (std::size_t k = 0; k < bytes; k += 64) __builtin_prefetch(next + k, 0, 2);
  }
  lane_syrk(zblock, zstride, m, w, g.nd_padded, g.dense.data());
  // v's row: sum w v z_a (in register chunks) and sum w v^2.
  constexpr Index kChunk = kLaneAccumulators;
  for (Index a0 = 0; a0 < nd; a0 += kChunk) {
    const Index na = std::min(kChunk, nd - a0);
    Lane sum[kChunk];
    for (Index a = 0; a < kChunk; ++a) sum[a] = a < na ? g.dense_v[static_cast<std::size_t>(a0 + a)] : Lane{};
    for (Index t = 0; t < m; ++t) {
      const double* z = zblock + t * zstride + a0;
      const Lane wvt = g.wv[static_cast<std::size_t>(t)];
      for (Index a = 0; a < kChunk; ++a) sum[a] += wvt * (a < na ? z[a] : 0.0);
    }
    for (Index a = 0; a < na; ++a) g.dense_v[static_cast<std::size_t>(a0 + a)] = sum[a];
  }
  for (Index t = 0; t < m; ++t) g.vv += g.wv[static_cast<std::size_t>(t)] * v[t];
  // Level sums (every code but each group's skip) and level pairs, row by row.
  const auto n_groups = static_cast<Index>(d.groups.size());
  const Index ls = nd + 1;
  const Index lr = d.level_rows;
  for (Index t = 0; t < m; ++t) {
    const std::uint16_t* lev = rows.level->row(i0 + t).data();
    const double* z = zblock + t * zstride;
    const Lane wt = w[t];
    const Lane wvt = g.wv[static_cast<std::size_t>(t)];
    for (Index k = 0; k < n_groups; ++k) {
      const DummyGroup& grp = d.groups[static_cast<std::size_t>(k)];
      const Index row = grp.offset + lev[k];
      if (k > 0) {
        Lane* cross = g.level_cross.data() + row * lr;
        for (Index j = 0; j < k; ++j) cross[d.groups[static_cast<std::size_t>(j)].offset + lev[j]] += wt;
      }
      if (lev[k] == grp.skip) continue;
      Lane* sums = g.level_sums.data() + row * ls;
      for (Index a = 0; a < nd; ++a) sums[a] += wt * z[a];
      sums[nd] += wvt;
    }
  }
}

void lane_gram_add_to(const SharedDesign& d, const LaneGram& g, int b, double scale, LevelGram& scratch,
                      Eigen::Ref<Eigen::MatrixXd> out) {
  const Index nd = g.nd;
  const Index nz = nd + 1;
  const Index lr = d.level_rows;
  PWAS_ASSERT(out.rows() == d.n_cov() + 1 && out.cols() == d.n_cov() + 1);
  scratch.dense.resize(nz, nz);
  for (Index a = 0; a < nd; ++a)
    for (Index c = 0; c <= a; ++c) scratch.dense(a, c) = g.dense[static_cast<std::size_t>(a * g.nd_padded + c)][b];
  for (Index c = 0; c < nd; ++c) scratch.dense(nd, c) = g.dense_v[static_cast<std::size_t>(c)][b];
  scratch.dense(nd, nd) = g.vv[b];
  scratch.level_sums.setZero(lr, nz);
  for (Index r = 0; r < lr; ++r)
    for (Index a = 0; a < nz; ++a) scratch.level_sums(r, a) = g.level_sums[static_cast<std::size_t>(r * nz + a)][b];
  scratch.level_cross.resize(lr, lr);
  for (Index r = 0; r < lr; ++r)
    for (Index c = 0; c < lr; ++c) scratch.level_cross(r, c) = g.level_cross[static_cast<std::size_t>(r * lr + c)][b];
  complete_level_sums(d, nz, scratch.dense, scratch.level_sums);
  auto col_of = [&](Index a) { return a < nd ? d.dense_cols[static_cast<std::size_t>(a)] : d.n_cov(); };
  auto put = [&](Index i, Index j, double x) {
    if (i >= j) out(i, j) += scale * x;
    else out(j, i) += scale * x;
  };
  expand_level_gram(d, nz, scratch.dense, scratch.level_sums, scratch.level_cross, col_of, put);
}

}  // namespace pwas::kernels
