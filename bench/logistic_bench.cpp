// fit_logistic at biobank scale (one thread, as the engine runs one fit per thread), and the X'WX kernel
// it spends its time in against Eigen's rankUpdate and OpenBLAS dsyrk on the same row blocks.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cstdint>
#include <vector>

#include "kernels/gram.hpp"
#include "kernels/logistic.hpp"
#include "tests/kernels/simulate.hpp"

namespace pwas::kernels {
namespace {

// Args: n_samples, p = columns of X (intercept + 5 fixed covariates + p - 7 extra + v), drop percent.
void BM_FitLogistic(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  const Eigen::Index p = state.range(1);
  const auto c = testing::simulate_cohort(n, p - 7, 0.01 * static_cast<double>(state.range(2)), 1);
  const SharedDesign d = make_shared_design(c.raw);
  LogisticWorkspace ws;
  // As the engine: start from the covariates-only fit with 0 for v.
  const LogisticFit null = fit_logistic_null(d, c.y_bin, c.keep, ws);
  Eigen::VectorXd start = Eigen::VectorXd::Zero(p);
  start.head(p - 1) = null.beta;
  double sweeps = 0.0, iterations = 0.0, n_obs = 0.0;
  for (auto _ : state) {
    const LogisticFit f = fit_logistic(d, c.v, c.y_bin, c.keep, &start, ws);
    benchmark::DoNotOptimize(f.beta.data());
    iterations += f.iterations;
    sweeps += f.iterations + 1;  // one sweep at the start, one per Newton step (no halving here)
    n_obs = f.n_obs;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["iterations"] = benchmark::Counter(iterations / static_cast<double>(state.iterations()));
  // Flops of X'WX alone (n_obs p (p + 1) per sweep: the lower triangle, multiply + add).
  state.counters["gram_GFLOPs"] = benchmark::Counter(sweeps * n_obs * static_cast<double>(p * (p + 1)) * 1e-9,
                                                     benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FitLogistic)
    ->ArgsProduct({{5000, 37000}, {16, 64}, {10}})
    ->Args({42000, 64, 1})
    ->Args({37000, 64, 27})
    ->Unit(benchmark::kMillisecond);

// X'WX-style Gram of n rows x p columns, accumulated in row-major blocks of 512 rows (the fit's access
// pattern); the column-major lower triangle is the row-major upper one for dsyrk.
enum class GramImpl { kPwas, kEigenRankUpdate, kBlasSyrk };

void gram_bench(benchmark::State& state, GramImpl impl) {
  const Eigen::Index n = state.range(0);
  const Eigen::Index p = state.range(1);
  constexpr Eigen::Index kBlock = 512;
  const Eigen::Index stride = gram_row_stride(p);
  const RowMatrixXd storage = RowMatrixXd::Random(kBlock, stride);
  const auto a = storage.leftCols(p);
  Eigen::MatrixXd g(p, p);
  openblas_set_num_threads(1);
  for (auto _ : state) {
    g.setZero();
    for (Eigen::Index r0 = 0; r0 < n; r0 += kBlock) {
      const Eigen::Index m = std::min(kBlock, n - r0);
      switch (impl) {
        case GramImpl::kPwas: add_gram_lower(g, a.topRows(m)); break;
        case GramImpl::kEigenRankUpdate: g.selfadjointView<Eigen::Lower>().rankUpdate(a.topRows(m).transpose()); break;
        case GramImpl::kBlasSyrk:
          cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<int>(p), static_cast<int>(m), 1.0,
                      storage.data(), static_cast<int>(stride), 1.0, g.data(), static_cast<int>(p));
          break;
      }
    }
    benchmark::DoNotOptimize(g.data());
  }
  state.counters["GFLOPs"] = benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(n) *
                                                    static_cast<double>(p * (p + 1)) * 1e-9,
                                                benchmark::Counter::kIsRate);
}
void BM_GramPwas(benchmark::State& s) { gram_bench(s, GramImpl::kPwas); }
void BM_GramEigenRankUpdate(benchmark::State& s) { gram_bench(s, GramImpl::kEigenRankUpdate); }
void BM_GramOpenBlasDsyrk(benchmark::State& s) { gram_bench(s, GramImpl::kBlasSyrk); }
BENCHMARK(BM_GramPwas)->ArgsProduct({{37000}, {16, 64}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GramEigenRankUpdate)->ArgsProduct({{37000}, {16, 64}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GramOpenBlasDsyrk)->ArgsProduct({{37000}, {16, 64}})->Unit(benchmark::kMillisecond);

// Single-core DGEMM ceiling of this machine, measured in the same run for reference.
void BM_DgemmOpenBlas(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const Eigen::MatrixXd a = Eigen::MatrixXd::Random(n, n), b = Eigen::MatrixXd::Random(n, n);
  Eigen::MatrixXd c(n, n);
  openblas_set_num_threads(1);
  for (auto _ : state) {
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a.data(), n, b.data(), n, 0.0, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOPs"] = benchmark::Counter(static_cast<double>(state.iterations()) * 2.0 * n * n * n * 1e-9,
                                                benchmark::Counter::kIsRate);
}
void BM_DgemmEigen(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  const Eigen::MatrixXd a = Eigen::MatrixXd::Random(n, n), b = Eigen::MatrixXd::Random(n, n);
  Eigen::MatrixXd c(n, n);
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOPs"] = benchmark::Counter(static_cast<double>(state.iterations()) * 2.0 * static_cast<double>(n * n * n) * 1e-9,
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DgemmOpenBlas)->Arg(2000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DgemmEigen)->Arg(2000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pwas::kernels

BENCHMARK_MAIN();
