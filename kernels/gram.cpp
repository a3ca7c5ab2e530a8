#include "kernels/gram.hpp"

#include <algorithm>
#include <utility>

// G += A'A for a row-major block A [m x p], lower triangle. Outer-product form: for each row a_k, a
// tile of R packets of output rows (i) by S output columns (j) does acc[r][s] += a_k[i-packet r] *
// broadcast(a_k[j0 + s]), so a tile reads R packets and S scalars per row for R*S fused multiply-adds
// and its accumulators are whole output columns: no horizontal sums. With R*S + R + 1 vector registers
// live, the tiles run at ~85% of this machine's single-core DGEMM (bench/logistic_bench.cpp), against
// ~50% for OpenBLAS dsyrk or Eigen's rankUpdate at p = 64, whose packing dominates such thin updates.

namespace pwas::kernels {
namespace {

using Packet = Eigen::internal::packet_traits<double>::type;
constexpr int kLanes = Eigen::internal::packet_traits<double>::size;

// Tile shape in packets x columns: R*S accumulators + R row packets + 1 broadcast must fit the vector
// register file (32 registers with AVX-512, 16 otherwise); the fastest fitting shapes measured on Zen 4.
#if defined(__AVX512F__)
constexpr int kTileR = 2;
constexpr int kTileS = 8;
#else
constexpr int kTileR = 3;
constexpr int kTileS = 4;
#endif

// GCC folds a loaded packet into every FMA that uses it as a memory operand, which doubles the load
// traffic of the tile and halves its speed; an empty asm forces the value to live in a register.
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define PWAS_PIN_REGISTER(x) __asm__("" : "+v"(x))
#else
#define PWAS_PIN_REGISTER(x) static_cast<void>(x)
#endif

// Software prefetch cursor: one cache line every other row step of the tiles, i.e. a few GB/s, well
// under the memory bandwidth, so the prefetches never stall the arithmetic.
struct Prefetch {
  const char* next = nullptr;
  const char* end = nullptr;
};
constexpr Eigen::Index kCacheLine = 64;

// g(i, j) += sum_{k < m} a(k, i) a(k, j) for i in [i0, i0 + R*kLanes) ∩ [j, p), j in [j0, j0 + S).
template <int R, int S>
[[gnu::noinline]] void tile(const double* a, Eigen::Index lda, Eigen::Index m, Eigen::Index p, Eigen::Index i0,
                            Eigen::Index j0, double* g, Eigen::Index ldg, Prefetch& pf) {
  Packet acc[R][S];
  for (int r = 0; r < R; ++r)
    for (int s = 0; s < S; ++s) acc[r][s] = Eigen::internal::pset1<Packet>(0.0);
  const double* row = a;
  for (Eigen::Index k = 0; k < m; ++k, row += lda) {
    if ((k & 1) == 0 && pf.next < pf.end) {
      __builtin_prefetch(pf.next, 0, 2);
      pf.next += kCacheLine;
    }
    Packet x[R];
    for (int r = 0; r < R; ++r) {
      x[r] = Eigen::internal::ploadu<Packet>(row + i0 + r * kLanes);
      PWAS_PIN_REGISTER(x[r]);
    }
    for (int s = 0; s < S; ++s) {
      Packet y = Eigen::internal::pset1<Packet>(row[j0 + s]);
      PWAS_PIN_REGISTER(y);
      for (int r = 0; r < R; ++r) acc[r][s] = Eigen::internal::pmadd(x[r], y, acc[r][s]);
    }
  }
  for (int s = 0; s < S; ++s) {
    const Eigen::Index j = j0 + s;
    for (int r = 0; r < R; ++r) {
      alignas(64) double lanes[kLanes];
      Eigen::internal::pstore(lanes, acc[r][s]);
      for (int l = 0; l < kLanes; ++l) {
        const Eigen::Index i = i0 + r * kLanes + l;
        if (i >= j && i < p) g[i + j * ldg] += lanes[l];
      }
    }
  }
}

template <int R, int... S>
void tile_s(std::integer_sequence<int, S...>, int s, const double* a, Eigen::Index lda, Eigen::Index m,
            Eigen::Index p, Eigen::Index i0, Eigen::Index j0, double* g, Eigen::Index ldg, Prefetch& pf) {
  ((s == S + 1 ? tile<R, S + 1>(a, lda, m, p, i0, j0, g, ldg, pf) : void()), ...);
}

template <int... R>
void tile_rs(std::integer_sequence<int, R...>, int r, int s, const double* a, Eigen::Index lda, Eigen::Index m,
             Eigen::Index p, Eigen::Index i0, Eigen::Index j0, double* g, Eigen::Index ldg, Prefetch& pf) {
  ((r == R + 1 ? tile_s<R + 1>(std::make_integer_sequence<int, kTileS>{}, s, a, lda, m, p, i0, j0, g, ldg, pf)
               : void()),
   ...);
}

// Rows ahead that rows_dot prefetches: the rows are scattered (kept rows only), so the hardware prefetcher
// does not see one stream; ~16 rows (8 KB at 64 columns) ahead covers the memory latency.
constexpr Eigen::Index kPrefetchRows = 16;

// Rows of NP packets: four rows at a time into four independent accumulators (an FMA chain per row would
// wait on its own latency), theta's packets reloaded from L1. Horizontal sums once per row.
template <int NP>
void rows_dot_n(const double* a, Eigen::Index stride, const Eigen::Index* rows, Eigen::Index m, const double* theta,
                double* eta) {
  using Eigen::internal::padd;
  using Eigen::internal::pmadd;
  using Eigen::internal::ploadu;
  using Eigen::internal::predux;
  const Packet zero = Eigen::internal::pset1<Packet>(0.0);
  constexpr int kLinesPerRow = (NP * kLanes * 8 + 63) / 64;
  Eigen::Index t = 0;
  for (; t + 4 <= m; t += 4) {
    if (t + kPrefetchRows + 4 <= m)
      for (int q = 0; q < 4; ++q) {
        const char* ahead = reinterpret_cast<const char*>(a + rows[t + kPrefetchRows + q] * stride);
        for (int l = 0; l < kLinesPerRow; ++l) __builtin_prefetch(ahead + 64 * l, 0, 3);
      }
    const double* r0 = a + rows[t] * stride;
    const double* r1 = a + rows[t + 1] * stride;
    const double* r2 = a + rows[t + 2] * stride;
    const double* r3 = a + rows[t + 3] * stride;
    Packet s0 = zero, s1 = zero, s2 = zero, s3 = zero;
    for (int j = 0; j < NP; ++j) {
      const Packet th = ploadu<Packet>(theta + j * kLanes);
      s0 = pmadd(ploadu<Packet>(r0 + j * kLanes), th, s0);
      s1 = pmadd(ploadu<Packet>(r1 + j * kLanes), th, s1);
      s2 = pmadd(ploadu<Packet>(r2 + j * kLanes), th, s2);
      s3 = pmadd(ploadu<Packet>(r3 + j * kLanes), th, s3);
    }
    eta[t] = predux(s0);
    eta[t + 1] = predux(s1);
    eta[t + 2] = predux(s2);
    eta[t + 3] = predux(s3);
  }
  for (; t < m; ++t) {
    const double* r0 = a + rows[t] * stride;
    Packet s0 = zero;
    for (int j = 0; j < NP; ++j) s0 = pmadd(ploadu<Packet>(r0 + j * kLanes), ploadu<Packet>(theta + j * kLanes), s0);
    eta[t] = predux(s0);
  }
}

// g += sum_t r_t a_t with g's NP packets held in registers for the whole block.
template <int NP>
void rows_axpy_n(const double* a, Eigen::Index stride, const Eigen::Index* rows, Eigen::Index m, const double* r,
                 double* g) {
  using Eigen::internal::pmadd;
  using Eigen::internal::ploadu;
  Packet acc[NP];
  for (int j = 0; j < NP; ++j) acc[j] = ploadu<Packet>(g + j * kLanes);
  for (Eigen::Index t = 0; t < m; ++t) {
    const double* row = a + rows[t] * stride;
    const Packet rt = Eigen::internal::pset1<Packet>(r[t]);
    for (int j = 0; j < NP; ++j) acc[j] = pmadd(ploadu<Packet>(row + j * kLanes), rt, acc[j]);
  }
  for (int j = 0; j < NP; ++j) Eigen::internal::pstoreu(g + j * kLanes, acc[j]);
}

// Register-held rows up to 16 packets (128 columns with AVX-512, 64 with AVX2); wider rows in 16-packet slices.
constexpr int kMaxRowPackets = 16;

template <int... N>
void rows_dot_dispatch(std::integer_sequence<int, N...>, int np, const double* a, Eigen::Index stride,
                       const Eigen::Index* rows, Eigen::Index m, const double* theta, double* eta) {
  ((np == N + 1 ? rows_dot_n<N + 1>(a, stride, rows, m, theta, eta) : void()), ...);
}

template <int... N>
void rows_axpy_dispatch(std::integer_sequence<int, N...>, int np, const double* a, Eigen::Index stride,
                        const Eigen::Index* rows, Eigen::Index m, const double* r, double* g) {
  ((np == N + 1 ? rows_axpy_n<N + 1>(a, stride, rows, m, r, g) : void()), ...);
}

}  // namespace

Eigen::Index gram_row_stride(Eigen::Index p) { return (p + kLanes - 1) / kLanes * kLanes; }

void rows_dot(const double* a, Eigen::Index stride, const Eigen::Index* rows, Eigen::Index m, const double* theta,
              double* eta) {
  eigen_assert(stride % kLanes == 0);
  const Eigen::Index np = stride / kLanes;
  if (np <= kMaxRowPackets) {
    rows_dot_dispatch(std::make_integer_sequence<int, kMaxRowPackets>{}, static_cast<int>(np), a, stride, rows, m,
                      theta, eta);
    return;
  }
  for (Eigen::Index t = 0; t < m; ++t) eta[t] = 0.0;
  constexpr int kMaxTmp = 256;
  double part[kMaxTmp];
  for (Eigen::Index j0 = 0; j0 < np; j0 += kMaxRowPackets) {
    const int nj = static_cast<int>(std::min<Eigen::Index>(kMaxRowPackets, np - j0));
    for (Eigen::Index t0 = 0; t0 < m; t0 += kMaxTmp) {
      const Eigen::Index mt = std::min<Eigen::Index>(kMaxTmp, m - t0);
      rows_dot_dispatch(std::make_integer_sequence<int, kMaxRowPackets>{}, nj, a + j0 * kLanes, stride, rows + t0,
                        mt, theta + j0 * kLanes, part);
      for (Eigen::Index t = 0; t < mt; ++t) eta[t0 + t] += part[t];
    }
  }
}

void rows_axpy(const double* a, Eigen::Index stride, const Eigen::Index* rows, Eigen::Index m, const double* r,
               double* g) {
  eigen_assert(stride % kLanes == 0);
  const Eigen::Index np = stride / kLanes;
  for (Eigen::Index j0 = 0; j0 < np; j0 += kMaxRowPackets) {
    const int nj = static_cast<int>(std::min<Eigen::Index>(kMaxRowPackets, np - j0));
    rows_axpy_dispatch(std::make_integer_sequence<int, kMaxRowPackets>{}, nj, a + j0 * kLanes, stride, rows, m, r,
                       g + j0 * kLanes);
  }
}

void add_gram_lower(Eigen::Ref<Eigen::MatrixXd> g, Eigen::Ref<const RowMatrixXd, 0, Eigen::OuterStride<>> a,
                    std::span<const double> prefetch) {
  const Eigen::Index p = a.cols();
  const Eigen::Index m = a.rows();
  eigen_assert(g.rows() == p && g.cols() == p);
  if (m == 0 || p == 0) return;
  if (a.outerStride() < gram_row_stride(p)) {
    for (Eigen::Index k = 0; k < m; ++k)
      for (Eigen::Index j = 0; j < p; ++j)
        for (Eigen::Index i = j; i < p; ++i) g(i, j) += a(k, i) * a(k, j);
    return;
  }
  // Every tile sweeps all rows of a chunk: chunks of 512 rows (256 KB at 64 columns) stay in L2.
  constexpr Eigen::Index kChunk = 512;
  constexpr Eigen::Index kTileRows = kTileR * kLanes;
  // One or two columns past a whole packet (e.g. 32 covariate columns + v) would cost the tiles a packet row of
  // mostly padding in every column tile (~40% more FMAs at p = 33): their rows of the lower triangle are sums of
  // rows instead, a(k, t) a(k, :) over k, one packet per 8 columns.
  const Eigen::Index tail = p > kLanes && p <= kMaxRowPackets * kLanes && p % kLanes <= 2 ? p % kLanes : 0;
  const Eigen::Index pt = p - tail;  // columns the tiles cover
  Prefetch pf{reinterpret_cast<const char*>(prefetch.data()),
              reinterpret_cast<const char*>(prefetch.data() + prefetch.size())};
  Eigen::Index ident[kChunk];
  double weight[kChunk];
  alignas(64) double sums[kMaxRowPackets * kLanes];
  if (tail > 0)
    for (Eigen::Index k = 0; k < kChunk; ++k) ident[k] = k;
  for (Eigen::Index k0 = 0; k0 < m; k0 += kChunk) {
    const Eigen::Index mk = std::min(kChunk, m - k0);
    const double* ak = a.data() + k0 * a.outerStride();
    for (Eigen::Index j0 = 0; j0 < pt; j0 += kTileS) {
      const int s = static_cast<int>(std::min<Eigen::Index>(kTileS, pt - j0));
      for (Eigen::Index i0 = j0 / kLanes * kLanes; i0 < pt; i0 += kTileRows) {
        const int r = static_cast<int>(std::min<Eigen::Index>(kTileR, (pt - i0 + kLanes - 1) / kLanes));
        tile_rs(std::make_integer_sequence<int, kTileR>{}, r, s, ak, a.outerStride(), mk, pt, i0, j0, g.data(),
                g.outerStride(), pf);
      }
    }
    for (Eigen::Index t = pt; t < p; ++t) {
      const Eigen::Index np = (t + kLanes) / kLanes;  // packets covering columns 0..t
      for (Eigen::Index k = 0; k < mk; ++k) weight[k] = ak[k * a.outerStride() + t];
      std::fill(sums, sums + np * kLanes, 0.0);
      for (Eigen::Index j0 = 0; j0 < np; j0 += kMaxRowPackets) {
        const int nj = static_cast<int>(std::min<Eigen::Index>(kMaxRowPackets, np - j0));
        rows_axpy_dispatch(std::make_integer_sequence<int, kMaxRowPackets>{}, nj, ak + j0 * kLanes, a.outerStride(),
                           ident, mk, weight, sums + j0 * kLanes);
      }
      for (Eigen::Index j = 0; j <= t; ++j) g(t, j) += sums[j];
    }
  }
}

void fill_upper_from_lower(Eigen::Ref<Eigen::MatrixXd> g) {
  for (Eigen::Index j = 1; j < g.cols(); ++j)
    for (Eigen::Index i = 0; i < j; ++i) g(i, j) = g(j, i);
}

}  // namespace pwas::kernels
