#include "engine/survival_outcome.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "io/date.hpp"

namespace pwas::engine {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double at_or_nan(std::span<const double> v, std::size_t i) { return v.empty() ? kNaN : v[i]; }

}  // namespace

const char* to_string(SurvivalExclusion e) {
  switch (e) {
    case SurvivalExclusion::kEligible: return "eligible";
    case SurvivalExclusion::kNoBaseline: return "no baseline date";
    case SurvivalExclusion::kBaselineAfterCensor: return "baseline on or after the censor date";
    case SurvivalExclusion::kPrevalentFlag: return "prevalent (flag)";
    case SurvivalExclusion::kPrevalentDate: return "prevalent (event on or before baseline)";
    case SurvivalExclusion::kDeathBeforeBaseline: return "death on or before baseline";
    case SurvivalExclusion::kEarlyEvent: return "event within the excluded first years";
  }
  return "?";
}

DerivedSurvival derive_survival(const SurvivalRule& rule, const SurvivalDates& dates) {
  const std::size_t n = dates.baseline.size();
  DerivedSurvival d;
  d.status.assign(n, SurvivalExclusion::kEligible);
  d.event.assign(n, 0);
  d.years.assign(n, kNaN);
  const auto censor = static_cast<double>(rule.censor_date);
  const double early_days = rule.exclude_years * kDaysPerYear;
  for (std::size_t i = 0; i < n; ++i) {
    const double base = dates.baseline[i];
    const double event = dates.event_date[i];
    const double death = at_or_nan(dates.death_date, i);
    SurvivalExclusion& s = d.status[i];
    // NaN compares false, so a missing event or death date never excludes anyone.
    if (std::isnan(base)) s = SurvivalExclusion::kNoBaseline;
    else if (base >= censor) s = SurvivalExclusion::kBaselineAfterCensor;
    else if (at_or_nan(dates.prevalent, i) == 1.0) s = SurvivalExclusion::kPrevalentFlag;
    else if (event <= base) s = SurvivalExclusion::kPrevalentDate;
    else if (death <= base) s = SurvivalExclusion::kDeathBeforeBaseline;
    else if (rule.exclude_years > 0.0 && event - base <= early_days) s = SurvivalExclusion::kEarlyEvent;
    if (s != SurvivalExclusion::kEligible) continue;
    const double stop = std::isnan(death) ? censor : std::min(death, censor);
    const bool happened = event <= stop;
    d.event[i] = happened ? 1 : 0;
    d.years[i] = ((happened ? event : stop) - base) / kDaysPerYear;
  }
  return d;
}

SurvivalCounts count_survival(const DerivedSurvival& d, std::span<const std::uint8_t> keep) {
  SurvivalCounts c;
  std::vector<double> years;
  for (std::size_t i = 0; i < d.status.size(); ++i) {
    if (!keep[i]) continue;
    ++c.considered;
    if (d.status[i] != SurvivalExclusion::kEligible) {
      ++c.excluded[static_cast<int>(d.status[i])];
      continue;
    }
    ++c.eligible;
    c.events += d.event[i];
    c.person_years += d.years[i];
    years.push_back(d.years[i]);
  }
  c.median_years = kNaN;
  if (!years.empty()) {
    const std::size_t mid = years.size() / 2;
    std::nth_element(years.begin(), years.begin() + static_cast<std::ptrdiff_t>(mid), years.end());
    c.median_years = years[mid];
    if (years.size() % 2 == 0)
      c.median_years = 0.5 * (c.median_years + *std::max_element(years.begin(), years.begin() + static_cast<std::ptrdiff_t>(mid)));
  }
  return c;
}

std::vector<std::string> describe_survival(const std::string& name, const SurvivalRule& rule,
                                           const SurvivalCounts& c) {
  std::vector<std::string> out;
  out.push_back(fmt::format("survival {}: censor date {}, events within {} years of baseline excluded", name,
                            io::format_iso_date(rule.censor_date), rule.exclude_years));
  std::string why;
  for (int k = 1; k < kNumExclusions; ++k)
    if (c.excluded[k] > 0)
      why += fmt::format("{}{} {}", why.empty() ? "" : ", ", c.excluded[k], to_string(static_cast<SurvivalExclusion>(k)));
  out.push_back(fmt::format("survival {}: eligible {} of {}; excluded {}{}", name, c.eligible, c.considered,
                            c.considered - c.eligible, why.empty() ? "" : " (" + why + ")"));
  out.push_back(fmt::format("survival {}: events {} ({:.2f}%), {:.0f} person-years, median follow-up {:.2f} years",
                            name, c.events, c.eligible > 0 ? 100.0 * static_cast<double>(c.events) / static_cast<double>(c.eligible) : 0.0,
                            c.person_years, c.median_years));
  return out;
}

}  // namespace pwas::engine
