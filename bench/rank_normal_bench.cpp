// Rank-inverse-normal transform of one protein (radix sort + one AS 241 qnorm per distinct value), on values
// read from float32 as the engine's are (with ~10% missing), and on arbitrary doubles.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/rank_normal.hpp"

namespace pwas::kernels {
namespace {

// Args: n, 1 = values rounded to float32 (the engine's input), 2 = to 4 decimals and then float32 (NPX as delivered:
// about a quarter of the values tied at n = 42,000), 3 = as 2 through the overload that ranks the float32 values themselves
// (the engine's call), 0 = full doubles.
void BM_RankInverseNormal(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  Eigen::VectorXd x0 = 3.0 * Eigen::VectorXd::Random(n);
  if (state.range(1) >= 2) x0 = (x0 * 1e4).array().round() / 1e4;
  if (state.range(1) >= 1)
    for (Eigen::Index i = 0; i < n; ++i) x0(i) = static_cast<double>(static_cast<float>(x0(i)));
  std::vector<std::uint8_t> keep(static_cast<std::size_t>(n), 1);
  for (std::size_t i = 0; i < keep.size(); i += 10) keep[i] = 0;
  Eigen::VectorXd x(n);
  RankWorkspace ws;
  std::vector<float> values(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) values[static_cast<std::size_t>(i)] = static_cast<float>(x0(i));
  for (auto _ : state) {
    x = x0;
    if (state.range(1) == 3) rank_inverse_normal(x, values, keep, ws);
    else rank_inverse_normal(x, keep, ws);
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RankInverseNormal)->ArgNames({"n", "f32"})->ArgsProduct({{5000, 42000}, {0, 1, 2, 3}})->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pwas::kernels

BENCHMARK_MAIN();
