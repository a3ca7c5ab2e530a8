// Simulated incident disease and death, as UK Biobank first-occurrence and death-registry dates.
//
// Baseline: the assessment day, 2006-2010, consistent with the blood-draw-to-assay gap already simulated
// (baseline = assay day - time_gap_days). Follow-up ends on the censor date 2022-11-30.
// Each outcome o has an exponential proportional-hazards model in years since baseline,
//   h_o(t | i) = lambda_o exp(eta_oi),  eta_oi = covariate effects (age, sex, BMI, smoking, income)
//                                        + exposure effects (isolation, loneliness)
//                                        + sum_j log HR_oj z_ij,
// z_ij the standardised value of assay j (before missingness), so that log HR_oj is per SD of the protein,
// the scale of a Cox model on RIN(protein). Event time T = -log(U) / (lambda_o exp(eta_oi)).
// Death is simulated first; a disease counts only before death and the censor date (death is a competing end
// of follow-up, as in the study). lambda_o is set so that the share of participants with the event during
// follow-up is the outcome's incidence: the event happens iff -log(U) / (exp(eta) * end) < lambda, so lambda
// is a quantile of that quantity. Prevalent cases (first occurrence before baseline) are drawn from a logistic
// model on the same eta with its intercept set the same way; they get no incident event.
#include <algorithm>
#include <cmath>

#include "engine/simulate_model.hpp"
#include "io/date.hpp"
#include "kernels/random_stream.hpp"

namespace pwas::engine::sim {
namespace {

using kernels::RandomStream;

struct OutcomeModel {
  double incidence;   // share of participants (not prevalent) with the event during follow-up
  double prevalence;  // share with a first occurrence before baseline
  double age;         // log HR per year of age at recruitment
  double male;
  double bmi5;        // per 5 kg/m^2
  double smoking;
  double income_low;
  double isolated;
  double lonely;
};

// Baseline prevalence and hazard ratios of the usual risk factors of the order seen in UK Biobank and the
// epidemiological literature (e.g. dementia doubles every ~4.5 years of age). The incidence counts events over
// the whole follow-up; the study excludes the first 3 years, which leaves about 3/4 of them (CVD ~7%, T2D ~4%,
// stroke ~2%, dementia ~1.5%, depression ~5%, death ~7% of those eligible).
constexpr std::array<OutcomeModel, kNumOutcomes> kModels = {{
    // incidence prevalence  age   male  bmi5  smoking income isolated lonely
    {0.090, 0.050, 0.070, 0.50, 0.20, 0.60, 0.20, 0.15, 0.10},    // cvd
    {0.055, 0.045, 0.040, 0.40, 0.80, 0.30, 0.30, 0.10, 0.15},    // t2d
    {0.026, 0.015, 0.080, 0.30, 0.10, 0.50, 0.20, 0.20, 0.10},    // stroke
    {0.019, 0.001, 0.160, 0.10, -0.05, 0.20, 0.30, 0.35, 0.10},   // dementia
    {0.065, 0.060, -0.020, -0.50, 0.15, 0.40, 0.40, 0.20, 0.60},  // depression
    {0.090, 0.000, 0.090, 0.40, 0.10, 0.80, 0.30, 0.25, 0.05},    // death
}};
constexpr double kPrevalentSpanYears = 20.0;  // prevalent first occurrences lie up to 20 years before baseline

// The value v such that `share` of `c` lies below it: midway between two order statistics, so no value equals it.
double threshold_for_share(std::vector<double> c, double share) {
  const auto m = static_cast<std::size_t>(std::llround(share * static_cast<double>(c.size())));
  if (m == 0) return -HUGE_VAL;
  if (m >= c.size()) return HUGE_VAL;
  std::nth_element(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(m), c.end());
  const double above = c[m];
  const double below = *std::max_element(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(m));
  return 0.5 * (below + above);
}

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  return v[mid];
}

// The assessment day: the assay day of the person's batch minus the simulated storage time.
std::int32_t baseline_day(const People& p, std::size_t k) {
  const std::int64_t assay = io::days_from_civil(2021, 1, 1) + std::lround((0.2 + 0.15 * p.batch[k]) * 365.25);
  return static_cast<std::int32_t>(assay - p.time_gap[k]);
}

double covariate_eta(const OutcomeModel& m, const People& p, std::size_t k) {
  return m.age * (p.age[k] - 57.0) + m.male * p.male[k] + m.bmi5 * (p.bmi[k] - 27.4) / 5.0 +
         m.smoking * p.smoking[k] + m.income_low * p.income_low[k] + m.isolated * p.isolated[k] +
         m.lonely * p.lonely[k];
}

// The per-person draws of every outcome, in a fixed order from the person's own stream.
struct Draws {
  std::array<double, kNumOutcomes> time{};      // -log(U), U on (0, 1]
  std::array<double, kNumOutcomes> prevalent{};  // logit(U)
  std::array<double, kNumOutcomes> back{};      // U: how far before baseline a prevalent case lies
};

Draws draw(std::uint64_t seed, std::int64_t person) {
  RandomStream rs(seed, kOutcomeDraws, static_cast<std::uint64_t>(person));
  Draws d;
  for (int o = 0; o < kNumOutcomes; ++o) {
    d.time[o] = -std::log(rs.uniform_pos());
    const double u = rs.uniform_pos();
    d.prevalent[o] = u >= 1.0 ? HUGE_VAL : std::log(u / (1.0 - u));
    d.back[o] = rs.uniform();
  }
  return d;
}

}  // namespace

