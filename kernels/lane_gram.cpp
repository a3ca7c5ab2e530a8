// Lane Grams over shared compressed rows (see lane_gram.hpp).
#include "kernels/lane_gram.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "kernels/assert.hpp"

namespace pwas::kernels {

using Eigen::Index;

namespace {

// One row's terms of a tile: sum[i][j] += (s x_{a0+i}) x_{c0+j}, kGramTileA products s x_a then a fused multiply-add per
// pair (x_c broadcast when shared).
template <int W, class T>
inline void tile_row(const T* xt, Lane s, Index a0, Index c0, Lane (&sum)[kGramTileA][W]) {
  Lane u[kGramTileA];
#pragma GCC unroll 8
  for (Index i = 0; i < kGramTileA; ++i) u[i] = s * xt[a0 + i];
#pragma GCC unroll 8
  for (Index j = 0; j < W; ++j) {
    const T xc = xt[c0 + j];
#pragma GCC unroll 8
    for (Index i = 0; i < kGramTileA; ++i) sum[i][j] += u[i] * xc;
  }
}

// Rows [a0, a0 + kGramTileA) x columns [c0, c0 + W) of lane_syrk: per row, kGramTileA products s x_a, then
// kGramTileA W fused multiply-adds with x_c (broadcast when shared), the sums in registers over the m rows.
template <int W, class T>
void gram_tile(const T* z, Index zstride, Index m, const Lane* w, Index a0, Index c0, Index n, Lane* acc) {
  Lane sum[kGramTileA][W];
#pragma GCC unroll 8
  for (Index i = 0; i < kGramTileA; ++i)
#pragma GCC unroll 8
    for (Index j = 0; j < W; ++j) sum[i][j] = acc[(a0 + i) * n + c0 + j];
  for (Index t = 0; t < m; ++t) tile_row<W>(z + t * zstride, w[t], a0, c0, sum);
#pragma GCC unroll 8
  for (Index i = 0; i < kGramTileA; ++i)
#pragma GCC unroll 8
    for (Index j = 0; j < W; ++j) acc[(a0 + i) * n + c0 + j] = sum[i][j];
}

template <class T>
using TileFn = void (*)(const T*, Index, Index, const Lane*, Index, Index, Index, Lane*);
template <class T, std::size_t... W>
constexpr std::array<TileFn<T>, sizeof...(W)> tile_table(std::index_sequence<W...>) {
  return {&gram_tile<W == 0 ? 1 : static_cast<int>(W), T>...};  // entry 0 is never called
}
// kRestTiles<T>[w]: the tile of width w (0 < w < kGramTileC).
template <class T>
constexpr auto kRestTiles = tile_table<T>(std::make_index_sequence<kGramTileC>());

// sums[j] += sum over the run's rows t of w_t z_t[j], j < W, in registers.
template <int W>
void run_sums(const double* z, Index zstride, const Index* run, Index len, const Lane* w, Lane* sums) {
  Lane acc[W];
#pragma GCC unroll 32
  for (Index j = 0; j < W; ++j) acc[j] = sums[j];
  for (Index t = 0; t < len; ++t) {
    const Index row = run[t];
    const double* zt = z + row * zstride;
    const Lane wt = w[row];
#pragma GCC unroll 32
    for (Index j = 0; j < W; ++j) acc[j] += wt * zt[j];
  }
#pragma GCC unroll 32
  for (Index j = 0; j < W; ++j) sums[j] = acc[j];
}

using RunFn = void (*)(const double*, Index, const Index*, Index, const Lane*, Lane*);
template <std::size_t... W>
constexpr std::array<RunFn, sizeof...(W)> run_table(std::index_sequence<W...>) {
  return {&run_sums<static_cast<int>(W)>...};
}
// kRunSums[w]: the run sums of w columns (0 < w <= kLaneAccumulators).
constexpr auto kRunSums = run_table(std::make_index_sequence<kLaneAccumulators + 1>());

// lane_prefix_gram's tile: rows [a0, a0 + kGramTileA) x columns [c0, c0 + W) of the running sums in registers.
template <int W>
void prefix_tile(const double* z, Index zstride, Index m, const Lane* s, const std::uint8_t* flags,
                 const PrefixFlush& fl, Index a0, Index c0, Index n, Lane* prefix) {
  Lane sum[kGramTileA][W];
#pragma GCC unroll 8
  for (Index i = 0; i < kGramTileA; ++i)
#pragma GCC unroll 8
    for (Index j = 0; j < W; ++j) sum[i][j] = prefix[(a0 + i) * n + c0 + j];
  Index e = 0;
  for (Index t = 0; t < m; ++t) {
    const std::uint8_t f = flags[t];
    if (f & kPrefixReset)
#pragma GCC unroll 8
      for (Index i = 0; i < kGramTileA; ++i)
#pragma GCC unroll 8
        for (Index j = 0; j < W; ++j) sum[i][j] = Lane{};
    tile_row<W>(z + t * zstride, s[t], a0, c0, sum);
    if (f & kPrefixFlush) {
      for (int k = 0; k < fl.n_out; ++k) {
        const Lane h = fl.coef[k][e];
        Lane* out = fl.out[k];
#pragma GCC unroll 8
        for (Index i = 0; i < kGramTileA; ++i)
#pragma GCC unroll 8
          for (Index j = 0; j < W; ++j) out[(a0 + i) * n + c0 + j] += h * sum[i][j];
      }
      ++e;
    }
  }
#pragma GCC unroll 8
  for (Index i = 0; i < kGramTileA; ++i)
#pragma GCC unroll 8
    for (Index j = 0; j < W; ++j) prefix[(a0 + i) * n + c0 + j] = sum[i][j];
}

using PrefixFn = void (*)(const double*, Index, Index, const Lane*, const std::uint8_t*, const PrefixFlush&, Index,
                          Index, Index, Lane*);
template <std::size_t... W>
constexpr std::array<PrefixFn, sizeof...(W)> prefix_table(std::index_sequence<W...>) {
  return {&prefix_tile<W == 0 ? 1 : static_cast<int>(W)>...};  // entry 0 is never called
}
constexpr auto kPrefixTiles = prefix_table(std::make_index_sequence<kGramTileC>());

}  // namespace

void lane_prefix_gram(const double* z, Index zstride, Index m, const Lane* s, const std::uint8_t* flags,
                      const PrefixFlush& fl, Index n, Lane* prefix) {
  PWAS_ASSERT(n % kGramTileA == 0 && zstride >= n && fl.n_out >= 1 && fl.n_out <= PrefixFlush::kMaxOut);
  for (Index a0 = 0; a0 < n; a0 += kGramTileA) {
    Index c0 = 0;
    for (; c0 + kGramTileC <= a0; c0 += kGramTileC) prefix_tile<kGramTileC>(z, zstride, m, s, flags, fl, a0, c0, n, prefix);
    if (a0 > c0) kPrefixTiles[static_cast<std::size_t>(a0 - c0)](z, zstride, m, s, flags, fl, a0, c0, n, prefix);
    prefix_tile<kGramTileA>(z, zstride, m, s, flags, fl, a0, a0, n, prefix);
  }
}

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
  // run_rows: a block's sorted rows, then the rows 0, 1, ... in order (the identity run of dense_v's sums).
  if (g.run_rows.size() != static_cast<std::size_t>(2 * lane_detail::kBlockRows)) {
    g.run_rows.resize(2 * lane_detail::kBlockRows);
    for (Index t = 0; t < lane_detail::kBlockRows; ++t) g.run_rows[static_cast<std::size_t>(lane_detail::kBlockRows + t)] = t;
  }
  std::size_t max_codes = 0;
  for (const DummyGroup& grp : d.groups) max_codes = std::max(max_codes, grp.cols.size() + 1);
  if (g.run_start.size() < max_codes + 1) g.run_start.resize(max_codes + 1);
}

