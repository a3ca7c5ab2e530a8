#pragma once
// Lists of the rows a fit keeps or drops, from its 0/1 keep flags.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace pwas::kernels {

/// Bit k of the result: (flags[k] != 0) == want, for the 64 flags at `flags`. Eight at a time: a byte's top bit is
/// set where it is nonzero, moved to bit 0, and the multiply gathers bit 0 of each byte into the word's top byte.
inline std::uint64_t flag_mask(const std::uint8_t* flags, bool want) {
  constexpr std::uint64_t kLow = 0x0101010101010101ULL, kSeven = 0x7F7F7F7F7F7F7F7FULL,
                          kGather = 0x0102040810204080ULL;
  std::uint64_t mask = 0;
  for (int w = 0; w < 8; ++w) {
    std::uint64_t x;
    std::memcpy(&x, flags + 8 * w, sizeof x);
    const std::uint64_t nonzero = ((((x & kSeven) + kSeven) | x) >> 7) & kLow;
    const std::uint64_t bits = want ? nonzero : nonzero ^ kLow;
    mask |= ((bits * kGather) >> 56) << (8 * w);
  }
  return mask;
}

/// Writes the indices i with (flags[i] != 0) == want to `out` in ascending order; returns how many.
/// 64 flags at a time as a bit mask, then one step per listed index: where the listed rows are few and scattered (a
/// protein's missing rows) that is far fewer steps and mispredicted branches than one per row.
template <class Index>
std::size_t list_rows(std::span<const std::uint8_t> flags, bool want, Index* out) {
  const std::size_t n = flags.size();
  std::size_t m = 0, i = 0;
  for (; i + 64 <= n; i += 64) {
    std::uint64_t mask = flag_mask(flags.data() + i, want);
    while (mask != 0) {
      out[m++] = static_cast<Index>(i + static_cast<std::size_t>(__builtin_ctzll(mask)));
      mask &= mask - 1;
    }
  }
  for (; i < n; ++i) {
    out[m] = static_cast<Index>(i);
    m += static_cast<std::size_t>((flags[i] != 0) == want);
  }
  return m;
}

}  // namespace pwas::kernels
