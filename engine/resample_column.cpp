#include <cmath>
#include <limits>

#include "engine/resample.hpp"
#include "kernels/resampling.hpp"

namespace pwas::engine {
namespace {

using Eigen::Index;

// Writes values [n_rows] into column j of 16-column panels.
void put_column(kernels::PackedPanels& p, Index j, const Eigen::VectorXd& values) {
  double* dst = p.panel(j / kernels::kCrossCols) + j % kernels::kCrossCols;
  for (Index i = 0; i < values.size(); ++i) dst[i * kernels::kCrossCols] = values(i);
}

// The chain sum_i fma(a_i, b_i, .) in row order: the bits the cross-product kernel gives for the identity.
double fma_dot(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  double s = 0.0;
  for (Index i = 0; i < a.size(); ++i) s = std::fma(a(i), b(i), s);
  return s;
}

}  // namespace

void prepare_resample_column(const FitPlan& plan, const ResampleShared& sh, const io::ResamplingConfig& rc,
                             FitScratch& sc, ResampleScratch& rs, ResampleBlock& block, Index j) {
  const auto js = static_cast<std::size_t>(j);
  if (!sh.usable || sc.status != kernels::FitStatus::kOk) return;
  const auto& d = plan.design;
  const Index n = d.n_samples();
  const Index last = d.n_cov();
  const Eigen::VectorXd& protein = sc.protein;    // transformed on kept rows
  const Eigen::VectorXd& pred = plan.protein_predictor ? protein : plan.predictor_values;
  const Eigen::VectorXd& outc = plan.protein_outcome ? protein : plan.outcome_values;
  const bool need_psi = rc.bootstrap > 0 || rc.split_half > 0;
  block.beta[js] = sc.beta(last);

  if (!sh.logistic) {
    if (!rs.projector.prepare(d, sc.keep, sc.active, {}, &d.gram)) return;
    rs.e.resize(n);
    rs.projector.residualise(protein, rs.e);       // e_j = M_j protein
    std::int64_t kept = 0;
    for (auto k : sc.keep) kept += k;
    if (rc.permutations > 0) {
      put_column(block.b1, j, rs.e);
      block.ss_protein[js] = fma_dot(rs.e, rs.e);
      block.df[js] = sc.df;
      block.frac[js] = static_cast<double>(kept) / static_cast<double>(n);
      auto& miss = block.missing[js];
      miss.clear();
      double ss_kept = sh.ss_shared;
      for (Index i = 0; i < n; ++i)
        if (!sc.keep[static_cast<std::size_t>(i)]) {
          miss.push_back(static_cast<std::int32_t>(i));
          ss_kept -= sh.a1(i) * sh.a1(i);
        }
      block.observed[js] = kernels::partial_t(fma_dot(sh.a1, rs.e), ss_kept, block.ss_protein[js], sc.df);
    }
    if (need_psi) {
      // Influence of BETA (Frisch–Waugh–Lovell): psi_i = x_i (e_i - beta x_i) / x'x with x, e the predictor and
      // outcome residualised on the covariates over the kept rows.
      rs.u.resize(n);
      rs.v.resize(n);
      if (plan.protein_predictor) rs.u = rs.e;
      else rs.projector.residualise(pred, rs.u);
      if (plan.protein_outcome) rs.v = rs.e;
      else rs.projector.residualise(outc, rs.v);
      const double xx = rs.u.squaredNorm();
      const double b = rs.u.dot(rs.v) / xx;
      rs.w = rs.u.cwiseProduct(rs.v - b * rs.u) / xx;
      put_column(block.psi, j, rs.w);
      block.acceleration[js] = kernels::bca_acceleration({rs.w.data(), static_cast<std::size_t>(n)});
    }
    block.ok[js] = 1;
    return;
  }

  // Logistic: the score statistic of the protein at the covariates-only fit, with the protein residualised on
  // the covariates in the null weights over its kept rows (Potter 2005's permutation of the residualised
  // covariate of interest).
  const Eigen::MatrixXd* full = nullptr;
  const auto& nk = plan.null_model.keep;
  bool all_rows = static_cast<Index>(nk.size()) == n;
  for (auto k : nk) all_rows = all_rows && k;
  if (all_rows) full = &plan.null_model.gram;
  if (rc.permutations > 0) {
    if (!rs.projector.prepare(d, sc.keep, sc.active, {sh.a2.data(), static_cast<std::size_t>(n)}, full)) return;
    rs.e.resize(n);
    rs.projector.residualise(protein, rs.e);
    rs.u = rs.e.cwiseProduct(rs.e);
    put_column(block.b1, j, rs.e);
    put_column(block.b2, j, rs.u);
    block.observed[js] = fma_dot(sh.a1, rs.e) / std::sqrt(fma_dot(sh.a2, rs.u));
  }
  if (need_psi) {
    // Influence of BETA at the full fit: psi_i = v~_i (y_i - mu_i) / (v~' W v~), v~ the protein residualised on
    // the covariates in the fit's weights W = mu (1 - mu) over the kept rows.
    rs.w.setZero(n);
    rs.v.resize(n);
    rs.u.resize(n);
    double beta0 = sc.beta(0);
    for (Index k = 1; k < last; ++k)
      if (sc.active[static_cast<std::size_t>(k)]) beta0 += sc.beta(k) * d.mean(k);
    for (Index i = 0; i < n; ++i) {
      if (!sc.keep[static_cast<std::size_t>(i)]) {
        rs.v(i) = 0.0;
        continue;
      }
      double eta = beta0 + sc.beta(last) * pred(i);
      for (Index k = 1; k < last; ++k)
        if (sc.active[static_cast<std::size_t>(k)]) eta += sc.beta(k) * d.c(i, k);
      const double mu = 1.0 / (1.0 + std::exp(-eta));
      rs.w(i) = mu * (1.0 - mu);
      rs.v(i) = outc(i) - mu;
    }
    if (!rs.projector.prepare(d, sc.keep, sc.active, {rs.w.data(), static_cast<std::size_t>(n)}, nullptr)) return;
    rs.projector.residualise(protein, rs.u);
    const double info = rs.u.cwiseProduct(rs.u).dot(rs.w);
    rs.u = rs.u.cwiseProduct(rs.v) / info;
    put_column(block.psi, j, rs.u);
    block.acceleration[js] = kernels::bca_acceleration({rs.u.data(), static_cast<std::size_t>(n)});
  }
  block.ok[js] = 1;
}

}  // namespace pwas::engine
