#pragma once
// Seeded survival outcomes for a ProteinStudy design (tests/kernels/simulate.hpp): Weibull event times with
// hazard ratio exp(log_hr) per SD of the protein, uniform censoring tuned to an event fraction, whole-day
// rounding (ties) and a few strata.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <Eigen/Dense>

#include "tests/kernels/simulate.hpp"

namespace pwas::kernels::testing {

struct SurvivalOutcome {
  Eigen::VectorXd time;                 // [n] days, whole numbers (ties)
  std::vector<std::uint8_t> event;      // [n]
  std::vector<std::int32_t> stratum;    // [n] 0 .. n_strata - 1
};

/// Event times T = (E / (h0 exp(lp)))^(1/1.2), lp = 0.1 sum of the first numeric covariates' z-scores +
/// log_hr * v (v where kept, its mean 0 otherwise), censoring uniform on (0, c_max) with c_max chosen so that
/// about event_fraction of the rows have events; times rounded up to whole days.
inline SurvivalOutcome simulate_survival(const ProteinStudy& s, double log_hr, double event_fraction, int n_strata,
                                         std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  const Eigen::Index n = s.raw.rows();
  SurvivalOutcome o;
  o.time.resize(n);
  o.event.resize(static_cast<std::size_t>(n));
  o.stratum.resize(static_cast<std::size_t>(n));
  std::vector<double> t_event(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) {
    double lp = s.keep[static_cast<std::size_t>(i)] ? log_hr * s.v(i) : 0.0;
    for (Eigen::Index j = 1; j < std::min<Eigen::Index>(4, s.raw.cols()); ++j) lp += 0.02 * s.raw(i, j);
    const int st = static_cast<int>(unif(gen) * n_strata);
    o.stratum[static_cast<std::size_t>(i)] = st;
    const double h0 = 1e-4 * (1.0 + 0.5 * st);
    t_event[static_cast<std::size_t>(i)] = std::pow(-std::log(unif(gen)) / (h0 * std::exp(lp)), 1.0 / 1.2);
  }
  // Censoring at uniform (0, c_max): the event fraction is monotone in c_max; bisect on its log.
  std::vector<double> u_cens(static_cast<std::size_t>(n));
  for (auto& u : u_cens) u = unif(gen);
  double lo = std::log(1e-3), hi = std::log(1e9);
  for (int it = 0; it < 60; ++it) {
    const double c_max = std::exp(0.5 * (lo + hi));
    Eigen::Index events = 0;
    for (std::size_t i = 0; i < t_event.size(); ++i) events += t_event[i] <= u_cens[i] * c_max;
    (static_cast<double>(events) < event_fraction * static_cast<double>(n) ? lo : hi) = 0.5 * (lo + hi);
  }
  const double c_max = std::exp(0.5 * (lo + hi));
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(i);
    const double c = u_cens[k] * c_max;
    o.event[k] = t_event[k] <= c ? 1 : 0;
    o.time(i) = std::ceil(std::min(t_event[k], c));
  }
  return o;
}

}  // namespace pwas::kernels::testing
