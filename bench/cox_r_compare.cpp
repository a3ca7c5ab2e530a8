// C++ side of bench/cox_vs_r.sh: reads the cohort that cox_vs_r.R simulated and timed R on, fits every protein
// with fit_cox_batch (batches of kLanes as in the engine; Efron, cox.zph with GLOBAL, the null model on all rows
// reused as R cannot), one thread, and prints the time per fit, with cox.zph against R's coxph + cox.zph and without
// it against coxph alone, and the largest relative differences from R's estimates.
// Usage: cox_r_compare DIR   (reads DIR/cohort.tsv and DIR/r_fits.tsv)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "kernels/cox.hpp"
#include "tests/kernels/tsv.hpp"

int main(int argc, char** argv) {
  using namespace pwas::kernels;
  if (argc != 2) {
    std::fprintf(stderr, "usage: cox_r_compare DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  const testing::Table cohort = testing::read_tsv(dir + "/cohort.tsv");
  const testing::Table r = testing::read_tsv(dir + "/r_fits.tsv");
  const auto n = static_cast<Eigen::Index>(cohort.rows.size());
  std::vector<std::string> xs, vs;
  for (const auto& c : cohort.names) {
    if (c.size() > 1 && c[0] == 'x') xs.push_back(c);
    if (c.size() > 1 && c[0] == 'v') vs.push_back(c);
  }
  Eigen::MatrixXd raw(n, 1 + static_cast<Eigen::Index>(xs.size()));
  raw.col(0).setOnes();
  for (std::size_t j = 0; j < xs.size(); ++j) {
    const auto col = cohort.column(xs[j]);
    raw.col(static_cast<Eigen::Index>(j) + 1) = Eigen::Map<const Eigen::VectorXd>(col.data(), n);
  }
  const auto t = cohort.column("time"), e = cohort.column("event");
  const Eigen::VectorXd time = Eigen::Map<const Eigen::VectorXd>(t.data(), n);
  std::vector<std::uint8_t> event(static_cast<std::size_t>(n)), all(static_cast<std::size_t>(n), 1);
  for (Eigen::Index i = 0; i < n; ++i) event[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(e[static_cast<std::size_t>(i)]);

  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const SharedDesign d = make_shared_design(raw);
  const CoxSurvival surv = make_cox_survival(time, event, {});
  CoxWorkspace ws;
  const CoxNull null = make_cox_null(d, surv, all, {}, {}, ws);
  const double setup_s = std::chrono::duration<double>(Clock::now() - t0).count();

  const auto r_coef = r.column("coef"), r_se = r.column("se"), r_ll = r.column("loglik"),
             r_zv = r.column("zph_v_chisq"), r_zg = r.column("zph_global_chisq"), r_sc = r.column("sec_coxph"),
             r_sz = r.column("sec_zph");
  double fit_s = 0.0, d_coef = 0.0, d_se = 0.0, d_ll = 0.0, d_zph = 0.0, r_coxph_s = 0.0, r_zph_s = 0.0;
  int ok = 0;
  // Proteins in batches of kLanes, as the engine fits them (fit_cox_batch: the chord steps share their passes).
  std::vector<Eigen::VectorXd> v(vs.size());
  std::vector<std::vector<std::uint8_t>> keep(vs.size());
  for (std::size_t k = 0; k < vs.size(); ++k) {
    const auto col = cohort.column(vs[k]);
    v[k] = Eigen::Map<const Eigen::VectorXd>(col.data(), n);
    keep[k].resize(static_cast<std::size_t>(n));
    for (Eigen::Index i = 0; i < n; ++i) keep[k][static_cast<std::size_t>(i)] = std::isnan(v[k](i)) ? 0 : 1;
  }
  std::vector<CoxFit> fits(vs.size()), fits_no_ph(vs.size());
  const std::vector<std::span<const std::uint8_t>> no_mask(kLanes);
  CoxOptions no_ph;
  no_ph.ph_test = false;
  double fit_no_ph_s = 0.0;
  for (std::size_t k0 = 0; k0 < vs.size(); k0 += kLanes) {
    const std::size_t m = std::min<std::size_t>(kLanes, vs.size() - k0);
    std::vector<const double*> vp;
    std::vector<std::span<const std::uint8_t>> kp;
    for (std::size_t k = k0; k < k0 + m; ++k) {
      vp.push_back(v[k].data());
      kp.emplace_back(keep[k]);
    }
    const auto f0 = Clock::now();
    fit_cox_batch(d, surv, &null, vp, kp, std::span(no_mask.data(), m), {}, ws, std::span(fits.data() + k0, m));
    const auto f1 = Clock::now();
    fit_cox_batch(d, surv, &null, vp, kp, std::span(no_mask.data(), m), {}, ws, std::span(fits_no_ph.data() + k0, m),
                  no_ph);
    fit_s += std::chrono::duration<double>(f1 - f0).count();
    fit_no_ph_s += std::chrono::duration<double>(Clock::now() - f1).count();
  }
  for (std::size_t k = 0; k < vs.size(); ++k) {
    const CoxFit& f = fits[k];
    ok += f.status == FitStatus::kOk;
    const Eigen::Index jv = d.n_cov();
    auto rel = [](double a, double b) { return std::abs(a - b) / std::abs(b); };
    d_coef = std::max(d_coef, rel(f.beta(jv), r_coef[k]));
    d_se = std::max(d_se, rel(f.se(jv), r_se[k]));
    d_ll = std::max(d_ll, rel(f.loglik, r_ll[k]));
    d_zph = std::max({d_zph, rel(f.ph_chisq, r_zv[k]), rel(f.ph_global_chisq, r_zg[k])});
    r_coxph_s += r_sc[k];
    r_zph_s += r_sz[k];
  }
  const double m = static_cast<double>(vs.size());
  std::printf("n %ld, covariate columns %zu, proteins %zu, fits OK %d\n", static_cast<long>(n), xs.size(), vs.size(), ok);
  std::printf("pwas: setup (design, sort, null) %.3f s; per fit %.2f ms with cox.zph, %.2f ms without (1 thread)\n",
              setup_s, 1e3 * fit_s / m, 1e3 * fit_no_ph_s / m);
  std::printf("R:    per fit coxph %.1f ms, cox.zph %.1f ms\n", 1e3 * r_coxph_s / m, 1e3 * r_zph_s / m);
  std::printf("ratio R / pwas per fit: coxph + cox.zph %.1fx, coxph alone (pwas without cox.zph) %.1fx\n",
              (r_coxph_s + r_zph_s) / fit_s, r_coxph_s / fit_no_ph_s);
  std::printf("max rel diff vs R (v term): coef %.1e, se %.1e, loglik %.1e, zph chisq (v, GLOBAL) %.1e\n", d_coef, d_se,
              d_ll, d_zph);
  return ok == static_cast<int>(vs.size()) ? 0 : 1;
}
