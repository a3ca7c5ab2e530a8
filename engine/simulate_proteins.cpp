// Protein values. On its standardised scale z, assay j of person i is
//   z_ij = c_j(covariates_i) + loading_j * F_{module(j), i} + gamma_iso_j * I_i + gamma_lon_j * L_i + e_ij,
//   e_ij ~ N(0, 1 - loading_j^2), F ~ N(0, 1), so Var(z | covariates, exposures) = 1; NPX = mean_j + scale_j * z.
// The exposures cause the proteins (exposure -> protein), so an assay related to a planted one only through its
// module is independent of the exposures given the covariates: its PWAS hits are genuinely false.
//
// Implied odds ratio. If x | E, C ~ N(m(C) + gamma * E, s2) then by Bayes
//   logit P(E = 1 | x, C) = logit P(E = 1 | C) + (gamma / s2) * (x - m(C)) - gamma^2 / (2 * s2),
// so `E ~ x + C` has log-OR gamma / s2 per unit of x, and per SD of the protein
//   log OR_SD = gamma_eff * SD(x) / s2.
// With two correlated exposures, gamma_eff for isolation is gamma_iso + gamma_lon * (P(L|I=1) - P(L|I=0)) and s2
// gains gamma_lon^2 P(L)(1 - P(L)) (and symmetrically for loneliness): a first-order approximation, exact for
// assays planted for one exposure only. SD(x) is the realised SD of the assay at instance 0 before missingness.
#include <algorithm>
#include <cmath>

#include "engine/simulate_model.hpp"
#include "kernels/random_stream.hpp"

