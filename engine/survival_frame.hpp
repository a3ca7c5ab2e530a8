#pragma once
// The cohort side of a Cox plan: a survival outcome over the cohort's samples (derived from date columns, or
// read from time/event columns) and the strata, with the column checks that name the config location.
#include <cstdint>
#include <string>
#include <vector>

#include "io/cohort.hpp"
#include "io/config.hpp"

namespace pwas::engine {

/// One survival outcome over the cohort's samples.
struct SurvivalFrame {
  std::vector<std::uint8_t> usable;  // [n_samples] eligible, with a follow-up time and an event status
  std::vector<double> years;         // [n_samples] follow-up in years where usable
  std::vector<std::uint8_t> event;   // [n_samples] 1 = event where usable
  std::vector<std::string> log;      // eligible N, exclusions, events, median follow-up (over `keep`)
};

/// The outcome `o` of Cox analysis `a` for every sample, counted over the samples where `keep` is 1 ([n_samples]).
/// Throws InputError naming the config location when a column is missing or of the wrong kind (dates for a
/// derivation, numeric years and 0/1 events otherwise) or a follow-up time is negative.
SurvivalFrame survival_frame(const io::CohortMeta& meta, const io::AnalysisConfig& a, const io::SurvivalOutcome& o,
                             const std::vector<std::uint8_t>& keep);

/// Per sample, the combination of the analysis' strata columns as one key (-1 where any is missing); keys
/// order combinations by their codes, so renumbering the keys present gives strata in a fixed order.
/// Throws InputError for a stratum column that is missing, a date, or numeric with non-integer values.
std::vector<std::int64_t> strata_keys(const io::CohortMeta& meta, const io::AnalysisConfig& a);

}  // namespace pwas::engine