void lane_gram_rows(const SharedDesign& d, const lane_detail::LaneRows& rows, const Lane* v, const Lane* w, Index i0,
                    Index m, LaneGram& g, bool with_dense) {
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
  if (with_dense) lane_syrk(zblock, zstride, m, w, g.nd_padded, g.dense.data());
  // v's row: sum w v z_a (kLaneAccumulators columns at a time in registers) and sum w v^2.
  for (Index a0 = 0; a0 < nd; a0 += kLaneAccumulators)
    kRunSums[static_cast<std::size_t>(std::min<Index>(kLaneAccumulators, nd - a0))](
        zblock + a0, zstride, g.run_rows.data() + lane_detail::kBlockRows, m, g.wv.data(), g.dense_v.data() + a0);
  for (Index t = 0; t < m; ++t) g.vv += g.wv[static_cast<std::size_t>(t)] * v[t];
  // Level pairs, row by row; level sums per group: the block's rows counting-sorted by code (each group's skip left
  // out), then each code's run summed in registers, kLaneAccumulators columns at a time (a row-by-row scatter into
  // the sums is bound by their loads and stores).
  const auto n_groups = static_cast<Index>(d.groups.size());
  const Index ls = nd + 1;
  const Index lr = d.level_rows;
  for (Index t = 0; t < m; ++t) {
    const std::uint16_t* lev = rows.level->row(i0 + t).data();
    const Lane wt = w[t];
    for (Index k = 1; k < n_groups; ++k) {
      Lane* cross = g.level_cross.data() + (d.groups[static_cast<std::size_t>(k)].offset + lev[k]) * lr;
      for (Index j = 0; j < k; ++j) cross[d.groups[static_cast<std::size_t>(j)].offset + lev[j]] += wt;
    }
  }
  const auto level_stride = rows.level->cols();
  const std::uint16_t* codes = rows.level->data() + i0 * level_stride;
  for (Index k = 0; k < n_groups; ++k) {
    const DummyGroup& grp = d.groups[static_cast<std::size_t>(k)];
    const auto n_codes = static_cast<Index>(grp.cols.size()) + 1;
    Index* start = g.run_start.data();
    std::fill(start, start + n_codes + 1, Index{0});
    for (Index t = 0; t < m; ++t) ++start[codes[t * level_stride + k] + 1];
    for (Index c = 0; c < n_codes; ++c) start[c + 1] += start[c];
    for (Index t = 0; t < m; ++t) {
      const Index c = codes[t * level_stride + k];
      g.run_rows[static_cast<std::size_t>(start[c]++)] = t;
    }
    // start[c] is now the end of code c's run.
    for (Index c = 0, first = 0; c < n_codes; first = start[c], ++c) {
      if (c == grp.skip || start[c] == first) continue;
      const Index* run = g.run_rows.data() + first;
      const Index len = start[c] - first;
      Lane* sums = g.level_sums.data() + (grp.offset + c) * ls;
      for (Index a0 = 0; a0 < nd; a0 += kLaneAccumulators) {
        const Index na = std::min<Index>(kLaneAccumulators, nd - a0);
        kRunSums[static_cast<std::size_t>(na)](zblock + a0, zstride, run, len, w, sums + a0);
      }
      Lane sv{};
      for (Index t = 0; t < len; ++t) sv += g.wv[static_cast<std::size_t>(run[t])];
      sums[nd] += sv;
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
