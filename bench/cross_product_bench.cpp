// The resampling engines' A'B kernel (kernels/cross_product.hpp) against OpenBLAS dgemm on the same shapes:
// replicates x samples x proteins. Counter "GFLOPs" = 2 * m * n * k / time.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <vector>

#include "kernels/cross_product.hpp"

namespace {

using Eigen::Index;

void fill(std::vector<double>& v) {
  double x = 0.1;
  for (auto& e : v) {
    x = x * 3.7 + 0.3;
    x -= static_cast<double>(static_cast<long>(x));
    e = x - 0.5;
  }
}

void BM_CrossProduct(benchmark::State& state) {
  const Index n = state.range(0), m = state.range(1), k = state.range(2);
  pwas::kernels::PackedPanels a, b;
  a.resize(n, m / pwas::kernels::kCrossRows, pwas::kernels::kCrossRows);
  b.resize(n, k / pwas::kernels::kCrossCols, pwas::kernels::kCrossCols);
  fill(a.data);
  fill(b.data);
  std::vector<double> c(static_cast<std::size_t>(m * k), 0.0);
  for (auto _ : state) {
    pwas::kernels::cross_product_add(a, b, c.data(), k);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * static_cast<double>(n * m * k) * 1e-9,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

void BM_OpenBlasDgemm(benchmark::State& state) {
  const Index n = state.range(0), m = state.range(1), k = state.range(2);
  std::vector<double> a(static_cast<std::size_t>(n * m)), b(static_cast<std::size_t>(n * k)),
      c(static_cast<std::size_t>(m * k));
  fill(a);
  fill(b);
  for (auto _ : state) {
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, static_cast<int>(m), static_cast<int>(k), static_cast<int>(n),
                1.0, a.data(), static_cast<int>(n), b.data(), static_cast<int>(n), 1.0, c.data(), static_cast<int>(m));
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * static_cast<double>(n * m * k) * 1e-9,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

// 256 replicates x 42,000 samples x 512 proteins: one replicate block of the study-size permutation scan.
BENCHMARK(BM_CrossProduct)->Args({42000, 256, 512})->Args({4000, 64, 64})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OpenBlasDgemm)->Args({42000, 256, 512})->Args({4000, 64, 64})->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