namespace pwas::engine::sim {

namespace {

using kernels::RandomStream;

constexpr double kGeneralLoading = 0.3;  // every module factor shares a general factor, as Olink assays do

struct Scratch {
  std::vector<double> cov;    // [n_rows] covariate part c_j
  std::vector<double> x;      // [n_rows] NPX before missingness
  std::vector<double> order;  // [n_rows] copy for the limit-of-detection quantile
};

// Module factors F_k = 0.3 G + sqrt(1 - 0.09) U_k, each N(0, 1): [n_modules x people.size], module-major.
std::vector<double> module_factors(std::uint64_t seed, int n_modules, std::int64_t size, int threads) {
  std::vector<double> general(static_cast<std::size_t>(size));
  RandomStream g(seed, kModuleDraws, 0);
  for (double& v : general) v = g.normal();
  std::vector<double> factors(static_cast<std::size_t>(n_modules) * general.size());
  const double own = std::sqrt(1.0 - kGeneralLoading * kGeneralLoading);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int m = 0; m < n_modules; ++m) {
    RandomStream rs(seed, kModuleDraws, static_cast<std::uint64_t>(m) + 1);
    double* f = factors.data() + static_cast<std::size_t>(m) * general.size();
    for (std::size_t i = 0; i < general.size(); ++i) f[i] = kGeneralLoading * general[i] + own * rs.normal();
  }
  return factors;
}

double covariate_part(const Assay& a, const People& p, std::size_t k) {
  return a.age10 * (p.age[k] - 57.0) * 0.1 + a.male * p.male[k] + a.bmi5 * (p.bmi[k] - 27.4) * 0.2 +
         a.gap1000 * (p.time_gap[k] - 4800.0) * 1e-3 + a.smoking * p.smoking[k] + a.income_low * p.income_low[k] +
         a.alcohol * p.alcohol[k] + a.education[p.education[k]] + a.ethnicity[p.ethnicity[k]] +
         a.batch[p.batch[k]] + a.centre[p.centre[k]];
}

struct Gammas {
  double iso = 0.0;
  double lon = 0.0;
};

// Residual variances s2 of z in `isolation ~ x + C` and `loneliness ~ x + C` (see the top of the file).
double resid_var_iso(const Gammas& g, const ExposureSummary& s) {
  return 1.0 + g.lon * g.lon * s.p_lonely * (1.0 - s.p_lonely);
}
double resid_var_lon(const Gammas& g, const ExposureSummary& s) {
  return 1.0 + g.iso * g.iso * s.p_isolated * (1.0 - s.p_isolated);
}

// The planted coefficients (z scale) that give the assay's target ORs per SD, by fixed-point iteration on
// SD(z)^2 = Var(c + gamma_iso I + gamma_lon L) + 1 over this cohort.
Gammas plant(const Assay& a, const People& p, const std::vector<double>& cov) {
  const bool iso = a.log_or_isolation != 0.0;
  const bool lon = a.log_or_loneliness != 0.0;
  Gammas g{a.log_or_isolation, a.log_or_loneliness};
  if (!iso && !lon) return g;
  const ExposureSummary& s = p.exposure;
  const auto n = static_cast<double>(cov.size());
  for (int iter = 0; iter < 6; ++iter) {
    double sum = 0.0;
    double sum2 = 0.0;
    for (std::size_t r = 0; r < cov.size(); ++r) {
      const auto k = static_cast<std::size_t>(p.olink_rows[r]);
      const double v = cov[r] + g.iso * p.isolated[k] + g.lon * p.lonely[k];
      sum += v;
      sum2 += v * v;
    }
    const double sd = std::sqrt(sum2 / n - (sum / n) * (sum / n) + 1.0);
    const double target_iso = a.log_or_isolation * resid_var_iso(g, s) / sd;  // gamma_eff wanted
    const double target_lon = a.log_or_loneliness * resid_var_lon(g, s) / sd;
    if (iso && lon) {
      // Solve gamma_iso + d_li gamma_lon = target_iso, d_il gamma_iso + gamma_lon = target_lon.
      const double det = 1.0 - s.lonely_given_iso * s.iso_given_lonely;
      g.iso = (target_iso - s.lonely_given_iso * target_lon) / det;
      g.lon = (target_lon - s.iso_given_lonely * target_iso) / det;
    } else if (iso) {
      g.iso = target_iso;
    } else {
      g.lon = target_lon;
    }
  }
  return g;
}

std::int32_t quantize(double npx) {
  return static_cast<std::int32_t>(std::llround(std::clamp(npx, -2.0e5, 2.0e5) * 1e4));
}

// Baseline values of one assay into `column` ([n_rows]) and repeat visits into `v2`, `v3`; its standardised
// values before missingness into `hazard` ([n_rows]) when the assay has hazard ratios; returns its truth.
AssayTruth simulate_assay(std::uint64_t seed, std::int64_t j, const Assay& a, const People& p,
                          const std::vector<double>& factors, Scratch& s, std::int32_t* column, std::int32_t* v2,
                          std::int32_t* v3, float* hazard) {
  const auto n_rows = p.olink_rows.size();
  s.cov.resize(n_rows);
  s.x.resize(n_rows);
  for (std::size_t r = 0; r < n_rows; ++r)
    s.cov[r] = covariate_part(a, p, static_cast<std::size_t>(p.olink_rows[r]));
  const Gammas g = plant(a, p, s.cov);

  RandomStream rs(seed, kProteinDraws, static_cast<std::uint64_t>(j));
  const double noise_sd = std::sqrt(1.0 - a.loading * a.loading);
  const double* f =
      a.module > 0 ? factors.data() + static_cast<std::size_t>(a.module - 1) * p.eid.size() : nullptr;
  // The panel failures already remove kPanelFailRate of the values; the assay's own rate tops that up.
  const double own_rate = std::max(0.0, 1.0 - (1.0 - a.missing_rate) / (1.0 - kPanelFailRate));
  for (std::size_t r = 0; r < n_rows; ++r) {
    const auto k = static_cast<std::size_t>(p.olink_rows[r]);
    double z = s.cov[r] + g.iso * p.isolated[k] + g.lon * p.lonely[k] + noise_sd * rs.normal();
    if (f != nullptr) z += a.loading * f[k];
    s.x[r] = a.mean + a.scale * z;
    const bool panel_failed = (p.panel_fail[k] >> a.panel) & 1u;
    const bool dropped = rs.uniform() < own_rate;
    column[r] = panel_failed || dropped ? kMissingNpx : quantize(s.x[r]);
  }

  AssayTruth t;
  double sum = 0.0;
  for (double v : s.x) sum += v;
  t.mean_npx = sum / static_cast<double>(n_rows);
  double ss = 0.0;
  for (double v : s.x) ss += (v - t.mean_npx) * (v - t.mean_npx);
  t.sd_npx = std::sqrt(ss / static_cast<double>(n_rows - 1));
  if (hazard != nullptr)
    for (std::size_t r = 0; r < n_rows; ++r) hazard[r] = static_cast<float>((s.x[r] - t.mean_npx) / t.sd_npx);

  double lod = -HUGE_VAL;
  if (a.mnar) {
    s.order = s.x;
    const auto q = static_cast<std::ptrdiff_t>(a.lod_quantile * static_cast<double>(n_rows));
    std::nth_element(s.order.begin(), s.order.begin() + q, s.order.end());
    lod = s.order[static_cast<std::size_t>(q)];
    t.lod_npx = lod;
    for (std::size_t r = 0; r < n_rows; ++r)
      if (s.x[r] < lod) column[r] = kMissingNpx;
  }

  // Repeat visits years later: the same protein level drifted a little, measured with its own noise.
  auto repeat = [&](const std::vector<std::int64_t>& rows, std::int32_t* out, double drift) {
    for (std::size_t v = 0; v < rows.size(); ++v) {
      const double x = s.x[static_cast<std::size_t>(rows[v])] + a.scale * (drift + 0.35 * rs.normal());
      const bool dropped = rs.uniform() < own_rate;
      out[v] = dropped || x < lod ? kMissingNpx : quantize(x);
    }
  };
  repeat(p.visit2_rows, v2, 0.05);
  repeat(p.visit3_rows, v3, 0.08);

  std::int64_t missing = 0;
  for (std::size_t r = 0; r < n_rows; ++r) missing += column[r] == kMissingNpx;
  t.missing_fraction = static_cast<double>(missing) / static_cast<double>(n_rows);

  const ExposureSummary& e = p.exposure;
  const double sd_z = t.sd_npx / a.scale;
  t.gamma_isolation = g.iso * a.scale;
  t.gamma_loneliness = g.lon * a.scale;
  t.resid_var = a.scale * a.scale;
  t.or_isolation = std::exp((g.iso + g.lon * e.lonely_given_iso) * sd_z / resid_var_iso(g, e));
  t.or_loneliness = std::exp((g.lon + g.iso * e.iso_given_lonely) * sd_z / resid_var_lon(g, e));
  return t;
}

}  // namespace

