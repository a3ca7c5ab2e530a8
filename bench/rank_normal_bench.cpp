// Rank-inverse-normal transform of one protein (sort + one qnorm per distinct value).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "kernels/rank_normal.hpp"

namespace pwas::kernels {
namespace {

void BM_RankInverseNormal(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  const Eigen::VectorXd x0 = Eigen::VectorXd::Random(n);
  const std::vector<std::uint8_t> keep(static_cast<std::size_t>(n), 1);
  Eigen::VectorXd x(n);
  for (auto _ : state) {
    x = x0;
    rank_inverse_normal(x, keep);
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RankInverseNormal)->Arg(5000)->Arg(42000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pwas::kernels

BENCHMARK_MAIN();
