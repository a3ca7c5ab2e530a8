// fit_logistic at biobank scale (one thread) on both paths, chord and Newton; fit_logistic_batch, 1 and kLanes fits a
// batch (the engine's batches); and the X'WX kernel Newton spends its time in against Eigen's rankUpdate and OpenBLAS
// dsyrk.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/gram.hpp"
#include "kernels/logistic.hpp"
#include "kernels/logistic_lanes.hpp"
#include "tests/kernels/simulate.hpp"

namespace pwas::kernels {
namespace {

// The study's scan: 11,680 logistic fits on 2 threads.
constexpr double kStudyFits = 11680.0;
constexpr double kStudyThreads = 2.0;

// Args: path (0 = Newton from the null estimate, 1 = chord), n_samples, p = columns of X (intercept, numeric
// covariates, the dummies of a 22- and an 8-level factor (4 and 3 levels when p < 40), v), drop percent (the
// protein's missing rows), 100 x log odds ratio per SD of the protein (15: OR 1.16). The null model is fitted
// once on all rows, as the engine does.
void BM_FitLogistic(benchmark::State& state) {
  const bool chord = state.range(0) == 1;
  const Eigen::Index n = state.range(1);
  const Eigen::Index p = state.range(2);
  const int levels_a = p >= 40 ? 22 : 4, levels_b = p >= 40 ? 8 : 3;
  const Eigen::Index n_numeric = p - 1 - (levels_a - 1) - (levels_b - 1) - 1;
  const auto s = testing::simulate_protein_study(n, n_numeric, levels_a, levels_b,
                                                 0.01 * static_cast<double>(state.range(3)),
                                                 0.01 * static_cast<double>(state.range(4)), 1);
  const SharedDesign d = make_shared_design(s.raw);
  LogisticWorkspace ws;
  const LogisticNull null = make_logistic_null(d, s.y, s.all, ws);
  LogisticOptions opt;
  opt.chord = chord;
  double newton = 0.0, chord_steps = 0.0, n_obs = 0.0, used_chord = 0.0;
  for (auto _ : state) {
    const LogisticFit f = fit_logistic(d, &null, s.v, s.y, s.keep, {}, ws, opt);
    benchmark::DoNotOptimize(f.beta.data());
    newton += f.iterations;
    chord_steps += f.chord_iterations;
    used_chord += f.used_chord ? 1.0 : 0.0;
    n_obs = f.n_obs;
  }
  const double fits = static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
  state.counters["newton_steps"] = benchmark::Counter(newton / fits);
  state.counters["chord_steps"] = benchmark::Counter(chord_steps / fits);
  state.counters["chord_share"] = benchmark::Counter(used_chord / fits);
  state.counters["n_obs"] = benchmark::Counter(n_obs);
  // Seconds for the study's 11,680 fits on 2 threads at this single-thread rate (fits only, no RIN).
  state.counters["scan_s_2thr"] =
      benchmark::Counter(fits * kStudyThreads / kStudyFits, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_FitLogistic)
    ->ArgNames({"chord", "n", "p", "drop", "logOR"})
    ->ArgsProduct({{0, 1}, {37000}, {64}, {10}, {0, 15}})
    ->Args({1, 42000, 64, 1, 15})
    ->Args({1, 37000, 64, 27, 15})
    ->Args({1, 37000, 64, 10, 70})   // OR 2 per SD: the chord contracts slowly, Newton takes over
    ->Args({1, 5000, 16, 10, 15})
    ->Unit(benchmark::kMillisecond);

// fit_logistic_batch: `lanes` fits per call (the engine batches kLanes proteins of one analysis per thread), the
// batch's proteins being the study's protein with its missing rows rotated, so that each lane keeps other rows.
// Reported per fit. Args: lanes, n_samples, p, drop percent, 100 x log OR (as above).
void BM_FitLogisticBatch(benchmark::State& state) {
  const auto n_fits = static_cast<std::size_t>(state.range(0));
  const Eigen::Index n = state.range(1);
  const Eigen::Index p = state.range(2);
  const Eigen::Index n_numeric = p - 1 - 21 - 7 - 1;
  const auto s = testing::simulate_protein_study(n, n_numeric, 22, 8, 0.01 * static_cast<double>(state.range(3)),
                                                 0.01 * static_cast<double>(state.range(4)), 1);
  const SharedDesign d = make_shared_design(s.raw);
  std::vector<LogisticWorkspace> workspaces(kLanes);
  std::vector<LogisticWorkspace*> ws;
  for (std::size_t f = 0; f < n_fits; ++f) ws.push_back(&workspaces[f]);
  const LogisticNull null = make_logistic_null(d, s.y, s.all, workspaces[0]);
  std::vector<std::vector<std::uint8_t>> keeps(n_fits);
  std::vector<const double*> vs(n_fits, s.v.data());
  std::vector<std::span<const std::uint8_t>> keep(n_fits), active(n_fits);
  for (std::size_t f = 0; f < n_fits; ++f) {
    keeps[f] = s.keep;
    std::rotate(keeps[f].begin(), keeps[f].begin() + static_cast<std::ptrdiff_t>(f) * 97, keeps[f].end());
    for (Eigen::Index i = 0; i < n; ++i)
      if (std::isnan(s.v(i))) keeps[f][static_cast<std::size_t>(i)] = 0;  // v must be finite where kept
    keep[f] = keeps[f];
  }
  double chord_steps = 0.0;
  for (auto _ : state) {
    const auto fits = fit_logistic_batch(d, &null, vs, s.y, keep, active, ws);
    for (const LogisticFit& f : fits) chord_steps += f.chord_iterations;
    benchmark::DoNotOptimize(fits.data());
  }
  const double fits = static_cast<double>(state.iterations()) * static_cast<double>(n_fits);
  state.counters["fits_per_s"] = benchmark::Counter(fits, benchmark::Counter::kIsRate);
  state.counters["chord_steps"] = benchmark::Counter(chord_steps / fits);
  state.counters["scan_s_2thr"] =
      benchmark::Counter(fits * kStudyThreads / kStudyFits, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_FitLogisticBatch)
    ->ArgNames({"lanes", "n", "p", "drop", "logOR"})
    ->ArgsProduct({{1, kLanes}, {37000}, {64}, {10}, {15}})
    ->Unit(benchmark::kMillisecond);

// One logistic lane pass (eta, residuals, score sums; the chord's O(n p) step for kLanes fits at once) over n rows
// of the study's design (p = 64: 34 dense columns + a 22- and an 8-level factor). Small n stays in cache, large n
// streams z from memory: the ratio of their per-row times says how far the pass is bound by memory.
void BM_LaneScorePass(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  const auto s = testing::simulate_protein_study(n, 64 - 1 - 21 - 7 - 1, 22, 8, 0.1, 0.15, 1);
  const SharedDesign d = make_shared_design(s.raw);
  LanePass lp;
  lp.resize(d);
  lp.y.assign(s.y.data(), s.y.data() + n);
  for (Eigen::Index i = 0; i < n; ++i)
    for (int b = 0; b < kLanes; ++b) {
      lp.mask[static_cast<std::size_t>(i)][b] = 1.0;
      lp.v[static_cast<std::size_t>(i)][b] = std::isnan(s.v(i)) ? 0.0 : s.v(i);
    }
  for (auto& t : lp.theta_pad) t = Lane{} + 0.01;
  for (auto _ : state) {
    lane_score_pass(d, nullptr, lp);
    benchmark::DoNotOptimize(lp.score_pad.data());
  }
  const double rows = static_cast<double>(state.iterations()) * static_cast<double>(n);
  state.counters["ns_per_row"] = benchmark::Counter(rows * 1e-9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["z_GBps"] = benchmark::Counter(rows * static_cast<double>(d.z_rows.cols() * 8 + 2 * 64) * 1e-9,
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LaneScorePass)->Arg(1024)->Arg(4096)->Arg(42000)->Unit(benchmark::kMicrosecond);

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
BENCHMARK(BM_GramPwas)->ArgsProduct({{37000}, {16, 32, 33, 34, 64}})->Unit(benchmark::kMillisecond);
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
