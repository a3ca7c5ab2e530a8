// Which simulated assays raise or lower the hazard of each incident disease, and by how much. Hazard ratios go
// to assays outside the co-expression modules, so that an assay without a planted hazard ratio is independent of
// every outcome given the covariates and exposures: its Cox hits are genuinely false (as for the PWAS). A third
// of each outcome's assays also carry planted exposure effects (isolation -> protein -> disease), so that
// mediation analyses have something to find.
#include <algorithm>
#include <cmath>

#include "engine/simulate_model.hpp"
#include "kernels/random_stream.hpp"

namespace pwas::engine::sim {
namespace {

using kernels::RandomStream;

constexpr double kPerOutcomePer2920 = 24;  // assays with a hazard ratio per outcome, at the study's 2,920
constexpr int kMinPerOutcome = 3;
constexpr double kSharedShare = 1.0 / 3.0;  // of an outcome's assays, those also planted for an exposure
constexpr double kMinHr = 1.2;              // |log HR| per SD uniform on [log 1.2, log 1.6]
constexpr double kMaxHr = 1.6;
constexpr double kProtectiveShare = 0.25;   // hazard ratios below 1

// Draws `count` distinct entries of `pool` (partial Fisher-Yates with the stream's bounded integers).
std::vector<std::size_t> draw_from(std::vector<std::size_t> pool, std::size_t count, RandomStream& rs) {
  count = std::min(count, pool.size());
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t pick = k + static_cast<std::size_t>(rs.below(pool.size() - k));
    std::swap(pool[k], pool[pick]);
  }
  pool.resize(count);
  return pool;
}

}  // namespace

int plant_hazards(const SimulateOptions& opt, std::vector<Assay>& assays) {
  std::vector<std::size_t> shared_pool, other_pool;
  for (std::size_t j = 0; j < assays.size(); ++j) {
    const Assay& a = assays[j];
    if (a.module != 0 || a.mnar || a.qc_drop) continue;
    const bool exposure = a.log_or_isolation != 0.0 || a.log_or_loneliness != 0.0;
    (exposure ? shared_pool : other_pool).push_back(j);
  }
  const auto per_outcome = static_cast<std::size_t>(std::max<long>(
      kMinPerOutcome, std::lround(kPerOutcomePer2920 * opt.proteins / 2920.0)));
  const auto n_shared = static_cast<std::size_t>(std::lround(static_cast<double>(per_outcome) * kSharedShare));
  for (int o = 0; o < kNumOutcomes && !opt.null_effects; ++o) {
    RandomStream rs(opt.seed, kHazardDraws, static_cast<std::uint64_t>(o));
    std::vector<std::size_t> chosen = draw_from(shared_pool, n_shared, rs);
    const std::vector<std::size_t> rest = draw_from(other_pool, per_outcome - chosen.size(), rs);
    chosen.insert(chosen.end(), rest.begin(), rest.end());
    for (std::size_t j : chosen) {
      const double magnitude = std::log(kMinHr) + rs.uniform() * (std::log(kMaxHr) - std::log(kMinHr));
      assays[j].log_hr[static_cast<std::size_t>(o)] = rs.bernoulli(kProtectiveShare) ? -magnitude : magnitude;
    }
  }
  int slots = 0;
  for (Assay& a : assays)
    if (std::any_of(a.log_hr.begin(), a.log_hr.end(), [](double b) { return b != 0.0; })) a.hazard_slot = slots++;
  return slots;
}

}  // namespace pwas::engine::sim