ProteinMatrix simulate_proteins(const SimulateOptions& opt, const People& people, const std::vector<Assay>& assays,
                                std::vector<AssayTruth>& truth, int threads) {
  int n_modules = 0;
  for (const Assay& a : assays) n_modules = std::max(n_modules, a.module);
  const std::vector<double> factors = module_factors(opt.seed, n_modules, people.size, threads);

  const auto n_assays = static_cast<std::int64_t>(assays.size());
  ProteinMatrix m;
  m.n_rows = static_cast<std::int64_t>(people.olink_rows.size());
  const auto n2 = static_cast<std::int64_t>(people.visit2_rows.size());
  const auto n3 = static_cast<std::int64_t>(people.visit3_rows.size());
  m.values.resize(static_cast<std::size_t>(n_assays * m.n_rows));
  m.visit2.resize(static_cast<std::size_t>(n_assays * n2));
  m.visit3.resize(static_cast<std::size_t>(n_assays * n3));
  truth.assign(assays.size(), AssayTruth{});
  std::int64_t n_slots = 0;
  for (const Assay& a : assays) n_slots = std::max<std::int64_t>(n_slots, a.hazard_slot + 1);
  m.hazard_z.resize(static_cast<std::size_t>(n_slots * m.n_rows));

  FirstError errors;
#pragma omp parallel num_threads(threads)
  {
    Scratch scratch;
#pragma omp for schedule(dynamic, 4)
    for (std::int64_t j = 0; j < n_assays; ++j) {
      errors.run([&] {
        const Assay& a = assays[static_cast<std::size_t>(j)];
        float* hazard = a.hazard_slot < 0 ? nullptr : m.hazard_z.data() + a.hazard_slot * m.n_rows;
        truth[static_cast<std::size_t>(j)] =
            simulate_assay(opt.seed, j, a, people, factors, scratch, m.values.data() + j * m.n_rows,
                           m.visit2.data() + j * n2, m.visit3.data() + j * n3, hazard);
      });
    }
  }
  errors.rethrow();
  return m;
}

}  // namespace pwas::engine::sim
