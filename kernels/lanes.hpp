#pragma once
// Lanes: kLanes fits run side by side, one per element of a kLanes-wide vector. Every operation on a Lane is
// elementwise, so a fit's arithmetic (and its result, to the bit) does not depend on which other fits share the
// vector or on which lane it has.
namespace pwas::kernels {

inline constexpr int kLanes = 8;
/// kLanes doubles, one per fit (GCC/Clang vector extension: one AVX-512 register, or two AVX2 ones, etc.).
using Lane = double __attribute__((vector_size(kLanes * sizeof(double))));

}  // namespace pwas::kernels