Outcomes simulate_outcomes(const SimulateOptions& opt, const People& p, const std::vector<Assay>& assays,
                           const ProteinMatrix& m, SimulateReport& report, int threads) {
  const auto n = static_cast<std::size_t>(p.size);
  Outcomes out;
  out.censor_date = io::days_from_civil(2022, 11, 30);
  out.baseline.resize(n);
  for (auto& d : out.date) d.assign(n, kNoDate);
  std::vector<std::int64_t> row_of(n, -1);
  for (std::size_t r = 0; r < p.olink_rows.size(); ++r) row_of[static_cast<std::size_t>(p.olink_rows[r])] = static_cast<std::int64_t>(r);

  std::vector<Draws> draws(n);
  std::vector<double> follow(n);                                    // years from baseline to the censor date
  std::array<std::vector<double>, kNumOutcomes> eta;                // [n] each
  for (auto& e : eta) e.assign(n, 0.0);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t i = 0; i < p.size; ++i) {
    const auto k = static_cast<std::size_t>(i);
    draws[k] = draw(opt.seed, i);
    out.baseline[k] = baseline_day(p, k);
    follow[k] = static_cast<double>(out.censor_date - out.baseline[k]) / 365.25;
    for (int o = 0; o < kNumOutcomes; ++o) eta[o][k] = covariate_eta(kModels[o], p, k);
    if (row_of[k] < 0) continue;   // not assayed: not in the cohort, no protein effects
    for (const Assay& a : assays) {
      if (a.hazard_slot < 0) continue;
      const double z = m.hazard_z[static_cast<std::size_t>(a.hazard_slot) * static_cast<std::size_t>(m.n_rows) +
                                  static_cast<std::size_t>(row_of[k])];
      for (int o = 0; o < kNumOutcomes; ++o) eta[o][k] += a.log_hr[o] * z;
    }
  }

  std::vector<std::size_t> participants;
  for (std::size_t k = 0; k < n; ++k)
    if (!p.withdrawn[k]) participants.push_back(k);
  auto day_after = [&](std::size_t k, double years) {
    return static_cast<std::int32_t>(out.baseline[k] + static_cast<std::int64_t>(std::ceil(years * 365.25)));
  };

  std::vector<double> death_years(n, HUGE_VAL);
  for (int o = kNumOutcomes - 1; o >= 0; --o) {   // death first: it ends everyone else's follow-up
    const OutcomeModel& model = kModels[o];
    std::vector<std::uint8_t> prevalent(n, 0);
    if (model.prevalence > 0.0) {
      std::vector<double> c;
      for (std::size_t k : participants) c.push_back(draws[k].prevalent[o] - eta[o][k]);
      const double a = threshold_for_share(std::move(c), model.prevalence);
      for (std::size_t k = 0; k < n; ++k) prevalent[k] = draws[k].prevalent[o] - eta[o][k] < a;
    }
    // The event happens during follow-up iff lambda > time / (exp(eta) * end).
    auto end = [&](std::size_t k) { return std::min(follow[k], death_years[k]); };
    auto critical = [&](std::size_t k) { return draws[k].time[o] / (std::exp(eta[o][k]) * end(k)); };
    std::vector<double> c;
    for (std::size_t k : participants)
      if (!prevalent[k]) c.push_back(critical(k));
    const double lambda = threshold_for_share(std::move(c), model.incidence);
    OutcomeReport r;
    r.name = kOutcomeNames[o];
    std::vector<double> follow_up;
    for (std::size_t k = 0; k < n; ++k) {
      const bool counted = !p.withdrawn[k];
      if (prevalent[k]) {
        const double years = 1.0 / 365.25 + draws[k].back[o] * kPrevalentSpanYears;
        out.date[o][k] = static_cast<std::int32_t>(out.baseline[k] - static_cast<std::int64_t>(std::ceil(years * 365.25)));
        r.prevalent += counted;
        continue;
      }
      const double t = draws[k].time[o] / (lambda * std::exp(eta[o][k]));
      const bool event = t < end(k);
      if (event) out.date[o][k] = day_after(k, t);
      if (o == kDeath) death_years[k] = t;
      if (!counted) continue;
      r.events += event;
      follow_up.push_back(std::min(t, end(k)));
    }
    r.median_follow_up = median(std::move(follow_up));
    for (const Assay& a : assays) r.planted += a.log_hr[o] != 0.0;
    report.outcomes.insert(report.outcomes.begin(), r);
  }
  return out;
}

}  // namespace pwas::engine::sim
