#include "kernels/rank_normal.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>

#include "kernels/assert.hpp"
#include "kernels/pvalues.hpp"

namespace pwas::kernels {

namespace {

constexpr int kMaxDigitBits = 11;  // 2048 counters per digit: the histograms stay in L1

// Unsigned integers in the order of the values (NaN excluded): flip all bits of negatives, the sign bit of
// the others. -0.0 is mapped to +0.0 first so that the two tie, as in R.
std::uint64_t order_bits(double v) {
  constexpr std::uint64_t kSign = std::uint64_t{1} << 63;
  const auto u = std::bit_cast<std::uint64_t>(v + 0.0);
  return (u & kSign) != 0 ? ~u : u | kSign;
}
std::uint32_t order_bits(float v) {
  constexpr std::uint32_t kSign = std::uint32_t{1} << 31;
  const auto u = std::bit_cast<std::uint32_t>(v + 0.0f);
  return (u & kSign) != 0 ? ~u : u | kSign;
}

// Stable LSD radix sort of `a` by key(a[t]) over only the bits in which the keys differ (`varying`), in
// digits of at most 11 bits, all histograms from one pass. Values read from float32 differ in at most 32
// bits and sort in 3 passes over 8-byte elements; std::sort of (value, index) pairs, mostly mispredicted
// branches, took ~3 ms at n = 42,000.
constexpr int kMaxDigits = (64 + kMaxDigitBits - 1) / kMaxDigitBits;
using DigitCounts = std::array<std::array<std::uint32_t, std::size_t{1} << kMaxDigitBits>, kMaxDigits>;

// Grows v to at least n entries, never shrinking it (a workspace buffer sized once; shrinking and growing again
// would zero-fill, or reallocate and copy, on every call).
template <class T>
T* at_least(std::vector<T>& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

// The LSD passes of radix_sort over a[0, n), digits of `bits` bits from bit `lo`, given every digit's histogram in
// `count` (consumed); returns a or tmp, whichever holds the sorted entries. Each pass places the first half of the
// entries forward from their buckets' starts and the second half backward from their buckets' ends: two independent
// chains of bucket cursors instead of one, and still stable (the back half, walked in reverse, fills each bucket's
// tail in reverse, so its entries keep their order after the front half's).
template <class T, class Key>
T* radix_passes(T* a, T* tmp, std::size_t n, int lo, int bits, int n_digits, DigitCounts& count, Key key) {
  const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
  const std::size_t buckets = std::size_t{1} << bits;
  std::array<std::uint32_t, std::size_t{1} << kMaxDigitBits> end;
  for (int d = 0; d < n_digits; ++d) {
    auto& start = count[d];
    const int shift = lo + d * bits;
    if (start[(key(a[0]) >> shift) & mask] == n) continue;  // one bucket: nothing to do
    std::uint32_t sum = 0;
    for (std::size_t b = 0; b < buckets; ++b) {
      const std::uint32_t cb = start[b];
      start[b] = sum;
      sum += cb;
      end[b] = sum;
    }
    const std::size_t half = n / 2;
    for (std::size_t k = 0; k < half; ++k) {
      const T front = a[k], back = a[n - 1 - k];
      tmp[start[(key(front) >> shift) & mask]++] = front;
      tmp[--end[(key(back) >> shift) & mask]] = back;
    }
    if (n % 2 != 0) tmp[start[(key(a[half]) >> shift) & mask]++] = a[half];
    std::swap(a, tmp);
  }
  return a;
}

// Stable LSD radix sort of `a` by key(a[t]) over only the bits in which the keys differ (`varying`), in
// digits of at most 11 bits, all histograms from one pass. Values read from float32 differ in at most 32
// bits and sort in 3 passes over 8-byte elements; std::sort of (value, index) pairs, mostly mispredicted
// branches, took ~3 ms at n = 42,000.
template <class T, class Key>
void radix_sort(std::vector<T>& a, std::vector<T>& tmp, std::uint64_t varying, Key key) {
  const std::size_t n = a.size();
  if (varying == 0 || n < 2) return;
  const int lo = std::countr_zero(varying);
  const int hi = 64 - std::countl_zero(varying);
  const int n_digits = (hi - lo + kMaxDigitBits - 1) / kMaxDigitBits;
  const int bits = (hi - lo + n_digits - 1) / n_digits;
  const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
  const std::size_t buckets = std::size_t{1} << bits;
  DigitCounts count;
  for (int d = 0; d < n_digits; ++d) std::fill(count[d].begin(), count[d].begin() + buckets, 0u);
  for (const T& e : a) {
    const std::uint64_t k = key(e);
    for (int d = 0; d < n_digits; ++d) ++count[d][(k >> (lo + d * bits)) & mask];
  }
  tmp.resize(n);
  if (radix_passes(a.data(), tmp.data(), n, lo, bits, n_digits, count, key) != a.data()) a.swap(tmp);
}

// Blom scores of the sorted entries: ties (equal keys) get the score of their average rank, as R's rank(). Without
// branches on the data (ties are common: NPX values carry 4 decimals): the runs of equal keys and their ends come from
// one pass, the probabilities of the runs (fewer than the entries where there are ties) go to ws.p for one vectorised
// qnorm_many call (in place), and a second pass over the entries, finding the runs again, gives each its run's score.
// Nothing per entry is stored besides the entries themselves: the working set stays small enough for L2.
template <class T, class Key, class Index>
void assign_scores(Eigen::Ref<Eigen::VectorXd> x, std::span<const T> a, Key key, Index index, RankWorkspace& ws) {
  const std::size_t n = a.size();
  if (n == 0) return;
  const double denominator = static_cast<double>(n) + 0.25;
  double* p = at_least(ws.p, n);  // first the runs' ends (1-based ranks of their last entries), then their scores
  std::size_t u = 0;
  p[0] = 1.0;
  for (std::size_t k = 1; k < n; ++k) {
    u += static_cast<std::size_t>(key(a[k]) != key(a[k - 1]));
    p[u] = static_cast<double>(k + 1);
  }
  const std::size_t n_runs = u + 1;
  // Run r holds the ranks end(r - 1) + 1 .. end(r): their average (end(r - 1) + 1 + end(r)) / 2 (as R computes it),
  // then the Blom probability (r - 3/8) / (n + 1/4), the division vectorised.
  double before = 0.0;
  for (std::size_t r = 0; r < n_runs; ++r) {
    const double end = p[r];
    p[r] = 0.5 * (before + 1.0 + end);
    before = end;
  }
  Eigen::Map<Eigen::ArrayXd> probability(p, static_cast<Eigen::Index>(n_runs));
  probability = (probability - 0.375) / denominator;
  qnorm_many(std::span<const double>(p, n_runs), std::span<double>(p, n_runs));
  x[index(a[0])] = p[0];
  u = 0;
  for (std::size_t k = 1; k < n; ++k) {
    u += static_cast<std::size_t>(key(a[k]) != key(a[k - 1]));
    x[index(a[k])] = p[u];
  }
}

}  // namespace

void rank_inverse_normal(Eigen::Ref<Eigen::VectorXd> x, std::span<const std::uint8_t> keep, RankWorkspace& ws) {
  PWAS_ASSERT(static_cast<Eigen::Index>(keep.size()) == x.size());
  PWAS_ASSERT(x.size() < (Eigen::Index{1} << 32));
  // Kept NaN entries stay NaN and are not ranked (R: rank(x, na.last = "keep")). Values that are exactly
  // float32 (all of them when read from the cohort file) are ranked by their 32-bit pattern, packed with
  // their index into one word.
  // One pass without branches on the data: every entry is written, and the write position moves on for the kept ones.
  const auto n = static_cast<std::size_t>(x.size());
  std::uint64_t* packed = at_least(ws.packed, n);
  std::size_t m = 0;
  bool all_float = true;
  std::uint64_t all_or = 0, all_and = ~std::uint64_t{0};
  for (std::size_t i = 0; i < n; ++i) {
    const double xi = x[static_cast<Eigen::Index>(i)];
    const bool use = keep[i] != 0 && !std::isnan(xi);
    const auto f = static_cast<float>(xi);
    all_float = all_float && (!use || static_cast<double>(f) == xi);
    const std::uint64_t k = std::uint64_t{order_bits(f)} << 32;
    const std::uint64_t used = std::uint64_t{0} - static_cast<std::uint64_t>(use);  // all ones when kept
    all_or |= k & used;
    all_and &= k | ~used;
    packed[m] = k | static_cast<std::uint32_t>(i);
    m += static_cast<std::size_t>(use);
  }
  if (all_float) {
    constexpr std::uint64_t kHigh = ~std::uint64_t{0} << 32;
    const auto key = [](std::uint64_t e) { return e & kHigh; };
    const std::uint64_t varying = (all_or ^ all_and) & kHigh;
    const std::uint64_t* sorted = packed;
    if (varying != 0 && m >= 2) {
      const int lo = std::countr_zero(varying);
      const int hi = 64 - std::countl_zero(varying);
      const int n_digits = (hi - lo + kMaxDigitBits - 1) / kMaxDigitBits;
      const int bits = (hi - lo + n_digits - 1) / n_digits;
      const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
      thread_local DigitCounts count;
      for (int d = 0; d < n_digits; ++d) std::fill(count[d].begin(), count[d].begin() + (mask + 1), 0u);
      for (std::size_t t = 0; t < m; ++t)
        for (int d = 0; d < n_digits; ++d) ++count[d][(packed[t] >> (lo + d * bits)) & mask];
      sorted = radix_passes(packed, at_least(ws.packed_tmp, m), m, lo, bits, n_digits, count, key);
    }
    assign_scores(x, std::span<const std::uint64_t>(sorted, m), key,
                  [](std::uint64_t e) { return static_cast<std::uint32_t>(e); }, ws);
    return;
  }
  ws.entries.clear();
  all_or = 0;
  all_and = ~std::uint64_t{0};
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    if (!keep[i] || std::isnan(x[i])) continue;
    const std::uint64_t k = order_bits(x[i]);
    all_or |= k;
    all_and &= k;
    ws.entries.push_back({k, static_cast<std::uint32_t>(i)});
  }
  const auto key = [](const RankEntry& e) { return e.key; };
  radix_sort(ws.entries, ws.entries_tmp, all_or ^ all_and, key);
  assign_scores(x, std::span<const RankEntry>(ws.entries), key, [](const RankEntry& e) { return e.index; }, ws);
}

void rank_inverse_normal(Eigen::Ref<Eigen::VectorXd> x, std::span<const float> values, std::span<const std::uint8_t> keep,
                         RankWorkspace& ws) {
  PWAS_ASSERT(static_cast<Eigen::Index>(keep.size()) == x.size() && static_cast<Eigen::Index>(values.size()) == x.size());
  PWAS_ASSERT(x.size() < (Eigen::Index{1} << 32));
  // The 32-bit keys in 3 digits of 11 bits (the top one 10), their histograms counted while packing: one pass over
  // the data fewer than radix_sort's. The top digit (sign, exponent and a mantissa bit) takes few values, so
  // consecutive entries often bump the same counter: even and odd entries count into separate copies, which breaks
  // that chain of store-to-load dependencies.
  constexpr int kLo = 32, kBits = 11, kDigits = 3;
  constexpr std::uint64_t kMask = (std::uint64_t{1} << kBits) - 1;
  static_assert(kDigits * kBits >= 32 && kBits <= kMaxDigitBits);
  thread_local DigitCounts count;
  thread_local std::array<std::uint32_t, kMask + 1> top_odd;
  for (int d = 0; d < kDigits; ++d) std::fill(count[d].begin(), count[d].begin() + (kMask + 1), 0u);
  top_odd.fill(0u);
  const std::size_t n = values.size();
  std::uint64_t* packed = at_least(ws.packed, n);
  std::size_t m = 0;
  const auto put = [&](std::size_t i, std::array<std::uint32_t, kMask + 1>& top) {
    const float f = values[i];
    const bool use = keep[i] != 0 && !std::isnan(f);
    const std::uint64_t k = std::uint64_t{order_bits(f)} << 32;
    const auto add = static_cast<std::uint32_t>(use);
    count[0][(k >> kLo) & kMask] += add;
    count[1][(k >> (kLo + kBits)) & kMask] += add;
    top[(k >> (kLo + 2 * kBits)) & kMask] += add;
    packed[m] = k | static_cast<std::uint32_t>(i);
    m += static_cast<std::size_t>(use);
  };
  std::size_t i = 0;
  for (; i + 1 < n; i += 2) {
    put(i, count[2]);
    put(i + 1, top_odd);
  }
  if (i < n) put(i, count[2]);
  for (std::size_t b = 0; b <= kMask; ++b) count[2][b] += top_odd[b];
  constexpr std::uint64_t kHigh = ~std::uint64_t{0} << 32;
  const auto key = [](std::uint64_t e) { return e & kHigh; };
  const std::uint64_t* sorted =
      m >= 2 ? radix_passes(packed, at_least(ws.packed_tmp, m), m, kLo, kBits, kDigits, count, key) : packed;
  assign_scores(x, std::span<const std::uint64_t>(sorted, m), key,
                [](std::uint64_t e) { return static_cast<std::uint32_t>(e); }, ws);
}

void rank_inverse_normal(Eigen::Ref<Eigen::VectorXd> x, std::span<const std::uint8_t> keep) {
  RankWorkspace ws;
  rank_inverse_normal(x, keep, ws);
}

void zscore(Eigen::Ref<Eigen::VectorXd> x, std::span<const std::uint8_t> keep) {
  PWAS_ASSERT(static_cast<Eigen::Index>(keep.size()) == x.size());
  double n = 0.0, sum = 0.0;
  for (Eigen::Index i = 0; i < x.size(); ++i)
    if (keep[i]) {
      n += 1.0;
      sum += x[i];
    }
  if (n == 0.0) return;
  double mean = sum / n;
  double residue = 0.0;
  for (Eigen::Index i = 0; i < x.size(); ++i)
    if (keep[i]) residue += x[i] - mean;
  mean += residue / n;  // second pass: corrected two-pass mean
  double ss = 0.0;
  for (Eigen::Index i = 0; i < x.size(); ++i)
    if (keep[i]) ss += (x[i] - mean) * (x[i] - mean);
  // A constant or single value gives 0/0 = NaN, as R's scale().
  const double sd = std::sqrt(ss / (n - 1.0));
  for (Eigen::Index i = 0; i < x.size(); ++i)
    if (keep[i]) x[i] = (x[i] - mean) / sd;
}

}  // namespace pwas::kernels
