#pragma once
// Lanes: kLanes fits run side by side, one per element of a kLanes-wide vector. Every operation on a Lane is
// elementwise, so a fit's arithmetic (and its result, to the bit) does not depend on which other fits share the
// vector or on which lane it has.
namespace pwas::kernels {

/// The target's vector registers: doubles per register and how many there are.
#if defined(__AVX512F__)
inline constexpr int kVectorDoubles = 8;
inline constexpr int kVectorRegisters = 32;
inline constexpr const char* kVectorIsa = "AVX-512";
#elif defined(__AVX__)
inline constexpr int kVectorDoubles = 4;
inline constexpr int kVectorRegisters = 16;
inline constexpr const char* kVectorIsa = "AVX2";
#else
inline constexpr int kVectorDoubles = 2;
inline constexpr int kVectorRegisters = 16;
inline constexpr const char* kVectorIsa = "SSE2";
#endif

/// Fits per batch: one vector register's worth of doubles (8 with AVX-512, 4 with AVX2). A Lane wider than the
/// registers has no machine mode in GCC: every Lane variable then lives in memory and each scalar * Lane builds its
/// broadcast through the stack. An x86-64-v3 build with 8 lanes ran the Cox scan 4.4x and the logistic one 2.6x slower than with 4.
inline constexpr int kLanes = kVectorDoubles;
/// kLanes doubles, one per fit (GCC/Clang vector extension: one vector register).
using Lane = double __attribute__((vector_size(kLanes * sizeof(double))));
/// Lane accumulators a loop may keep in registers: three quarters of the register file (the rest for operands).
inline constexpr int kLaneAccumulators = kVectorRegisters * 3 / 4;

/// Lane-sized vector of shuffle indices.
using LaneIndex = long long __attribute__((vector_size(kLanes * sizeof(long long))));

/// Transposes the kLanes x kLanes block r[0..kLanes) in registers: lane j of r[i] swaps with lane i of r[j]. Stage s
/// swaps the s x s off-diagonal sub-blocks of each 2s x 2s block (log2 kLanes stages of two-input shuffles).
inline void transpose_lanes(Lane* r) {
  for (int s = 1; s < kLanes; s *= 2) {
    LaneIndex lo, hi;
    for (int j = 0; j < kLanes; ++j) {
      lo[j] = (j & s) == 0 ? j : kLanes + j - s;
      hi[j] = (j & s) == 0 ? j + s : kLanes + j;
    }
    for (int i = 0; i < kLanes; ++i)
      if ((i & s) == 0) {
        const Lane a = r[i], b = r[i + s];
        r[i] = __builtin_shuffle(a, b, lo);
        r[i + s] = __builtin_shuffle(a, b, hi);
      }
  }
}

}  // namespace pwas::kernels
