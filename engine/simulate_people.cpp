// Simulated UK Biobank participants: eids, the study's covariates, the two exposures and their raw scores,
// missing fields, and who has Olink samples at which instance.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>

#include "engine/simulate_model.hpp"
#include "io/error.hpp"
#include "kernels/random_stream.hpp"

namespace pwas::engine::sim {

namespace {

using kernels::RandomStream;

constexpr double kPrevalenceIsolated = 0.093;  // study: 9.3% of 42,062
constexpr double kPrevalenceLonely = 0.064;    // study: 6.4%
constexpr double kLonelyPerIsolated = 1.1;     // log-OR of loneliness for the isolated
constexpr std::int64_t kFirstEid = 1000000;
constexpr std::int64_t kLastEid = 9999999;

// Relative sizes of the baseline centres, in kCentreCodes order (Stockport was the pilot; Swansea and Wrexham
// recruited little).
constexpr std::array<double, kNumCentres> kCentreWeights = {0.8, 4.5, 4.0, 4.5, 4.0, 3.6, 4.5, 5.0, 5.0, 6.5, 7.5,
                                                            6.5, 4.5, 6.0, 6.5, 6.0, 4.5, 5.5, 5.5, 5.5, 0.8, 0.3};
constexpr std::array<double, kNumBatches> kBatchWeights = {14, 14, 14, 14, 14, 13, 9, 8};
constexpr std::array<double, kNumEthnicities> kEthnicityWeights = {94.2, 2.0, 1.6, 0.6, 1.6};
// Genetic PCs 1-4 separate ancestries (UK Biobank field 22009): shift and spread per ethnicity group.
constexpr std::array<std::array<double, 4>, kNumEthnicities> kPcShift = {
    {{0, 0, 0, 0}, {3, 14, -2, 4}, {26, -4, 3, -1}, {11, 5, 1, 1}, {5, 7, 6, -3}}};
constexpr std::array<double, kNumEthnicities> kPcSpread = {1.0, 3.0, 4.0, 6.0, 5.0};

// Field-level missingness: income is the field most often refused; PCs are missing for the ungenotyped.
// Together about 11% of participants lack some full-model covariate.
constexpr double kMissEthnicityRate = 0.005;
constexpr double kMissEducationRate = 0.017;
constexpr double kMissIncomeRate = 0.062;
constexpr double kMissSmokingRate = 0.005;
constexpr double kMissAlcoholRate = 0.003;
constexpr double kMissBmiRate = 0.006;
constexpr double kMissPcsRate = 0.012;
constexpr double kMissIsolationRate = 0.010;

constexpr double kNoOlinkRate = 0.005;  // participants whose sample was never assayed
constexpr double kVisit2Rate = 0.02;    // also assayed at the first imaging visit (instance 2)
constexpr double kVisit3GivenVisit2 = 0.5;

int categorical(RandomStream& rs, std::span<const double> weights) {
  double u = rs.uniform() * std::accumulate(weights.begin(), weights.end(), 0.0);
  for (std::size_t k = 0; k + 1 < weights.size(); ++k) {
    u -= weights[k];
    if (u < 0.0) return static_cast<int>(k);
  }
  return static_cast<int>(weights.size()) - 1;
}

double round4(double v) { return std::round(v * 1e4) / 1e4; }

// Sorted, distinct 7-digit eids, drawn until there are enough (redraws only replace duplicates).
std::vector<std::int64_t> draw_eids(std::uint64_t seed, std::int64_t count) {
  const std::int64_t span =
      std::min<std::int64_t>(kLastEid - kFirstEid + 1, std::max<std::int64_t>(5030000, 2 * count));
  RandomStream rs(seed, kEidDraws);
  std::vector<std::int64_t> eids;
  eids.reserve(static_cast<std::size_t>(count));
  while (static_cast<std::int64_t>(eids.size()) < count) {
    const std::int64_t need = count - static_cast<std::int64_t>(eids.size());
    for (std::int64_t k = 0; k < need; ++k)
      eids.push_back(kFirstEid + static_cast<std::int64_t>(rs.below(static_cast<std::uint64_t>(span))));
    std::sort(eids.begin(), eids.end());
    eids.erase(std::unique(eids.begin(), eids.end()), eids.end());
  }
  return eids;
}

// Intercept a such that the mean of sigmoid(a + eta) over the participants equals `target` (bisection,
// summed in person order so the result does not depend on threads).
double calibrate_intercept(const std::vector<double>& eta, const std::vector<std::uint8_t>& withdrawn,
                           double target) {
  double lo = -20.0;
  double hi = 20.0;
  for (int iter = 0; iter < 60; ++iter) {
    const double mid = 0.5 * (lo + hi);
    double sum = 0.0;
    std::int64_t count = 0;
    for (std::size_t i = 0; i < eta.size(); ++i) {
      if (withdrawn[i]) continue;
      sum += sigmoid(mid + eta[i]);
      ++count;
    }
    (sum / static_cast<double>(count) < target ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

// What decides a person's exposures once the intercepts are calibrated over everyone.
struct PendingExposure {
  double eta_isolated = 0.0;
  double eta_lonely = 0.0;  // without the isolation term
  double u_isolated = 0.0;
  double u_lonely = 0.0;
};

// Draws everything about one person but the exposures themselves, which need intercepts calibrated over
// everyone: returns their linear predictors without intercept and the uniforms that will decide them.
PendingExposure draw_person(People& p, std::int64_t i, std::uint64_t seed) {
  const auto k = static_cast<std::size_t>(i);
  RandomStream rs(seed, kPersonDraws, static_cast<std::uint64_t>(i));
  double age = 0.0;
  do age = rs.normal(56.5, 8.1);
  while (age < 40.0 || age >= 71.0);
  p.age[k] = static_cast<std::uint8_t>(age);
  p.male[k] = rs.bernoulli(0.457);
  p.centre[k] = static_cast<std::uint8_t>(categorical(rs, kCentreWeights));
  p.batch[k] = static_cast<std::uint8_t>(categorical(rs, kBatchWeights));
  // Blood was drawn 2006-2010 and assayed from 2021 on, later batches later.
  const double draw_year = 2006.3 + 4.2 * rs.uniform();
  p.time_gap[k] = static_cast<std::int16_t>(
      std::lround((2021.2 + 0.15 * p.batch[k] - draw_year) * 365.25 + rs.normal(0.0, 15.0)));

  const int eth = categorical(rs, kEthnicityWeights);
  p.ethnicity[k] = static_cast<std::uint8_t>(eth);
  for (int c = 0; c < kNumPcs; ++c) {
    const double shift = c < 4 ? kPcShift[eth][c] : 0.0;
    const double spread = c < 4 ? kPcSpread[eth] : (eth == 0 ? 1.0 : 1.5);
    p.pcs[k * kNumPcs + c] = round4(shift + spread * rs.normal());
  }

  // A latent socio-economic position links education, income, smoking and alcohol, as in the real cohort.
  const double ses = rs.normal();
  const double age_c = p.age[k] - 57.0;
  const double edu = 0.8 * ses + 0.6 * rs.normal() - 0.025 * age_c;
  p.education[k] = edu > 0.44 ? 0 : edu > 0.13 ? 1 : edu > -0.58 ? 2 : 3;
  p.income_low[k] = 0.7 * ses + 0.7 * rs.normal() - 0.03 * age_c < -0.13;
  p.smoking[k] = rs.bernoulli(sigmoid(-2.25 - 0.5 * ses - 0.02 * age_c + 0.2 * p.male[k]));
  p.alcohol[k] = rs.bernoulli(sigmoid(-0.25 + 0.3 * ses + 0.55 * p.male[k] + 0.01 * age_c));
  const double log_bmi = std::log(26.6) + 0.03 * p.male[k] - 0.02 * ses + 0.002 * age_c + 0.155 * rs.normal();
  p.bmi[k] = round4(std::clamp(std::exp(log_bmi), 15.0, 65.0));

  std::uint16_t missing = 0;
  if (rs.bernoulli(kMissEthnicityRate)) missing |= kMissEthnicity;
  if (rs.bernoulli(kMissEducationRate)) missing |= kMissEducation;
  if (rs.bernoulli(kMissIncomeRate)) missing |= kMissIncome;
  if (rs.bernoulli(kMissSmokingRate)) missing |= kMissSmoking;
  if (rs.bernoulli(kMissAlcoholRate)) missing |= kMissAlcohol;
  if (rs.bernoulli(kMissBmiRate)) missing |= kMissBmi;
  if (rs.bernoulli(kMissPcsRate)) missing |= kMissPcs;
  p.missing[k] = missing;

  p.has_olink[k] = p.withdrawn[k] || !rs.bernoulli(kNoOlinkRate);
  std::uint8_t visits = 0;
  if (rs.bernoulli(kVisit2Rate)) visits = rs.bernoulli(kVisit3GivenVisit2) ? 3 : 1;
  p.visits[k] = visits;
  std::uint8_t fail = 0;
  for (int panel = 0; panel < kNumPanels; ++panel)
    if (rs.bernoulli(kPanelFailRate)) fail |= static_cast<std::uint8_t>(1u << panel);
  p.panel_fail[k] = fail;

  // Isolation and loneliness follow the study's Table 1 gradients: older, male, low income, smokers, no degree.
  const double bmi_c = p.bmi[k] - 27.4;
  const bool no_qualification = p.education[k] == 3;
  const bool non_white = eth != 0;
  PendingExposure e;
  e.eta_isolated = 0.022 * age_c + 0.15 * p.male[k] + 0.65 * p.income_low[k] + 0.45 * p.smoking[k] +
                   0.25 * no_qualification - 0.15 * p.alcohol[k] + 0.02 * bmi_c + 0.3 * non_white;
  e.eta_lonely = -0.012 * age_c - 0.05 * p.male[k] + 0.45 * p.income_low[k] + 0.3 * p.smoking[k] + 0.035 * bmi_c +
                 0.1 * no_qualification + 0.2 * non_white;
  e.u_isolated = rs.uniform();
  e.u_lonely = rs.uniform();
  return e;
}

// Raw scores consistent with the binary exposures, the raw field-2020 answer and the missing answers.
void draw_scores(People& p, std::int64_t i, std::uint64_t seed) {
  const auto k = static_cast<std::size_t>(i);
  RandomStream rs(seed, kExposureDraws, static_cast<std::uint64_t>(i));
  p.isolation_score[k] = p.isolated[k] ? (rs.bernoulli(0.15) ? 3 : 2) : (rs.bernoulli(0.42) ? 1 : 0);
  p.loneliness_score[k] = p.lonely[k] ? 2 : (rs.bernoulli(0.27) ? 1 : 0);
  // Loneliness score = "often lonely" (field 2020) + "rarely confides" (field 2110).
  const bool lonely_item = p.loneliness_score[k] == 2 || (p.loneliness_score[k] == 1 && rs.bernoulli(0.45));
  p.lonely_field[k] = lonely_item ? 1 : 0;
  std::uint16_t missing = p.missing[k];
  if (rs.bernoulli(kMissIsolationRate)) missing |= kMissIsolation;
  const double u = rs.uniform();
  if (u < 0.005) {
    p.lonely_field[k] = -1;  // do not know
    missing |= kMissLoneliness;
  } else if (u < 0.009) {
    p.lonely_field[k] = -3;  // prefer not to answer
    missing |= kMissLoneliness;
  } else if (u < 0.0105) {
    missing |= kMissLoneliness | kMissLonelyField;
  } else if (u < 0.014) {
    missing |= kMissLoneliness;  // field 2110 unanswered: the score is unknown although field 2020 is not
  }
  p.missing[k] = missing;
}

void resize_all(People& p) {
  const auto n = static_cast<std::size_t>(p.size);
  for (auto* v : {&p.withdrawn, &p.has_olink, &p.visits, &p.panel_fail, &p.age, &p.male, &p.centre, &p.batch,
                  &p.ethnicity, &p.education, &p.income_low, &p.smoking, &p.alcohol, &p.isolated, &p.lonely,
                  &p.isolation_score, &p.loneliness_score})
    v->assign(n, 0);
  p.time_gap.assign(n, 0);
  p.pcs.assign(n * kNumPcs, 0.0);
  p.bmi.assign(n, 0.0);
  p.lonely_field.assign(n, 0);
  p.missing.assign(n, 0);
}

ExposureSummary summarise_exposures(const People& p) {
  // counts[isolated][lonely] over participants
  std::array<std::array<double, 2>, 2> counts{};
  for (std::int64_t i = 0; i < p.size; ++i)
    if (!p.withdrawn[static_cast<std::size_t>(i)])
      counts[p.isolated[static_cast<std::size_t>(i)]][p.lonely[static_cast<std::size_t>(i)]] += 1.0;
  const double total = counts[0][0] + counts[0][1] + counts[1][0] + counts[1][1];
  auto ratio = [](double a, double b) { return b > 0.0 ? a / b : 0.0; };
  ExposureSummary s;
  s.p_isolated = (counts[1][0] + counts[1][1]) / total;
  s.p_lonely = (counts[0][1] + counts[1][1]) / total;
  s.lonely_given_iso =
      ratio(counts[1][1], counts[1][0] + counts[1][1]) - ratio(counts[0][1], counts[0][0] + counts[0][1]);
  s.iso_given_lonely =
      ratio(counts[1][1], counts[0][1] + counts[1][1]) - ratio(counts[1][0], counts[0][0] + counts[1][0]);
  return s;
}

}  // namespace

People simulate_people(const SimulateOptions& opt, int threads) {
  People p;
  const std::int64_t n_withdrawn = (opt.n + 1999) / 2000;
  p.size = opt.n + n_withdrawn;
  if (p.size > (kLastEid - kFirstEid + 1) / 2)
    throw InputError("simulate: n = " + std::to_string(opt.n) +
                     " is more than 7-digit eids can hold (4.5 million)");
  resize_all(p);
  p.eid = draw_eids(opt.seed, p.size);

  std::vector<std::int64_t> everyone(static_cast<std::size_t>(p.size));
  std::iota(everyone.begin(), everyone.end(), 0);
  RandomStream order(opt.seed, kOrderDraws);
  order.shuffle(everyone.begin(), everyone.end());
  for (std::int64_t k = 0; k < n_withdrawn; ++k) p.withdrawn[static_cast<std::size_t>(everyone[k])] = 1;

  std::vector<double> eta_iso(static_cast<std::size_t>(p.size));
  std::vector<double> eta_lon(eta_iso.size());
  std::vector<double> u_iso(eta_iso.size());
  std::vector<double> u_lon(eta_iso.size());
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t i = 0; i < p.size; ++i) {
    const PendingExposure e = draw_person(p, i, opt.seed);
    const auto k = static_cast<std::size_t>(i);
    eta_iso[k] = e.eta_isolated;
    eta_lon[k] = e.eta_lonely;
    u_iso[k] = e.u_isolated;
    u_lon[k] = e.u_lonely;
  }

  const double a_iso = calibrate_intercept(eta_iso, p.withdrawn, kPrevalenceIsolated);
  for (std::size_t k = 0; k < eta_iso.size(); ++k) {
    p.isolated[k] = u_iso[k] < sigmoid(a_iso + eta_iso[k]);
    eta_lon[k] += kLonelyPerIsolated * p.isolated[k];
  }
  const double a_lon = calibrate_intercept(eta_lon, p.withdrawn, kPrevalenceLonely);
  for (std::size_t k = 0; k < eta_lon.size(); ++k) p.lonely[k] = u_lon[k] < sigmoid(a_lon + eta_lon[k]);

#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t i = 0; i < p.size; ++i) draw_scores(p, i, opt.seed);

  for (std::int64_t i = 0; i < p.size; ++i) {
    const auto k = static_cast<std::size_t>(i);
    if (!p.has_olink[k]) continue;
    const auto row = static_cast<std::int64_t>(p.olink_rows.size());
    p.olink_rows.push_back(i);
    if (p.visits[k] & 1u) p.visit2_rows.push_back(row);
    if (p.visits[k] & 2u) p.visit3_rows.push_back(row);
  }
  for (std::int64_t i = 0; i < p.size; ++i)
    if (!p.withdrawn[static_cast<std::size_t>(i)]) p.csv_order.push_back(i);
  RandomStream csv_order(opt.seed, kOrderDraws, 1);
  csv_order.shuffle(p.csv_order.begin(), p.csv_order.end());

  p.exposure = summarise_exposures(p);
  return p;
}

}  // namespace pwas::engine::sim
