#pragma once
// Survival outcomes from dates, as UK Biobank extracts hold them: who is eligible for an incident-disease
// analysis, whether the event happened during follow-up, and the follow-up time in years. Pure logic on day
// counts (days since 1970-01-01, NaN = missing); no cohort or config types.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace pwas::engine {

inline constexpr double kDaysPerYear = 365.25;

/// The rules of one derivation (io::SurvivalDerivation without the column names).
struct SurvivalRule {
  std::int64_t censor_date = 0;   // administrative end of follow-up
  double exclude_years = 0.0;     // events within this many years after baseline make a participant ineligible
};

/// Per-participant dates of one derivation, each [n] or empty when the derivation has no such column.
struct SurvivalDates {
  std::span<const double> baseline;    // required
  std::span<const double> event_date;  // required; NaN = no event recorded
  std::span<const double> death_date;  // optional; NaN = alive at the censor date
  std::span<const double> prevalent;   // optional flag; 1 = prevalent case, NaN or anything else = not
};

/// Why a participant is not eligible, in the order the rules are checked.
enum class SurvivalExclusion : std::uint8_t {
  kEligible,
  kNoBaseline,           // baseline date missing
  kBaselineAfterCensor,  // baseline on or after the censor date
  kPrevalentFlag,        // the prevalent flag is 1
  kPrevalentDate,        // event on or before baseline
  kDeathBeforeBaseline,  // death on or before baseline (inconsistent dates)
  kEarlyEvent,           // event within exclude_years after baseline
};
inline constexpr int kNumExclusions = 7;

/// The derived outcome of every participant considered.
struct DerivedSurvival {
  std::vector<SurvivalExclusion> status;  // [n]
  std::vector<std::uint8_t> event;        // [n] 1 = event during follow-up (eligible participants only)
  std::vector<double> years;              // [n] follow-up in years; NaN unless eligible
};

/// Derives every participant's outcome: eligible when the baseline is present and before the censor date, and
/// the participant is not a prevalent case (flag, or event on or before baseline) nor had the event within
/// `exclude_years` after baseline; event = event date <= min(death, censor date); end = the event date if
/// event, else min(death, censor date); years = (end - baseline) / 365.25.
DerivedSurvival derive_survival(const SurvivalRule& rule, const SurvivalDates& dates);

/// Counts of one derivation over the rows considered.
struct SurvivalCounts {
  std::int64_t considered = 0;
  std::int64_t eligible = 0;
  std::int64_t events = 0;
  std::int64_t excluded[kNumExclusions] = {};   // by SurvivalExclusion; [kEligible] stays 0
  double median_years = 0.0;       // NaN when none is eligible
  double person_years = 0.0;
};

/// Counts over the rows where `keep` is 1: eligible, each exclusion, events, median follow-up of the eligible.
SurvivalCounts count_survival(const DerivedSurvival& d, std::span<const std::uint8_t> keep);

/// The log lines of one outcome: eligible N, exclusions with their reasons, events, median follow-up.
std::vector<std::string> describe_survival(const std::string& name, const SurvivalRule& rule,
                                           const SurvivalCounts& c);

/// The words used in logs for an exclusion.
const char* to_string(SurvivalExclusion e);

}  // namespace pwas::engine
