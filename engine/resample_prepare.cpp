#include <cmath>
#include <exception>
#include <limits>

#include "engine/resample.hpp"
#include "kernels/gram.hpp"
#include "kernels/resampling.hpp"

namespace pwas::engine {
namespace {

using Eigen::Index;

// Proteins projected together: their columns share each pass over the rows of C.
constexpr Index kGroup = 16;

// Writes values [n_rows] into column j of 16-column panels.
void put_column(kernels::PackedPanels& p, Index j, const double* values, Index n) {
  double* dst = p.panel(j / kernels::kCrossCols) + j % kernels::kCrossCols;
  for (Index i = 0; i < n; ++i) dst[i * kernels::kCrossCols] = values[i];
}

// The chain sum_i fma(a_i, b_i, .) in row order: the bits the cross-product kernel gives for the identity.
double fma_dot(const double* a, const double* b, Index n) {
  double s = 0.0;
  for (Index i = 0; i < n; ++i) s = std::fma(a[i], b[i], s);
  return s;
}

struct Member {
  Index j = -1;                        // column in the block
  FitScratch sc;                       // transformed protein, keep, active
  kernels::KeptRowProjector proj, proj_w;
  Eigen::VectorXd e, u, v, w, resid;   // [n_rows]
};

// out = M z for every member at once: `which` picks the member's projector, `in` its input vector.
template <class In>
void project(const std::vector<Member*>& ms, kernels::KeptRowProjector Member::*which, In in,
             Eigen::VectorXd Member::*out) {
  std::vector<kernels::KeptRowProjector*> p;
  std::vector<const double*> z;
  std::vector<double*> o;
  for (Member* m : ms) {
    p.push_back(&(m->*which));
    z.push_back(in(*m));
    o.push_back((m->*out).data());
  }
  kernels::KeptRowProjector::residualise_many(p, z, o);
}

// Columns [first, first + kGroup) of the block: fits each protein (fit_one), then prepares its resampling
// columns from the fit's own transformed protein and rows.
void fit_and_prepare_group(const FitPlan& plan, const ResampleShared& sh, const io::ResamplingConfig& rc,
                           const FitSettings& s, const Eigen::MatrixXf& values, const std::vector<std::int64_t>& ids,
                           const std::vector<std::string>& names, ResampleBlock& block, Index first,
                           std::vector<Member>& members, std::vector<ProteinRows>& out) {
  const auto& d = plan.design;
  const Index n = d.n_samples();
  const Index last = d.n_cov();
  const bool need_psi = rc.bootstrap > 0 || rc.split_half > 0;
  std::vector<Member*> live;
  for (Index t = 0; t < kGroup && first + t < block.k; ++t) {
    Member& m = members[static_cast<std::size_t>(t)];
    m.j = first + t;
    const auto js = static_cast<std::size_t>(m.j);
    ProteinRows& slot = out[js];
    slot.protein = ids[js];
    slot.rows = fit_one(plan, values.col(m.j).data(), names[js], s, m.sc);
    if (m.sc.status != kernels::FitStatus::kOk) continue;   // the fit failed: no resampling for it
    block.fit_beta[js] = m.sc.beta;
    block.fit_df[js] = m.sc.df;
    const std::span<const double> w0 = sh.logistic ? std::span<const double>(sh.a2.data(), static_cast<std::size_t>(n))
                                                   : std::span<const double>();
    const Eigen::MatrixXd* full = sh.logistic ? (sh.null_all_rows ? &plan.null_model.gram : nullptr) : &d.gram;
    if (!m.proj.prepare(d, m.sc.keep, m.sc.active, w0, full)) continue;
    m.e.resize(n);
    live.push_back(&m);
  }
  if (live.empty()) return;
  // e = M protein: linear e_j, logistic the protein residualised in the null weights (Potter 2005).
  project(live, &Member::proj, [](Member& m) { return m.sc.protein.data(); }, &Member::e);

  for (Member* m : live) {
    const auto js = static_cast<std::size_t>(m->j);
    block.beta[js] = block.fit_beta[js](last);
    if (rc.permutations > 0) {
      put_column(block.b1, m->j, m->e.data(), n);
      if (sh.logistic) {
        m->u = m->e.cwiseProduct(m->e);
        put_column(block.b2, m->j, m->u.data(), n);
        block.observed[js] = fma_dot(sh.a1.data(), m->e.data(), n) / std::sqrt(fma_dot(sh.a2.data(), m->u.data(), n));
      } else {
        m->u.resize(n);
        double ss_kept = 0.0;
        std::int64_t kept = 0;
        for (Index i = 0; i < n; ++i) {
          const bool k = m->sc.keep[static_cast<std::size_t>(i)] != 0;
          m->u(i) = k ? 1.0 : 0.0;
          kept += k;
        }
        put_column(block.b2, m->j, m->u.data(), n);
        // The kept-row sum of squares of e_s as the kernel forms it for the identity permutation.
        m->w = sh.a1.cwiseProduct(sh.a1);
        ss_kept = fma_dot(m->w.data(), m->u.data(), n);
        block.ss_protein[js] = fma_dot(m->e.data(), m->e.data(), n);
        block.df[js] = block.fit_df[js];
        block.frac[js] = static_cast<double>(kept) / static_cast<double>(n);
        block.observed[js] = kernels::partial_t(fma_dot(sh.a1.data(), m->e.data(), n), ss_kept, block.ss_protein[js],
                                                block.df[js]);
      }
    }
    block.ok[js] = 1;
  }
  if (!need_psi) return;

  if (!sh.logistic) {
    // Influence of BETA (Frisch–Waugh–Lovell): psi_i = x_i (r_i - beta x_i) / x'x with x and r the predictor and
    // the outcome residualised on the covariates over the kept rows; one of them is the protein's e.
    const Eigen::VectorXd& other = plan.protein_outcome ? plan.predictor_values : plan.outcome_values;
    for (Member* m : live) m->v.resize(n);
    project(live, &Member::proj, [&](Member&) { return other.data(); }, &Member::v);
    for (Member* m : live) {
      const Eigen::VectorXd& x = plan.protein_predictor ? m->e : m->v;
      const Eigen::VectorXd& r = plan.protein_outcome ? m->e : m->v;
      const double xx = x.squaredNorm();
      const double b = x.dot(r) / xx;
      m->w = x.cwiseProduct(r - b * x) / xx;
      put_column(block.psi, m->j, m->w.data(), n);
      block.acceleration[static_cast<std::size_t>(m->j)] = kernels::bca_acceleration({m->w.data(), static_cast<std::size_t>(n)});
    }
    return;
  }
  // Logistic: psi_i = v~_i (y_i - mu_i) / (v~' W v~) at the fit, v~ the protein residualised in the fit's weights
  // W = mu (1 - mu) over the kept rows.
  std::vector<Member*> weighted;
  const Index stride = d.c_rows.cols();
  std::vector<Index> kept;
  Eigen::VectorXd theta(stride), eta;
  for (Member* m : live) {
    const auto& beta = block.fit_beta[static_cast<std::size_t>(m->j)];
    // eta = beta0 + sum_k beta_k (c_ik + mean_k) + beta_v v_i over the kept rows, reading C row by row.
    double beta0 = beta(0);
    theta.setZero();
    for (Index k = 1; k < last; ++k)
      if (m->sc.active[static_cast<std::size_t>(k)]) {
        beta0 += beta(k) * d.mean(k);
        theta(k) = beta(k);
      }
    kept.clear();
    for (Index i = 0; i < n; ++i)
      if (m->sc.keep[static_cast<std::size_t>(i)]) kept.push_back(i);
    eta.resize(static_cast<Index>(kept.size()));
    kernels::rows_dot(d.c_rows.data(), stride, kept.data(), static_cast<Index>(kept.size()), theta.data(), eta.data());
    m->w.setZero(n);
    m->resid.setZero(n);
    for (std::size_t t = 0; t < kept.size(); ++t) {
      const Index i = kept[t];
      const double mu = 1.0 / (1.0 + std::exp(-(beta0 + eta(static_cast<Index>(t)) + beta(last) * m->sc.protein(i))));
      m->w(i) = mu * (1.0 - mu);
      m->resid(i) = plan.outcome_values(i) - mu;
    }
    if (!m->proj_w.prepare(d, m->sc.keep, m->sc.active, {m->w.data(), static_cast<std::size_t>(n)}, nullptr)) {
      block.ok[static_cast<std::size_t>(m->j)] = 0;
      continue;
    }
    m->v.resize(n);
    weighted.push_back(m);
  }
  if (weighted.empty()) return;
  project(weighted, &Member::proj_w, [](Member& m) { return m.sc.protein.data(); }, &Member::v);
  for (Member* m : weighted) {
    const double info = m->v.cwiseProduct(m->v).dot(m->w);
    m->u = m->v.cwiseProduct(m->resid) / info;
    put_column(block.psi, m->j, m->u.data(), n);
    block.acceleration[static_cast<std::size_t>(m->j)] = kernels::bca_acceleration({m->u.data(), static_cast<std::size_t>(n)});
  }
}

}  // namespace

std::vector<std::vector<ProteinRows>> fit_and_prepare_block(const std::vector<FitPlan>& plans, const FitSettings& s,
                                                            const Eigen::MatrixXf& values,
                                                            const std::vector<std::int64_t>& ids,
                                                            const std::vector<std::string>& names, int threads,
                                                            BlockResampling& br) {
  const Index k = values.cols();
  const Index groups = (k + kGroup - 1) / kGroup;
  const auto n_plans = static_cast<Index>(plans.size());
  std::vector<std::vector<ProteinRows>> out(plans.size(), std::vector<ProteinRows>(static_cast<std::size_t>(k)));
  std::exception_ptr error;
#pragma omp parallel num_threads(threads)
  {
    std::vector<Member> members(static_cast<std::size_t>(kGroup));
#pragma omp for schedule(dynamic, 1)
    for (Index task = 0; task < groups * n_plans; ++task) {
      const auto p = static_cast<std::size_t>(task / groups);
      try {
        fit_and_prepare_group(plans[p], (*br.shared)[p], *br.config, s, values, ids, names, br.blocks[p],
                              (task % groups) * kGroup, members, out[p]);
      } catch (...) {
#pragma omp critical(pwas_resample_prepare_error)
        if (!error) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
  return out;
}

}  // namespace pwas::engine
