// fit_linear at biobank scale on one thread: Gram downdate over the dropped rows + one pass over C.
#include <benchmark/benchmark.h>

#include "kernels/linear.hpp"
#include "tests/kernels/simulate.hpp"

namespace pwas::kernels {
namespace {

// Args: n_samples, p = columns of [C, v], drop percent.
void BM_FitLinear(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  const Eigen::Index p = state.range(1);
  const auto c = testing::simulate_cohort(n, p - 7, 0.01 * static_cast<double>(state.range(2)), 2);
  const SharedDesign d = make_shared_design(c.raw);
  LinearWorkspace ws;
  double n_obs = 0.0;
  for (auto _ : state) {
    const LinearFit f = fit_linear(d, c.v, c.y_cont, c.keep, {}, ws);
    benchmark::DoNotOptimize(f.beta.data());
    n_obs = f.n_obs;
  }
  state.SetItemsProcessed(state.iterations());
  // Gram downdate over the dropped rows (n_drop p_c (p_c + 1)) + C'[v y] over all rows (4 n p_c).
  const double pc = static_cast<double>(p - 1);
  const double n_drop = static_cast<double>(n) - n_obs;
  const double flops = n_drop * pc * (pc + 1.0) + 4.0 * static_cast<double>(n) * pc;
  state.counters["GFLOPs"] = benchmark::Counter(static_cast<double>(state.iterations()) * flops * 1e-9,
                                                benchmark::Counter::kIsRate);
  // Bytes of the row-major copy of C streamed once per fit.
  const double bytes = static_cast<double>(n) * static_cast<double>(d.c_rows.cols()) * 8.0;
  state.counters["C_GBps"] = benchmark::Counter(static_cast<double>(state.iterations()) * bytes * 1e-9,
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FitLinear)
    ->ArgsProduct({{5000, 37000}, {16, 64}, {1, 10, 27}})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pwas::kernels

BENCHMARK_MAIN();
