#include "kernels/cross_product.hpp"

#include <algorithm>

#include "kernels/assert.hpp"

// Micro-kernel: a tile of kRowsPerPass replicate rows x 16 protein columns keeps its accumulators in vector
// registers over a depth chunk: per depth step it loads the 16 B values (16 / lanes packets) once and
// broadcasts each A value, one FMA per accumulator packet. With AVX-512 (8 lanes) 8 rows x 2 packets = 16
// accumulators + 2 B packets + 1 broadcast fit the 32 registers; with AVX2 (4 lanes, 16 registers) 2 rows x
// 4 packets. Accumulators are loaded from C at the start of a chunk and stored at its end, so chunking
// never changes the order of the FMA chain of an element.

namespace pwas::kernels {
namespace {

using Eigen::Index;
using Packet = Eigen::internal::packet_traits<double>::type;
constexpr int kLanes = Eigen::internal::packet_traits<double>::size;
constexpr int kPackets = static_cast<int>(kCrossCols) / kLanes;
#if defined(__AVX512F__)
constexpr int kRowsPerPass = 8;
#else
constexpr int kRowsPerPass = 2;
#endif
static_assert(kCrossCols % kLanes == 0 && kCrossRows % kRowsPerPass == 0);

// Depth chunk: an A panel chunk (kc x 8) and a B panel chunk (kc x 16) stay in L1 across the row passes.
constexpr Index kDepthChunk = 256;
// B panels per cache block: 8 panels x 256 depth x 16 x 8 B = 256 KB, reused from L2 by every A panel.
constexpr Index kPanelBlock = 8;

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define PWAS_PIN_REGISTER(x) __asm__("" : "+v"(x))
#else
#define PWAS_PIN_REGISTER(x) static_cast<void>(x)
#endif

// c[r][j] (r < kRowsPerPass, j < 16, row stride ldc) += sum_{p < kc} a[p * 8 + r] * b[p * 16 + j].
[[gnu::always_inline]] inline void micro(const double* a, const double* b, Index kc, double* c, Index ldc) {
  Packet acc[kRowsPerPass][kPackets];
  for (int r = 0; r < kRowsPerPass; ++r)
    for (int s = 0; s < kPackets; ++s) acc[r][s] = Eigen::internal::ploadu<Packet>(c + r * ldc + s * kLanes);
  for (Index p = 0; p < kc; ++p, a += kCrossRows, b += kCrossCols) {
    Packet x[kPackets];
    for (int s = 0; s < kPackets; ++s) {
      x[s] = Eigen::internal::ploadu<Packet>(b + s * kLanes);
      PWAS_PIN_REGISTER(x[s]);
    }
    for (int r = 0; r < kRowsPerPass; ++r) {
      const Packet ar = Eigen::internal::pset1<Packet>(a[r]);
      for (int s = 0; s < kPackets; ++s) acc[r][s] = Eigen::internal::pmadd(ar, x[s], acc[r][s]);
    }
  }
  for (int r = 0; r < kRowsPerPass; ++r)
    for (int s = 0; s < kPackets; ++s) Eigen::internal::pstoreu(c + r * ldc + s * kLanes, acc[r][s]);
}

}  // namespace

void PackedPanels::resize(Index depth, Index n_panels, Index panel_width) {
  n = depth;
  panels = n_panels;
  width = panel_width;
  data.assign(static_cast<std::size_t>(depth * n_panels * panel_width), 0.0);
}

void cross_product_add(const PackedPanels& a, const PackedPanels& b, double* c, Index ldc) {
  PWAS_ASSERT(a.width == kCrossRows && b.width == kCrossCols && a.n == b.n && ldc >= b.panels * kCrossCols);
  const Index n = a.n;
  for (Index p0 = 0; p0 < n; p0 += kDepthChunk) {
    const Index kc = std::min(kDepthChunk, n - p0);
    for (Index u0 = 0; u0 < b.panels; u0 += kPanelBlock) {
      const Index u1 = std::min(b.panels, u0 + kPanelBlock);
      for (Index t = 0; t < a.panels; ++t) {
        const double* ap = a.panel(t) + p0 * kCrossRows;
        for (Index u = u0; u < u1; ++u) {
          const double* bp = b.panel(u) + p0 * kCrossCols;
          double* cp = c + t * kCrossRows * ldc + u * kCrossCols;
          for (int r0 = 0; r0 < kCrossRows; r0 += kRowsPerPass) micro(ap + r0, bp, kc, cp + r0 * ldc, ldc);
        }
      }
    }
  }
}

}  // namespace pwas::kernels
