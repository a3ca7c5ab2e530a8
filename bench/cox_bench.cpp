// fit_cox at biobank scale (one thread, as the engine runs one fit per thread): n = 40,000, 61 columns of X
// (intercept, 31 numeric covariates, the dummies of a 22- and an 8-level factor, the protein), ~5% events,
// whole-day times (ties), 3 strata; and the score screen from the null model. R's coxph takes ~0.6 s per fit
// at this size (issue 5); the target is 100x that.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/cox.hpp"
#include "kernels/cox_detail.hpp"
#include "kernels/lane_blocks.hpp"
#include "kernels/lane_gram.hpp"
#include "tests/kernels/simulate.hpp"
#include "tests/kernels/simulate_survival.hpp"

namespace pwas::kernels {
namespace {

// Issue 5's scan: 2,920 proteins x 6 outcomes.
constexpr double kStudyFits = 2920.0 * 6.0;

struct Setup {
  testing::ProteinStudy s;
  testing::SurvivalOutcome o;
};

Setup make_setup(Eigen::Index n, Eigen::Index p, double drop) {
  const int levels_a = p >= 40 ? 22 : 4, levels_b = p >= 40 ? 8 : 3;
  const Eigen::Index n_numeric = p - 1 - (levels_a - 1) - (levels_b - 1) - 1;
  Setup su{testing::simulate_protein_study(n, n_numeric, levels_a, levels_b, drop, 0.0, 7), {}};
  su.o = testing::simulate_survival(su.s, 0.1, 0.05, 3, 11);
  return su;
}

// A setup with its design, survival outcome and null model (the lane benchmarks read the null's risk-ordered rows).
struct NullSetup {
  Setup su;
  SharedDesign d;
  CoxSurvival surv;
  CoxWorkspace ws;
  CoxNull null;
  NullSetup(Eigen::Index n, Eigen::Index p, double drop)
      : su(make_setup(n, p, drop)), d(make_shared_design(su.s.raw)),
        surv(make_cox_survival(su.o.time, su.o.event, su.o.stratum)),
        null(make_cox_null(d, surv, su.s.all, {}, {}, ws)) {}
  lane_detail::LaneRows rows() const { return {&null.risk_z, &null.risk_level}; }
};

// Args: n, p (columns of X), drop percent (the protein's missing rows: 0 reuses the null, else the
// covariates-only model is refitted on the protein's rows), ties (0 Efron, 1 Breslow), PH test (0 none, 1 the
// protein's term, 2 term and GLOBAL).
void BM_FitCox(benchmark::State& state) {
  const Setup su = make_setup(state.range(0), state.range(1), 0.01 * static_cast<double>(state.range(2)));
  const SharedDesign d = make_shared_design(su.s.raw);
  const CoxSurvival surv = make_cox_survival(su.o.time, su.o.event, su.o.stratum);
  CoxOptions opt;
  opt.ties = state.range(3) == 0 ? CoxTies::kEfron : CoxTies::kBreslow;
  opt.ph_test = state.range(4) >= 1;
  opt.ph_global = state.range(4) == 2;
  CoxWorkspace ws;
  const CoxNull null = make_cox_null(d, surv, su.s.all, {}, {}, ws, opt);
  double iterations = 0.0, chord = 0.0, null_chord = 0.0, events = 0.0, ok = 0.0;
  for (auto _ : state) {
    const CoxFit f = fit_cox(d, surv, &null, su.s.v, su.s.keep, {}, {}, ws, opt);
    benchmark::DoNotOptimize(f.beta.data());
    iterations += f.iterations;
    chord += f.chord_iterations;
    null_chord += f.null_chord_iterations;
    events = f.n_events;
    ok += f.status == FitStatus::kOk ? 1.0 : 0.0;
  }
  const double fits = static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
  state.counters["newton_steps"] = benchmark::Counter(iterations / fits);
  state.counters["chord_steps"] = benchmark::Counter(chord / fits);
  state.counters["null_chord_steps"] = benchmark::Counter(null_chord / fits);
  state.counters["events"] = benchmark::Counter(events);
  state.counters["ok_share"] = benchmark::Counter(ok / fits);
  // Seconds for issue 5's 2,920 proteins x 6 outcomes on one thread at this rate.
  state.counters["study_s_1thr"] =
      benchmark::Counter(fits / kStudyFits, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_FitCox)
    ->ArgNames({"n", "p", "drop", "breslow", "ph"})
    ->Args({40000, 61, 0, 0, 2})
    ->Args({40000, 61, 10, 0, 0})
    ->Args({40000, 61, 10, 0, 1})
    ->Args({40000, 61, 10, 0, 2})
    ->Args({40000, 61, 10, 1, 2})
    ->Args({5000, 16, 10, 0, 2})
    ->Unit(benchmark::kMillisecond);

// Batches of kLanes proteins (fit_cox_batch, as the engine runs them): lane b's protein is the simulated one with
// its rows rotated by 977 b (each lane has its own missing rows, so each refits the covariates-only model).
// Args: n, p, drop percent, PH test (as BM_FitCox). Time per batch; items = fits.
void BM_FitCoxBatch(benchmark::State& state) {
  const Setup su = make_setup(state.range(0), state.range(1), 0.01 * static_cast<double>(state.range(2)));
  const SharedDesign d = make_shared_design(su.s.raw);
  const CoxSurvival surv = make_cox_survival(su.o.time, su.o.event, su.o.stratum);
  CoxOptions opt;
  opt.ph_test = state.range(3) >= 1;
  opt.ph_global = state.range(3) == 2;
  CoxWorkspace ws;
  const CoxNull null = make_cox_null(d, surv, su.s.all, {}, {}, ws, opt);
  const Eigen::Index n = d.n_samples();
  std::vector<Eigen::VectorXd> v(kLanes, Eigen::VectorXd(n));
  std::vector<std::vector<std::uint8_t>> keep(kLanes, std::vector<std::uint8_t>(static_cast<std::size_t>(n)));
  std::vector<const double*> vp;
  std::vector<std::span<const std::uint8_t>> kp, ap(kLanes);
  for (int b = 0; b < kLanes; ++b) {
    for (Eigen::Index i = 0; i < n; ++i) {
      const Eigen::Index from = (i + 977 * b) % n;
      v[static_cast<std::size_t>(b)](i) = su.s.v(from);
      keep[static_cast<std::size_t>(b)][static_cast<std::size_t>(i)] = su.s.keep[static_cast<std::size_t>(from)];
    }
    vp.push_back(v[static_cast<std::size_t>(b)].data());
    kp.emplace_back(keep[static_cast<std::size_t>(b)]);
  }
  std::vector<CoxFit> out(kLanes);
  double chord = 0.0, null_chord = 0.0, ok = 0.0;
  for (auto _ : state) {
    fit_cox_batch(d, surv, &null, vp, kp, ap, {}, ws, out, opt);
    for (const CoxFit& f : out) {
      chord += f.chord_iterations;
      null_chord += f.null_chord_iterations;
      ok += f.status == FitStatus::kOk ? 1.0 : 0.0;
    }
  }
  const double fits = static_cast<double>(state.iterations()) * kLanes;
  state.SetItemsProcessed(static_cast<std::int64_t>(fits));
  state.counters["chord_steps"] = benchmark::Counter(chord / fits);
  state.counters["null_chord_steps"] = benchmark::Counter(null_chord / fits);
  state.counters["ok_share"] = benchmark::Counter(ok / fits);
  state.counters["study_s_1thr"] =
      benchmark::Counter(fits / kStudyFits, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_FitCoxBatch)
    ->ArgNames({"n", "p", "drop", "ph"})
    ->Args({40000, 61, 10, 0})
    ->Args({40000, 61, 10, 2})
    ->Unit(benchmark::kMillisecond);

// One chord pass for kLanes fits at the null estimate, every lane on all rows (the rows in risk-set order, as
// fit_cox_batch reads them). Args: n, p, kind (0 the two-sweep pass, 1 the same with the information column of v,
// 2 the one-sweep pass of the later chord steps).
void BM_CoxLanePass(benchmark::State& state) {
  const NullSetup ns(state.range(0), state.range(1), 0.1);
  const SharedDesign& d = ns.d;
  const CoxSurvival& surv = ns.surv;
  const lane_detail::LaneRows rows = ns.rows();
  CoxLanePass cp;
  cp.resize(d, surv);
  for (int b = 0; b < kLanes; ++b) {
    lane_detail::load_theta(d, ns.null.theta, true, b, cp.lp);
    for (Eigen::Index i = 0; i < d.n_samples(); ++i) {
      const auto k = static_cast<std::size_t>(surv.position[static_cast<std::size_t>(i)]);
      cp.lp.v[k][b] = ns.su.s.v(i);
      cp.lp.mask[k][b] = 1.0;
    }
  }
  cox_detail::cox_lane_pass(d, rows, surv, CoxTies::kEfron, false, cp);  // sets the shift
  for (auto _ : state) {
    if (state.range(2) == 2) cox_detail::cox_lane_sweep(d, rows, surv, CoxTies::kEfron, cp);
    else cox_detail::cox_lane_pass(d, rows, surv, CoxTies::kEfron, state.range(2) == 1, cp);
    benchmark::DoNotOptimize(cp.lp.score_pad.data());
  }
  state.SetItemsProcessed(state.iterations() * kLanes);
}
BENCHMARK(BM_CoxLanePass)
    ->ArgNames({"n", "p", "kind"})
    ->Args({40000, 61, 0})
    ->Args({40000, 61, 1})
    ->Args({40000, 61, 2})
    ->Unit(benchmark::kMillisecond);

// The weighted Grams of kLanes fits over the shared rows in risk-set order (kernels/lane_gram.hpp: an exact pass's
// information, each lane with its own weights and v), then each lane's assembled into design order. Args: n, p.
// Time per batch; items = Grams.
void BM_LaneGram(benchmark::State& state) {
  const NullSetup ns(state.range(0), state.range(1), 0.1);
  const SharedDesign& d = ns.d;
  const lane_detail::LaneRows rows = ns.rows();
  const Eigen::Index n = d.n_samples();
  std::vector<Lane> v(static_cast<std::size_t>(n)), w(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i)
    for (int b = 0; b < kLanes; ++b) {
      const Eigen::Index from = (i + 977 * b) % n;
      const bool kept = ns.su.s.keep[static_cast<std::size_t>(from)] != 0;
      v[static_cast<std::size_t>(i)][b] = kept ? ns.su.s.v(from) : 0.0;
      w[static_cast<std::size_t>(i)][b] = kept ? ns.null.r(from) + 0.01 : 0.0;
    }
  LaneGram g;
  LevelGram scratch;
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(d.n_cov() + 1, d.n_cov() + 1);
  for (auto _ : state) {
    lane_gram_reset(d, g);
    for (Eigen::Index i0 = 0; i0 < n; i0 += lane_detail::kBlockRows) {
      const Eigen::Index m = std::min(lane_detail::kBlockRows, n - i0);
      lane_gram_rows(d, rows, v.data() + i0, w.data() + i0, i0, m, g);
    }
    for (int b = 0; b < kLanes; ++b) lane_gram_add_to(d, g, b, 1.0, scratch, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kLanes);
}
BENCHMARK(BM_LaneGram)->ArgNames({"n", "p"})->Args({40000, 61})->Unit(benchmark::kMillisecond);

// Args: n, p, drop percent.
void BM_CoxScoreScreen(benchmark::State& state) {
  const Setup su = make_setup(state.range(0), state.range(1), 0.01 * static_cast<double>(state.range(2)));
  const SharedDesign d = make_shared_design(su.s.raw);
  const CoxSurvival surv = make_cox_survival(su.o.time, su.o.event, su.o.stratum);
  CoxWorkspace ws;
  const CoxNull null = make_cox_null(d, surv, su.s.all, {}, {}, ws);
  for (auto _ : state) benchmark::DoNotOptimize(cox_score_screen(d, null, su.s.v, su.s.keep, ws));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CoxScoreScreen)->ArgNames({"n", "p", "drop"})->Args({40000, 61, 10})->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pwas::kernels

BENCHMARK_MAIN();
