#include <cmath>

#include <fmt/format.h>

#include "engine/resample.hpp"
#include "kernels/pvalues.hpp"

// The study's replication check (Shen et al. 2025): random halves stratified by cases and controls, the PWAS in
// each half, the correlation of the halves' effect sizes and the share of one half's hits that replicate in the
// other. Each half's BETA is the one-step estimate BETA ± D from the fit on all rows (engine/resample_replicates.cpp,
// docs/resampling.md), with SE x sqrt(2) (half the information).

namespace pwas::engine {

std::string split_half_table(const std::vector<FitPlan>& plans, const std::vector<std::vector<ProteinRows>>& per_plan,
                             const io::ResamplingConfig& rc, double alpha_bonferroni, std::string& log_line) {
  std::string out = "SPLIT\tOUTCOME\tPREDICTOR\tN_PROTEINS\tR_BETA\tHITS_A\tREPLICATED_IN_B\tHITS_B\tREPLICATED_IN_A\tREPLICATION_RATE\n";
  log_line.clear();
  for (std::size_t p = 0; p < plans.size(); ++p) {
    const std::string outcome = plans[p].protein_outcome ? "protein" : plans[p].outcome;
    const std::string predictor = plans[p].protein_predictor ? "protein" : plans[p].predictor;
    double sum_r = 0.0, sum_hits = 0.0, sum_repl = 0.0;
    for (std::int64_t s = 0; s < rc.split_half; ++s) {
      std::vector<double> a, b, za, zb;
      for (const auto& pr : per_plan[p]) {
        if (pr.split.empty() || pr.rows.empty()) continue;
        const io::ResultRow& r = pr.rows.back();
        const double d = pr.split[static_cast<std::size_t>(s)];
        if (r.errcode != "OK" || !std::isfinite(d) || !(r.se > 0)) continue;
        const double se = r.se * std::sqrt(2.0);
        a.push_back(r.beta + d);
        b.push_back(r.beta - d);
        za.push_back(a.back() / se);
        zb.push_back(b.back() / se);
      }
      const auto n = static_cast<double>(a.size());
      double ma = 0, mb = 0;
      for (std::size_t i = 0; i < a.size(); ++i) {
        ma += a[i] / n;
        mb += b[i] / n;
      }
      double sab = 0, saa = 0, sbb = 0;
      for (std::size_t i = 0; i < a.size(); ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
      }
      const double r = a.size() > 2 ? sab / std::sqrt(saa * sbb) : std::nan("");
      int hits_a = 0, hits_b = 0, repl_b = 0, repl_a = 0;
      for (std::size_t i = 0; i < a.size(); ++i) {
        const double pa = kernels::p_normal_two_sided(za[i]), pb = kernels::p_normal_two_sided(zb[i]);
        const bool same_sign = (za[i] > 0) == (zb[i] > 0);
        if (pa < alpha_bonferroni) {
          ++hits_a;
          if (same_sign && pb < 0.05) ++repl_b;
        }
        if (pb < alpha_bonferroni) {
          ++hits_b;
          if (same_sign && pa < 0.05) ++repl_a;
        }
      }
      const int hits = hits_a + hits_b;
      const double rate = hits > 0 ? static_cast<double>(repl_a + repl_b) / hits : std::nan("");
      fmt::format_to(std::back_inserter(out), "{}\t{}\t{}\t{}\t{:.6f}\t{}\t{}\t{}\t{}\t{}\n", s + 1, outcome, predictor,
                     a.size(), r, hits_a, repl_b, hits_b, repl_a, std::isnan(rate) ? std::string("NA") : fmt::format("{:.4f}", rate));
      sum_r += r;
      sum_hits += hits;
      sum_repl += repl_a + repl_b;
    }
    log_line += fmt::format("{}{} ~ {}: mean r(BETA_A, BETA_B) = {:.4f} over {} splits; {} of {} half-sample hits "
                            "replicated ({:.1f}%)", log_line.empty() ? "" : "; ", outcome, predictor,
                            sum_r / static_cast<double>(rc.split_half), rc.split_half, sum_repl, sum_hits,
                            sum_hits > 0 ? 100.0 * sum_repl / sum_hits : 0.0);
  }
  return out;
}

}  // namespace pwas::engine
