#include "engine/resample.hpp"

#include <cmath>
#include <limits>

namespace pwas::engine {

std::vector<std::string> resample_columns(const io::ResamplingConfig& rc) {
  std::vector<std::string> c;
  if (rc.permutations > 0) {
    c.insert(c.end(), {"T_PERM", "P_PERM", "N_PERM"});
    if (rc.max_t) c.push_back("P_MAXT");
  }
  if (rc.bootstrap > 0) c.insert(c.end(), {"BOOT_L95", "BOOT_U95"});
  return c;
}

ResampleShared make_resample_shared(const FitPlan& plan, const FitSettings& s) {
  ResampleShared sh;
  const auto& d = plan.design;
  const Eigen::Index n = d.n_samples();
  {
    const Eigen::VectorXd& side = plan.protein_outcome ? plan.predictor_values : plan.outcome_values;
    bool binary = side.size() == n;
    for (Eigen::Index i = 0; binary && i < n; ++i) binary = side(i) == 0.0 || side(i) == 1.0;
    sh.strata.assign(static_cast<std::size_t>(n), 0);
    if (binary)
      for (Eigen::Index i = 0; i < n; ++i) sh.strata[static_cast<std::size_t>(i)] = side(i) == 1.0 ? 1 : 0;
  }
  sh.logistic = s.model == io::ModelKind::kLogistic;
  if (sh.logistic) {
    if (!plan.null_model.ok()) return sh;
    // Null residuals and weights on every plan row from the covariates-only fit (its centred parametrisation).
    const Eigen::VectorXd eta = d.c * plan.null_model.theta;
    sh.a1.resize(n);
    sh.a2.resize(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      const double mu = 1.0 / (1.0 + std::exp(-eta(i)));
      sh.a1(i) = plan.outcome_values(i) - mu;
      sh.a2(i) = mu * (1.0 - mu);
    }
    sh.null_all_rows = static_cast<Eigen::Index>(plan.null_model.keep.size()) == n;
    for (auto k : plan.null_model.keep) sh.null_all_rows = sh.null_all_rows && k != 0;
    sh.usable = true;
    return sh;
  }
  // Linear: the non-protein side residualised on the covariates over every plan row (Freedman–Lane's reduced
  // model, for the symmetric partial correlation of protein and s given C).
  const Eigen::VectorXd& side = plan.protein_outcome ? plan.predictor_values : plan.outcome_values;
  const std::vector<std::uint8_t> all(static_cast<std::size_t>(n), 1);
  kernels::KeptRowProjector proj;
  if (!proj.prepare(d, all, {}, {}, &d.gram)) return sh;
  sh.a1.resize(n);
  proj.residualise(side, sh.a1);
  double ss = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) ss = std::fma(sh.a1(i), sh.a1(i), ss);
  sh.ss_shared = ss;
  Eigen::MatrixXd g = d.gram;
  sh.gram_inverse = g.selfadjointView<Eigen::Lower>().llt().solve(Eigen::MatrixXd::Identity(d.n_cov(), d.n_cov()));
  const Eigen::Index panels = (d.n_cov() + kernels::kCrossCols - 1) / kernels::kCrossCols;
  sh.covariates.resize(n, panels, kernels::kCrossCols);
  for (Eigen::Index j = 0; j < d.n_cov(); ++j) {
    double* p = sh.covariates.panel(j / kernels::kCrossCols) + j % kernels::kCrossCols;
    for (Eigen::Index i = 0; i < n; ++i) p[i * kernels::kCrossCols] = d.c(i, j);
  }
  sh.usable = true;
  return sh;
}

std::int64_t resample_block_proteins(const std::vector<FitPlan>& plans, const io::ResamplingConfig& rc,
                                     bool logistic, double budget_bytes) {
  static_cast<void>(logistic);
  const double sets = (rc.permutations > 0 ? 2.0 : 0.0) + (rc.bootstrap > 0 || rc.split_half > 0 ? 1.0 : 0.0);
  double per_protein = 0.0;
  for (const auto& p : plans) per_protein += static_cast<double>(p.rows.size()) * 8.0 * sets;
  const auto k = static_cast<std::int64_t>(budget_bytes / std::max(1.0, per_protein));
  return std::max<std::int64_t>(kernels::kCrossCols, k / kernels::kCrossCols * kernels::kCrossCols);
}

void ResampleBlock::resize(Eigen::Index n_rows, Eigen::Index columns, const io::ResamplingConfig& rc, bool logistic) {
  k = columns;
  const Eigen::Index panels = (columns + kernels::kCrossCols - 1) / kernels::kCrossCols;
  if (rc.permutations > 0) {
    b1.resize(n_rows, panels, kernels::kCrossCols);
    b2.resize(n_rows, panels, kernels::kCrossCols);
  }
  if (rc.bootstrap > 0 || rc.split_half > 0) psi.resize(n_rows, panels, kernels::kCrossCols);
  const auto kk = static_cast<std::size_t>(columns);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  ok.assign(kk, 0);
  observed.assign(kk, nan);
  ss_protein.assign(kk, nan);
  df.assign(kk, nan);
  frac.assign(kk, nan);
  fit_beta.assign(kk, Eigen::VectorXd());
  beta.assign(kk, nan);
  acceleration.assign(kk, 0.0);
}

}  // namespace pwas::engine
