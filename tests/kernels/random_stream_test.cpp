// RandomStream: keyed reproducibility, independence of keys, and the moments of its distributions.
#include "kernels/random_stream.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace pwas::kernels {
namespace {

TEST(RandomStream, SameKeySameNumbers) {
  RandomStream a(42, 7, 3);
  RandomStream b(42, 7, 3);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(a.bits(), b.bits());
    ASSERT_EQ(a.normal(), b.normal());
    ASSERT_EQ(a.below(1000), b.below(1000));
  }
}

TEST(RandomStream, FirstBlockIsPhiloxOfTheKey) {
  // The documented keying: key (seed, id0), counter (block, id1, id2, 0).
  RandomStream s(11, 22, 33, 44);
  const r123::Philox4x64::ctr_type ctr = {{0, 33, 44, 0}};
  const r123::Philox4x64::key_type key = {{11, 22}};
  const auto block = r123::Philox4x64()(ctr, key);
  for (int w = 0; w < 4; ++w) EXPECT_EQ(s.bits(), block.v[w]);
  EXPECT_EQ(s.blocks(), 1u);
}

TEST(RandomStream, DifferentKeysDiffer) {
  const std::array<RandomStream, 5> streams = {RandomStream(1, 0, 0), RandomStream(2, 0, 0), RandomStream(1, 1, 0),
                                               RandomStream(1, 0, 1), RandomStream(1, 0, 0, 1)};
  std::vector<std::vector<std::uint64_t>> draws;
  for (RandomStream s : streams) {
    std::vector<std::uint64_t> d(64);
    for (auto& v : d) v = s.bits();
    draws.push_back(d);
  }
  for (std::size_t a = 0; a < draws.size(); ++a)
    for (std::size_t b = a + 1; b < draws.size(); ++b) {
      int equal = 0;
      for (std::size_t i = 0; i < 64; ++i) equal += draws[a][i] == draws[b][i];
      EXPECT_EQ(equal, 0) << "streams " << a << " and " << b;
    }
}

TEST(RandomStream, NeighbouringStreamsUncorrelated) {
  // Protein streams keyed by consecutive ids must not be correlated.
  RandomStream a(5, 100);
  RandomStream b(5, 101);
  const int n = 200000;
  double sab = 0.0;
  for (int i = 0; i < n; ++i) sab += a.normal() * b.normal();
  EXPECT_LT(std::fabs(sab / n), 4.0 / std::sqrt(n));
}

TEST(RandomStream, UniformMoments) {
  RandomStream s(3);
  const int n = 1000000;
  double sum = 0.0;
  double sum2 = 0.0;
  double lo = 1.0;
  double hi = 0.0;
  for (int i = 0; i < n; ++i) {
    const double u = s.uniform();
    sum += u;
    sum2 += u * u;
    lo = std::min(lo, u);
    hi = std::max(hi, u);
  }
  const double mean = sum / n;
  const double var = sum2 / n - mean * mean;
  EXPECT_NEAR(mean, 0.5, 5.0 * std::sqrt(1.0 / 12.0 / n));
  EXPECT_NEAR(var, 1.0 / 12.0, 1e-3);
  EXPECT_GE(lo, 0.0);
  EXPECT_LT(hi, 1.0);
}

TEST(RandomStream, UniformPosIsNeverZero) {
  RandomStream s(4);
  for (int i = 0; i < 100000; ++i) {
    const double u = s.uniform_pos();
    ASSERT_GT(u, 0.0);
    ASSERT_LE(u, 1.0);
  }
}

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

TEST(RandomStream, NormalMomentsAndShape) {
  RandomStream s(9, 1);
  const int n = 2000000;
  std::vector<double> x(n);
  double m1 = 0.0;
  double m2 = 0.0;
  double m3 = 0.0;
  double m4 = 0.0;
  int beyond_tail = 0;  // |x| > R: drawn by the ziggurat's tail algorithm
  for (double& v : x) {
    v = s.normal();
    m1 += v;
    m2 += v * v;
    m3 += v * v * v;
    m4 += v * v * v * v;
    beyond_tail += std::fabs(v) > detail::ZigguratTables::kR;
  }
  EXPECT_NEAR(m1 / n, 0.0, 5.0 / std::sqrt(n));
  EXPECT_NEAR(m2 / n, 1.0, 5.0 * std::sqrt(2.0 / n));
  EXPECT_NEAR(m3 / n, 0.0, 5.0 * std::sqrt(15.0 / n));
  EXPECT_NEAR(m4 / n, 3.0, 5.0 * std::sqrt(96.0 / n));
  const double p_tail = 2.0 * normal_cdf(-detail::ZigguratTables::kR);
  EXPECT_NEAR(beyond_tail / double(n), p_tail, 5.0 * std::sqrt(p_tail / n));

  // Kolmogorov–Smirnov against the normal CDF (critical value at alpha = 0.001: 1.95 / sqrt(n)).
  std::sort(x.begin(), x.end());
  double d = 0.0;
  for (int i = 0; i < n; ++i) {
    const double f = normal_cdf(x[i]);
    d = std::max({d, f - double(i) / n, double(i + 1) / n - f});
  }
  EXPECT_LT(d, 1.95 / std::sqrt(n));
}

TEST(RandomStream, ZigguratTablesCloseTheTop) {
  // The last strip must end at the mode: V / x[255] + f(x[255]) = f(0) = 1.
  const auto& z = detail::ziggurat_tables();
  const double x = z.x[detail::ZigguratTables::kStrips - 1];
  EXPECT_NEAR(z.kV / x + std::exp(-0.5 * x * x), 1.0, 1e-9);
}

TEST(RandomStream, BelowSmallRangeUniform) {
  RandomStream s(17);
  const int k = 6;
  const int n = 600000;
  std::array<int, k> counts{};
  for (int i = 0; i < n; ++i) ++counts[s.below(k)];
  double chi2 = 0.0;
  const double expected = double(n) / k;
  for (int c : counts) chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, 20.5);  // chi-square with 5 df, P = 0.001
}

TEST(RandomStream, BelowHasNoModuloBias) {
  // With n = 3 * 2^62, `bits() % n` would put values below 2^62 twice as often as the others (1/2, not 1/3).
  RandomStream s(23);
  const std::uint64_t n = 3ull << 62;
  const int draws = 300000;
  int low = 0;
  for (int i = 0; i < draws; ++i) {
    const std::uint64_t v = s.below(n);
    ASSERT_LT(v, n);
    low += v < (1ull << 62);
  }
  EXPECT_NEAR(low / double(draws), 1.0 / 3.0, 0.005);
}

TEST(RandomStream, BelowEdgeCases) {
  RandomStream s(29);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(s.below(1), 0u);
  EXPECT_THROW(s.below(0), InternalError);
}

TEST(RandomStream, ShuffleIsAPermutationAndUniform) {
  RandomStream s(31);
  std::array<int, 3> first_counts{};
  for (int trial = 0; trial < 30000; ++trial) {
    std::array<int, 3> v = {0, 1, 2};
    s.shuffle(v.begin(), v.end());
    std::array<int, 3> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    ASSERT_EQ(sorted, (std::array<int, 3>{0, 1, 2}));
    ++first_counts[v[0]];
  }
  for (int c : first_counts) EXPECT_NEAR(c / 30000.0, 1.0 / 3.0, 0.015);
}

}  // namespace
}  // namespace pwas::kernels
