// fit_linear at biobank scale on one thread: Gram downdate over the dropped rows + one pass over C.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>

#include "kernels/lane_cross.hpp"
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

// fit_linear_batch as the engine runs the study's linear scan (protein ~ exposure + covariates): `lanes` fits per
// call, each fit's y the study's protein with its missing rows rotated, v a shared binary exposure. p = 64 columns:
// numeric ones + a 22- and an 8-level factor. Reported per fit. Args: lanes, n_samples, drop percent, shared (1: the
// exposure's products from the Gram downdate, LinearShared::kV, as the engine runs it; 0: lanes for both vectors).
void BM_FitLinearBatch(benchmark::State& state) {
  const auto n_fits = static_cast<std::size_t>(state.range(0));
  LinearOptions opt;
  if (state.range(3) != 0) opt.shared = LinearShared::kV;
  const Eigen::Index n = state.range(1);
  const auto s = testing::simulate_protein_study(n, 64 - 1 - 21 - 7 - 1, 22, 8, 0.01 * static_cast<double>(state.range(2)),
                                                 0.15, 1);
  const SharedDesign d = make_shared_design(s.raw);
  std::vector<LinearWorkspace> workspaces(n_fits);
  std::vector<LinearWorkspace*> ws;
  std::vector<std::vector<std::uint8_t>> keeps(n_fits);
  std::vector<Eigen::VectorXd> ys(n_fits);
  std::vector<const double*> vs(n_fits, s.y.data()), yp(n_fits);
  std::vector<std::span<const std::uint8_t>> keep(n_fits), active(n_fits);
  for (std::size_t f = 0; f < n_fits; ++f) {
    ws.push_back(&workspaces[f]);
    keeps[f] = s.keep;
    ys[f] = s.v;
    const auto shift = static_cast<Eigen::Index>(f) * 97;
    std::rotate(keeps[f].begin(), keeps[f].begin() + shift, keeps[f].end());
    std::rotate(ys[f].data(), ys[f].data() + shift, ys[f].data() + n);
    for (Eigen::Index i = 0; i < n; ++i)
      if (std::isnan(ys[f](i))) keeps[f][static_cast<std::size_t>(i)] = 0;  // y must be finite where kept
    keep[f] = keeps[f];
    yp[f] = ys[f].data();
  }
  for (auto _ : state) {
    const auto fits = fit_linear_batch(d, vs, yp, keep, active, ws, opt);
    benchmark::DoNotOptimize(fits.data());
  }
  const double fits = static_cast<double>(state.iterations()) * static_cast<double>(n_fits);
  state.counters["fits_per_s"] = benchmark::Counter(fits, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FitLinearBatch)
    ->ArgNames({"lanes", "n", "drop", "shared"})
    ->ArgsProduct({{1, kLanes}, {37000}, {10}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

// One lane_cross pass (C'a, C'b for kLanes pairs of vectors; C'b alone without a) over n rows of the same design.
// Args: n, with_a.
void BM_LaneCross(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  const bool with_a = state.range(1) != 0;
  const auto s = testing::simulate_protein_study(n, 64 - 1 - 21 - 7 - 1, 22, 8, 0.1, 0.15, 1);
  const SharedDesign d = make_shared_design(s.raw);
  LaneCross lc;
  lc.resize(d);
  for (Eigen::Index i = 0; i < n; ++i)
    for (int b = 0; b < kLanes; ++b) {
      lc.a[static_cast<std::size_t>(i)][b] = s.y(i);
      lc.b[static_cast<std::size_t>(i)][b] = std::isnan(s.v(i)) ? 0.0 : s.v(i);
    }
  for (auto _ : state) {
    lane_cross(d, lc, with_a);
    benchmark::DoNotOptimize(lc.dense_a.data());
  }
  state.counters["ns_per_row"] = benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(n),
                                                    benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_LaneCross)->ArgNames({"n", "with_a"})->ArgsProduct({{2000, 37000}, {0, 1}})->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace pwas::kernels

BENCHMARK_MAIN();
