#pragma once
// Counter-based random streams (Random123 Philox4x64-10) keyed by (seed, ids...), so that a draw depends only
// on what it is for (protein, replicate, participant) and never on which thread or rank makes it.
// Uniforms, normals and bounded integers are derived from the raw bits here rather than with <random>'s
// distributions, whose algorithms differ between standard libraries (STYLE.md, "MPI behind a small interface").
#include <Random123/philox.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <utility>

#include "kernels/assert.hpp"

namespace pwas::kernels {

namespace detail {

/// Marsaglia–Tsang ziggurat tables for the standard normal, 256 strips of equal area, in Doornik's (2005)
/// layout: x[0] = V / f(R) is the width of the base strip, x[1] = R, x[i + 1] solves
/// x[i] * (f(x[i + 1]) - f(x[i])) = V with f(x) = exp(-x^2 / 2), x[256] = 0; ratio[i] = x[i + 1] / x[i].
struct ZigguratTables {
  static constexpr int kStrips = 256;
  static constexpr double kR = 3.6541528853610088;  // start of the tail
  static constexpr double kV = 4.92867323399e-3;    // area of each strip (unnormalised density)
  std::array<double, kStrips + 1> x{};
  std::array<double, kStrips> ratio{};

  ZigguratTables() noexcept {
    double f = std::exp(-0.5 * kR * kR);
    x[0] = kV / f;
    x[1] = kR;
    for (int i = 2; i < kStrips; ++i) {
      x[i] = std::sqrt(-2.0 * std::log(kV / x[i - 1] + f));
      f = std::exp(-0.5 * x[i] * x[i]);
    }
    x[kStrips] = 0.0;
    for (int i = 0; i < kStrips; ++i) ratio[i] = x[i + 1] / x[i];
  }
};

/// The ziggurat tables, built once per process (thread-safe function-local static).
inline const ZigguratTables& ziggurat_tables() noexcept {
  static const ZigguratTables tables;
  return tables;
}

}  // namespace detail

/// A reproducible stream of random numbers: Philox4x64-10 with key (seed, id0) and counter (block, id1, id2, 0),
/// so streams with different (seed, id0, id1, id2) never share a block and the same key replays the same numbers.
class RandomStream {
 public:
  /// The stream keyed by `seed` and up to three ids (e.g. protein, replicate); block counter starts at 0.
  explicit RandomStream(std::uint64_t seed, std::uint64_t id0 = 0, std::uint64_t id1 = 0,
                        std::uint64_t id2 = 0) noexcept
      : key_{{seed, id0}}, ctr_{{0, id1, id2, 0}} {}

  /// The next 64 uniformly distributed random bits.
  std::uint64_t bits() noexcept {
    if (pos_ == 4) refill();
    return block_.v[pos_++];
  }

  /// A uniform double on [0, 1) with 53 random bits: (bits >> 11) * 2^-53.
  double uniform() noexcept { return static_cast<double>(bits() >> 11) * 0x1.0p-53; }

  /// A uniform double on (0, 1], safe to take the logarithm of: ((bits >> 11) + 1) * 2^-53.
  double uniform_pos() noexcept { return static_cast<double>((bits() >> 11) + 1) * 0x1.0p-53; }

  /// True with probability p (p <= 0 never, p >= 1 always).
  bool bernoulli(double p) noexcept { return uniform() < p; }

  /// A standard normal draw by the 256-strip ziggurat (Marsaglia & Tsang 2000; Doornik 2005): one 64-bit word
  /// gives the strip (low 8 bits) and a signed uniform (high 53 bits); about 99% of draws need nothing more.
  double normal() noexcept {
    const detail::ZigguratTables& z = detail::ziggurat_tables();
    for (;;) {
      const std::uint64_t b = bits();
      const unsigned i = static_cast<unsigned>(b & 0xFFu);
      const double u = 2.0 * (static_cast<double>(b >> 11) * 0x1.0p-53) - 1.0;  // [-1, 1)
      if (std::fabs(u) < z.ratio[i]) return u * z.x[i];
      if (i == 0) return normal_tail(u < 0.0);
      // Wedge: accept x when a uniform height between f(x[i]) and f(x[i+1]) falls under f(x); both heights are
      // expressed relative to f(x) so only differences of squares enter exp().
      const double x = u * z.x[i];
      const double f0 = std::exp(-0.5 * (z.x[i] * z.x[i] - x * x));
      const double f1 = std::exp(-0.5 * (z.x[i + 1] * z.x[i + 1] - x * x));
      if (f1 + uniform() * (f0 - f1) < 1.0) return x;
    }
  }

  /// A normal draw with the given mean and standard deviation.
  double normal(double mean, double sd) noexcept { return mean + sd * normal(); }

  /// A uniform integer on [0, n), n > 0, without modulo bias (Lemire 2019: multiply, reject the short band).
  std::uint64_t below(std::uint64_t n) {
    PWAS_ASSERT(n > 0);
    unsigned __int128 m = static_cast<unsigned __int128>(bits()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n: the draws that would over-represent some values
      while (low < threshold) {
        m = static_cast<unsigned __int128>(bits()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  /// Puts [first, last) in uniformly random order (Fisher–Yates with below()).
  template <class RandomIt>
  void shuffle(RandomIt first, RandomIt last) {
    const auto n = static_cast<std::uint64_t>(std::distance(first, last));
    for (std::uint64_t i = n; i > 1; --i) {
      const std::uint64_t j = below(i);
      using std::swap;
      swap(first[static_cast<std::ptrdiff_t>(i - 1)], first[static_cast<std::ptrdiff_t>(j)]);
    }
  }

  /// Number of Philox blocks (4 words each) generated so far.
  std::uint64_t blocks() const noexcept { return ctr_.v[0]; }

 private:
  using Philox = r123::Philox4x64;

  void refill() noexcept {
    block_ = Philox()(ctr_, key_);
    ++ctr_.v[0];
    pos_ = 0;
  }

  // Marsaglia's (1964) tail method beyond R: x = -log(U1)/R, y = -log(U2), accept when 2y >= x^2, return R + x.
  double normal_tail(bool negative) noexcept {
    constexpr double r = detail::ZigguratTables::kR;
    double x = 0.0;
    double y = 0.0;
    do {
      x = -std::log(uniform_pos()) / r;
      y = -std::log(uniform_pos());
    } while (2.0 * y < x * x);
    return negative ? -(r + x) : r + x;
  }

  Philox::key_type key_;
  Philox::ctr_type ctr_;
  Philox::ctr_type block_{};
  int pos_ = 4;
};

}  // namespace pwas::kernels
