#pragma once
// `pwas simulate`: a UK-Biobank-shaped cohort in the real delivery formats, plus the planted truth.
#include <cstdint>
#include <string>
#include <vector>

namespace pwas::engine {

struct SimulateOptions {
  std::string out;                 // output folder (created; refused if it holds a previous simulation unless force)
  std::int64_t n = 42062;          // participants
  int proteins = 2920;             // assays passing QC; 3 more with > 50% missing are added (as in the study)
  std::uint64_t seed = 1;
  bool null_effects = false;       // --null: no planted protein effects
  bool write_long = true;          // olink_data.txt (Showcase long) + coding143.tsv
  bool write_wide = true;          // olink_instance_0.csv (RAP wide)
  std::string cohort;              // also write the cohort HDF5 file here (as `pwas import` would make it)
  bool force = false;
  int threads = 0;                 // OpenMP threads; 0 = OpenMP's default. Output does not depend on it.
};

/// One simulated survival outcome, over the participants (not the withdrawn).
struct OutcomeReport {
  std::string name;
  std::int64_t prevalent = 0;      // first occurrence before baseline
  std::int64_t events = 0;         // during follow-up (death: deaths up to the censor date)
  double median_follow_up = 0.0;   // years to the event, death or censor date, among those not prevalent
  int planted = 0;                 // proteins with a hazard ratio
};

struct SimulateReport {
  std::vector<std::string> files;  // paths written
  std::int64_t n = 0;
  int n_assays = 0;
  int planted_isolation = 0;
  int planted_loneliness = 0;
  std::int64_t n_withdrawn = 0;    // eids in the Olink files only (consent withdrawn after the assay)
  std::int64_t n_without_olink = 0;  // participants with no Olink sample
  std::vector<OutcomeReport> outcomes;
  std::int64_t bytes = 0;          // total size of the files written
  double seconds = 0.0;
};

/// Generates the cohort and writes participants.csv, olink_data.txt, coding143.tsv, olink_instance_0.csv
/// and truth.tsv into opt.out. Byte-identical output for the same options.
SimulateReport simulate_cohort(const SimulateOptions& opt);

}  // namespace pwas::engine
