#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/resample.hpp"
#include "kernels/resampling.hpp"

namespace pwas::engine {
namespace {

using Eigen::Index;
using kernels::kCrossCols;
using kernels::kCrossRows;
using kernels::PackedPanels;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Replicates per task: 8 panels of A. With Besag–Clifford stopping, stops are decided after rounds of this many.
constexpr Index kTaskReplicates = 64;
constexpr Index kRoundReplicates = 512;

// The panels of the listed columns only (the kernel's per-element chains make the result of a column
// independent of which others are in the product).
PackedPanels compact(const PackedPanels& src, const std::vector<Index>& cols) {
  PackedPanels out;
  const auto k = static_cast<Index>(cols.size());
  out.resize(src.n, (k + kCrossCols - 1) / kCrossCols, kCrossCols);
  for (Index t = 0; t < k; ++t) {
    const Index j = cols[static_cast<std::size_t>(t)];
    const double* s = src.panel(j / kCrossCols) + j % kCrossCols;
    double* d = out.panel(t / kCrossCols) + t % kCrossCols;
    for (Index i = 0; i < src.n; ++i) d[i * kCrossCols] = s[i * kCrossCols];
  }
  return out;
}

// The rows of replicates [r0, r0 + count) in A panels: value(r, i) for row i of replicate r.
template <class Fill>
void fill_panels(PackedPanels& a, Index count, Fill fill) {
  const Index n = a.n;
  std::fill(a.data.begin(), a.data.end(), 0.0);
  for (Index rr = 0; rr < count; ++rr) fill(rr, a.panel(rr / kCrossRows) + rr % kCrossRows, n);
}

struct TaskBuffers {
  PackedPanels a1, a2;
  std::vector<std::uint32_t> order;
  std::vector<double> c1, c2, ccov;
  std::vector<std::int64_t> exceed;
  void size(Index n, Index ldc, Index ldcov, bool two, std::size_t k) {
    if (a1.n != n) {
      a1.resize(n, kTaskReplicates / kCrossRows, kCrossRows);
      if (two) a2.resize(n, kTaskReplicates / kCrossRows, kCrossRows);
      order.resize(static_cast<std::size_t>(n));
    }
    c1.assign(static_cast<std::size_t>(kTaskReplicates * ldc), 0.0);
    if (two) c2.assign(static_cast<std::size_t>(kTaskReplicates * ldc), 0.0);
    if (ldcov > 0) ccov.assign(static_cast<std::size_t>(kTaskReplicates * ldcov), 0.0);
    if (exceed.size() != k) exceed.assign(k, 0);
  }
};

// Runs `body(task_first_replicate, count, buffers)` over [first, last) in tasks of kTaskReplicates on `threads`
// threads; an exception in a task is rethrown after the loop.
template <class Body>
void for_tasks(Index first, Index last, int threads, std::vector<TaskBuffers>& buffers, Body body) {
  const Index tasks = (last - first + kTaskReplicates - 1) / kTaskReplicates;
  std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (Index t = 0; t < tasks; ++t) {
    int me = 0;
#ifdef _OPENMP
    me = omp_get_thread_num();
#endif
    try {
      const Index r0 = first + t * kTaskReplicates;
      body(r0, std::min(kTaskReplicates, last - r0), buffers[static_cast<std::size_t>(me)]);
    } catch (...) {
#pragma omp critical(pwas_resample_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

// Multiply-adds x 2 of the products of one task of `count` replicates against `cols` padded columns.
double product_flops(Index n, Index cols) { return 2.0 * static_cast<double>(n) * static_cast<double>(kTaskReplicates) * static_cast<double>(cols); }

double permutations(const FitPlan& plan, const ResampleShared& sh, const ResampleBlock& block,
                    const io::ResamplingConfig& rc, std::uint64_t seed, int threads, std::vector<ProteinRows>& rows,
                    std::vector<double>& replicate_max, std::size_t col_t) {
  double flops = 0.0;
  const Index n = static_cast<Index>(plan.rows.size());
  const Index total = rc.permutations;
  std::vector<Index> active(static_cast<std::size_t>(block.k));
  for (Index j = 0; j < block.k; ++j) active[static_cast<std::size_t>(j)] = j;
  std::vector<std::int64_t> exceed(static_cast<std::size_t>(block.k), 0), used(static_cast<std::size_t>(block.k), 0);
  std::vector<std::uint8_t> stopped(static_cast<std::size_t>(block.k), 0);
  const Index n_cov = plan.design.n_cov();
  const Index ldcov = sh.logistic ? 0 : sh.covariates.panels * kCrossCols;
  std::vector<TaskBuffers> buffers(static_cast<std::size_t>(std::max(1, threads)));
  const Index round = rc.permutation_stop > 0 ? kRoundReplicates : total;
  for (Index r_first = 0; r_first < total && !active.empty(); r_first += round) {
    const Index r_last = std::min(total, r_first + round);
    // Every column of the block while none has stopped (failed fits are zero columns); the still-active ones after.
    const bool all = static_cast<Index>(active.size()) == block.k;
    PackedPanels b1_active, b2_active;
    if (!all) {
      b1_active = compact(block.b1, active);
      b2_active = compact(block.b2, active);
    }
    const PackedPanels& b1 = all ? block.b1 : b1_active;
    const PackedPanels& b2 = all ? block.b2 : b2_active;
    const Index ldc = b1.panels * kCrossCols;
    const auto k = active.size();
    for (auto& b : buffers) b.exceed.assign(k, 0);
    for_tasks(r_first, r_last, threads, buffers, [&](Index r0, Index count, TaskBuffers& tb) {
      tb.size(n, ldc, ldcov, true, k);
      auto permuted = [&](const Eigen::VectorXd& v, PackedPanels& a) {
        fill_panels(a, count, [&](Index rr, double* dst, Index rows_n) {
          kernels::shared_permutation(seed, static_cast<std::uint64_t>(r0 + rr), tb.order);
          for (Index i = 0; i < rows_n; ++i) dst[i * kCrossRows] = v(tb.order[static_cast<std::size_t>(i)]);
          // Second product's rows: logistic the permuted null weights, linear the squares of P e_s (against the
          // kept-row masks: the kept-row sum of squares of the permuted residuals).
          double* dst2 = tb.a2.panel(rr / kCrossRows) + rr % kCrossRows;
          for (Index i = 0; i < rows_n; ++i) {
            const double x = sh.logistic ? sh.a2(tb.order[static_cast<std::size_t>(i)]) : dst[i * kCrossRows];
            dst2[i * kCrossRows] = sh.logistic ? x : x * x;
          }
        });
      };
      std::fill(tb.a2.data.begin(), tb.a2.data.end(), 0.0);
      permuted(sh.a1, tb.a1);
      kernels::cross_product_add(tb.a1, b1, tb.c1.data(), ldc);
      kernels::cross_product_add(tb.a2, b2, tb.c2.data(), ldc);
      if (!sh.logistic) kernels::cross_product_add(tb.a1, sh.covariates, tb.ccov.data(), ldcov);
      for (Index rr = 0; rr < count; ++rr) {
        double corr = 0.0;   // linear: ||H P e_s||^2 = g' (C'C)^-1 g, g = C' P e_s (Freedman–Lane's refit)
        if (!sh.logistic) {
          const Eigen::Map<const Eigen::VectorXd> g(tb.ccov.data() + rr * ldcov, n_cov);
          corr = g.dot(sh.gram_inverse * g);
        }
        double best = 0.0;
        for (std::size_t t = 0; t < k; ++t) {
          const auto j = static_cast<std::size_t>(active[t]);
          if (!block.ok[j]) continue;
          const double num = tb.c1[static_cast<std::size_t>(rr * ldc) + t];
          const double den = tb.c2[static_cast<std::size_t>(rr * ldc) + t];
          const double stat_signed = sh.logistic ? num / std::sqrt(den)
                                                 : kernels::partial_t(num, den - corr * block.frac[j],
                                                                      block.ss_protein[j], block.df[j]);
          double stat = stat_signed;
          stat = std::fabs(stat);
          if (!(stat < std::fabs(block.observed[j]))) ++tb.exceed[t];
          if (stat > best) best = stat;
        }
        if (!replicate_max.empty()) {
          double& m = replicate_max[static_cast<std::size_t>(r0 + rr)];
          m = std::max(m, best);
        }
      }
    });
    const Index tasks = (r_last - r_first + kTaskReplicates - 1) / kTaskReplicates;
    flops += static_cast<double>(tasks) * product_flops(n, 2 * ldc + ldcov);
    for (std::size_t t = 0; t < k; ++t) {
      const auto j = static_cast<std::size_t>(active[t]);
      for (const auto& b : buffers) exceed[j] += b.exceed[t];
      used[j] = r_last;
    }
    if (rc.permutation_stop > 0) {
      std::vector<Index> still;
      for (Index j : active) {
        const auto js = static_cast<std::size_t>(j);
        if (exceed[js] >= rc.permutation_stop) stopped[js] = 1;
        else still.push_back(j);
      }
      active.swap(still);
    }
  }
  for (Index j = 0; j < block.k; ++j) {
    const auto js = static_cast<std::size_t>(j);
    if (!block.ok[js]) continue;
    auto& e = rows[js].rows.back().extra;
    e[col_t] = block.observed[js];
    e[col_t + 1] = kernels::permutation_p(exceed[js], used[js], stopped[js] != 0);
    e[col_t + 2] = static_cast<double>(used[js]);
  }
  return flops;
}

double bootstrap(const FitPlan& plan, const ResampleBlock& block, const io::ResamplingConfig& rc, std::uint64_t seed,
                 int threads, std::vector<ProteinRows>& rows, std::size_t col_l) {
  const Index n = static_cast<Index>(plan.rows.size());
  const Index total = rc.bootstrap;
  std::vector<Index> active;
  for (Index j = 0; j < block.k; ++j)
    if (block.ok[static_cast<std::size_t>(j)]) active.push_back(j);
  if (active.empty()) return 0.0;
  const PackedPanels psi_active = static_cast<Index>(active.size()) == block.k ? PackedPanels{} : compact(block.psi, active);
  const PackedPanels& psi = static_cast<Index>(active.size()) == block.k ? block.psi : psi_active;
  const Index ldc = psi.panels * kCrossCols;
  const auto k = active.size();
  Eigen::MatrixXd boot(total, static_cast<Index>(k));   // [replicates x proteins]
  std::vector<TaskBuffers> buffers(static_cast<std::size_t>(std::max(1, threads)));
  std::vector<double> w(static_cast<std::size_t>(n));
  for_tasks(0, total, threads, buffers, [&](Index r0, Index count, TaskBuffers& tb) {
    tb.size(n, ldc, 0, false, k);
    std::vector<double> weights(static_cast<std::size_t>(n));
    fill_panels(tb.a1, count, [&](Index rr, double* dst, Index rows_n) {
      kernels::poisson_weights(seed, static_cast<std::uint64_t>(r0 + rr), weights);
      for (Index i = 0; i < rows_n; ++i) dst[i * kCrossRows] = weights[static_cast<std::size_t>(i)] - 1.0;
    });
    kernels::cross_product_add(tb.a1, psi, tb.c1.data(), ldc);
    // One step of the estimating equation from the estimate (Hu & Kalbfleisch 2000): beta* = beta + sum (w - 1) psi.
    for (Index rr = 0; rr < count; ++rr)
      for (std::size_t t = 0; t < k; ++t)
        boot(r0 + rr, static_cast<Index>(t)) =
            block.beta[static_cast<std::size_t>(active[t])] + tb.c1[static_cast<std::size_t>(rr * ldc) + t];
  });
  for (std::size_t t = 0; t < k; ++t) {
    const auto j = static_cast<std::size_t>(active[t]);
    const kernels::Interval ci = kernels::bootstrap_interval({boot.col(static_cast<Index>(t)).data(), static_cast<std::size_t>(total)},
                                                             block.beta[j], rc.bootstrap_bca, block.acceleration[j]);
    auto& e = rows[j].rows.back().extra;
    e[col_l] = ci.lower;
    e[col_l + 1] = ci.upper;
  }
  return static_cast<double>((total + kTaskReplicates - 1) / kTaskReplicates) * product_flops(n, ldc);
}

// Split half: D_sj = sum_i sign_si psi_ij for split s (+1 in half A, -1 in half B), so that the one-step
// estimates of the halves are BETA + D (A) and BETA - D (B) (weights 2 and 0 in the estimating equation).
double split_halves(const FitPlan& plan, const ResampleShared& sh, const ResampleBlock& block,
                    const io::ResamplingConfig& rc, std::uint64_t seed, int threads, std::vector<ProteinRows>& rows) {
  const Index n = static_cast<Index>(plan.rows.size());
  const Index total = rc.split_half;
  const Index ldc = block.psi.panels * kCrossCols;
  for (Index j = 0; j < block.k; ++j) {
    const auto js = static_cast<std::size_t>(j);
    if (block.ok[js]) rows[js].split.assign(static_cast<std::size_t>(total), kNaN);
  }
  std::vector<TaskBuffers> buffers(static_cast<std::size_t>(std::max(1, threads)));
  for_tasks(0, total, threads, buffers, [&](Index r0, Index count, TaskBuffers& tb) {
    tb.size(n, ldc, 0, false, 0);
    std::vector<double> sign(static_cast<std::size_t>(n));
    fill_panels(tb.a1, count, [&](Index rr, double* dst, Index rows_n) {
      kernels::half_split(seed, static_cast<std::uint64_t>(r0 + rr), sh.strata, sign);
      for (Index i = 0; i < rows_n; ++i) dst[i * kCrossRows] = sign[static_cast<std::size_t>(i)];
    });
    kernels::cross_product_add(tb.a1, block.psi, tb.c1.data(), ldc);
    for (Index rr = 0; rr < count; ++rr)
      for (Index j = 0; j < block.k; ++j)
        if (block.ok[static_cast<std::size_t>(j)])
          rows[static_cast<std::size_t>(j)].split[static_cast<std::size_t>(r0 + rr)] = tb.c1[static_cast<std::size_t>(rr * ldc + j)];
  });
  return static_cast<double>((total + kTaskReplicates - 1) / kTaskReplicates) * product_flops(n, ldc);
}

}  // namespace

double run_replicates(const FitPlan& plan, const ResampleShared& sh, const ResampleBlock& block,
                      const io::ResamplingConfig& rc, std::uint64_t seed, int threads, std::vector<ProteinRows>& rows,
                      std::vector<double>& replicate_max) {
  const std::vector<std::string> cols = resample_columns(rc);
  for (auto& pr : rows)
    for (auto& r : pr.rows) r.extra.assign(cols.size(), kNaN);
  if (!sh.usable) return 0.0;
  double flops = 0.0;
  std::size_t at = 0;
  if (rc.permutations > 0) {
    flops += permutations(plan, sh, block, rc, seed, threads, rows, replicate_max, at);
    at += rc.max_t ? 4 : 3;
  }
  if (rc.bootstrap > 0) flops += bootstrap(plan, block, rc, seed, threads, rows, at);
  if (rc.split_half > 0) flops += split_halves(plan, sh, block, rc, seed, threads, rows);
  return flops;
}

void fill_max_t(const io::ResamplingConfig& rc, const std::vector<double>& replicate_max,
                std::vector<io::ResultRow>& rows) {
  if (!rc.max_t) return;
  std::vector<double> sorted = replicate_max;
  std::sort(sorted.begin(), sorted.end());
  for (auto& r : rows) {
    if (r.extra.size() < 4 || std::isnan(r.extra[0])) continue;
    // Replicates whose proteome-wide maximum reaches this row's observed statistic.
    const double obs = std::fabs(r.extra[0]);
    const auto reach = static_cast<std::int64_t>(sorted.end() - std::lower_bound(sorted.begin(), sorted.end(), obs));
    r.extra[3] = kernels::permutation_p(reach, static_cast<std::int64_t>(sorted.size()), false);
  }
}

}  // namespace pwas::engine
