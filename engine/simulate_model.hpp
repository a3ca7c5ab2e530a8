#pragma once
// Internals of `pwas simulate` shared by its translation units: the simulated people, the assay design,
// the protein matrix and the writers. Every random draw comes from a stream keyed by (seed, purpose, entity),
// so the output never depends on the number of threads.
#include <array>
#include <atomic>
#include <climits>
#include <cmath>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "engine/simulate.hpp"

namespace pwas::engine::sim {

inline constexpr int kNumPcs = 20;
inline constexpr int kNumCentres = 22;
inline constexpr int kNumBatches = 8;
inline constexpr int kNumPanels = 8;
inline constexpr int kNumEthnicities = 5;
inline constexpr int kNumEducation = 4;
inline constexpr int kNpxDecimals = 4;
inline constexpr std::int32_t kMissingNpx = INT32_MIN;  // NPX x 10^4 stored as int32; this marks "not measured"
inline constexpr double kPanelFailRate = 0.008;  // per sample and panel: a failed run leaves the whole panel empty

/// What a random stream is for: the second word of every stream key.
enum Purpose : std::uint64_t {
  kEidDraws = 1,
  kPersonDraws = 2,
  kExposureDraws = 3,
  kModuleDraws = 4,
  kCatalogueDraws = 5,
  kProteinDraws = 6,
  kOrderDraws = 7,
  kHazardDraws = 8,   // which assays carry hazard ratios, and their sizes
  kOutcomeDraws = 9,  // per person: event times and prevalent cases
};

/// The incident-disease outcomes of the study (Cox analyses), death last.
inline constexpr int kNumOutcomes = 6;
inline constexpr int kDeath = kNumOutcomes - 1;
inline constexpr std::array<const char*, kNumOutcomes> kOutcomeNames = {"cvd",      "t2d",        "stroke",
                                                                        "dementia", "depression", "death"};
inline constexpr std::int32_t kNoDate = INT32_MIN;  // a date that is not written (no event, or after follow-up)

/// Participant fields written empty (bit flags in People::missing).
enum MissingField : std::uint16_t {
  kMissEthnicity = 1u << 0,
  kMissEducation = 1u << 1,
  kMissIncome = 1u << 2,
  kMissSmoking = 1u << 3,
  kMissAlcohol = 1u << 4,
  kMissBmi = 1u << 5,
  kMissPcs = 1u << 6,
  kMissIsolation = 1u << 7,
  kMissLoneliness = 1u << 8,
  kMissLonelyField = 1u << 9,
};

/// UK Biobank assessment-centre codes (field 54) of the 22 baseline centres.
inline constexpr std::array<int, kNumCentres> kCentreCodes = {
    10003, 11001, 11002, 11003, 11004, 11005, 11006, 11007, 11008, 11009, 11010,
    11011, 11012, 11013, 11014, 11016, 11017, 11018, 11020, 11021, 11022, 11023};
inline constexpr std::array<const char*, kNumEthnicities> kEthnicityLabels = {"White", "Asian", "Black", "Mixed",
                                                                              "Other"};
inline constexpr std::array<const char*, kNumEducation> kEducationLabels = {
    "College or University degree", "A levels/AS levels", "O levels/GCSEs/CSEs", "None of the above"};
inline constexpr std::array<const char*, 2> kIncomeLabels = {"31000 or more", "Less than 31000"};
inline constexpr std::array<const char*, kNumPanels> kPanelLabels = {
    "Cardiometabolic", "Cardiometabolic_II", "Inflammation", "Inflammation_II",
    "Neurology",       "Neurology_II",       "Oncology",     "Oncology_II"};

/// Exposure frequencies the protein model needs to turn planted coefficients into implied odds ratios.
struct ExposureSummary {
  double p_isolated = 0.0;        // P(isolated) among participants
  double p_lonely = 0.0;          // P(lonely)
  double lonely_given_iso = 0.0;  // P(lonely | isolated) - P(lonely | not isolated)
  double iso_given_lonely = 0.0;  // P(isolated | lonely) - P(isolated | not lonely)
};

/// Everyone simulated (participants and withdrawn), indexed by person in ascending eid order.
/// Covariates hold the true values; `missing` says which are written empty.
struct People {
  std::int64_t size = 0;
  std::vector<std::int64_t> eid;               // [size], ascending, 7 digits
  std::vector<std::uint8_t> withdrawn;         // [size] 1: in the Olink files but not in participants.csv
  std::vector<std::uint8_t> has_olink;         // [size]
  std::vector<std::uint8_t> visits;            // [size] bit 0: also measured at instance 2, bit 1: at instance 3
  std::vector<std::uint8_t> panel_fail;        // [size] bit p: Olink panel p failed QC at instance 0
  std::vector<std::uint8_t> age;               // [size] years at recruitment, 40..70
  std::vector<std::uint8_t> male;              // [size]
  std::vector<std::uint8_t> centre;            // [size] index into kCentreCodes
  std::vector<std::uint8_t> batch;             // [size] 0..7 (written 1..8)
  std::vector<std::int16_t> time_gap;          // [size] days from blood draw to assay
  std::vector<double> pcs;                     // [size x kNumPcs] row-major, rounded to 4 decimals
  std::vector<std::uint8_t> ethnicity;         // [size] index into kEthnicityLabels
  std::vector<std::uint8_t> education;         // [size] index into kEducationLabels
  std::vector<std::uint8_t> income_low;        // [size]
  std::vector<std::uint8_t> smoking;           // [size] current smoker
  std::vector<std::uint8_t> alcohol;           // [size] alcohol >= 3 times a week
  std::vector<double> bmi;                     // [size] rounded to 4 decimals
  std::vector<std::uint8_t> isolated;          // [size] true exposure (also where written empty)
  std::vector<std::uint8_t> lonely;            // [size]
  std::vector<std::uint8_t> isolation_score;   // [size] 0..3, isolated = score >= 2
  std::vector<std::uint8_t> loneliness_score;  // [size] 0..2, lonely = score == 2
  std::vector<std::int8_t> lonely_field;       // [size] field 2020: 0/1, -1 do not know, -3 prefer not to answer
  std::vector<std::uint16_t> missing;          // [size] MissingField bits
  std::vector<std::int64_t> olink_rows;        // persons with Olink data, ascending eid: the protein matrix rows
  std::vector<std::int64_t> visit2_rows;       // indexes into olink_rows measured again at instance 2
  std::vector<std::int64_t> visit3_rows;       // ... at instance 3
  std::vector<std::int64_t> csv_order;         // participants (not withdrawn) in participants.csv order
  ExposureSummary exposure;
};

/// The design of one assay; effects are on the protein's standardised scale z, NPX = mean + scale * z.
struct Assay {
  std::string symbol;    // e.g. GDF15
  std::string name;      // e.g. Growth/differentiation factor 15
  int panel = 0;         // index into kPanelLabels
  int module = 0;        // co-expression module 1..K; 0 = none
  double loading = 0.0;  // on the module factor
  double mean = 0.0;     // NPX
  double scale = 1.0;    // NPX per unit of z
  double age10 = 0.0;    // per 10 years of age
  double male = 0.0;
  double bmi5 = 0.0;     // per 5 kg/m^2
  double gap1000 = 0.0;  // per 1000 days of storage
  double smoking = 0.0;
  double income_low = 0.0;
  double alcohol = 0.0;
  std::array<double, kNumEducation> education{};
  std::array<double, kNumEthnicities> ethnicity{};
  std::array<double, kNumBatches> batch{};
  std::array<double, kNumCentres> centre{};
  double log_or_isolation = 0.0;  // target log-OR per SD in `isolation ~ protein + covariates`; 0: not planted
  double log_or_loneliness = 0.0;
  double missing_rate = 0.0;  // designed fraction missing at random at instance 0 (panel failures included)
  bool mnar = false;          // values below a limit of detection are missing
  double lod_quantile = 0.0;  // fraction of values below that limit
  bool qc_drop = false;       // one of the 3 assays with > 50% missing (GLIPR1, NPM1, PCOLCE)
  std::array<double, kNumOutcomes> log_hr{};  // planted log hazard ratio per SD of the protein; 0: none
  int hazard_slot = -1;       // row of ProteinMatrix::hazard_z holding this assay's standardised values; -1: none
};

/// What came out of the simulation for one assay.
struct AssayTruth {
  double gamma_isolation = 0.0;  // NPX shift caused by isolation (planted causal coefficient)
  double gamma_loneliness = 0.0;
  double resid_var = 0.0;  // NPX variance given covariates and exposures: scale^2 (loading^2 + noise)
  double mean_npx = 0.0;   // over Olink samples at instance 0, before missingness
  double sd_npx = 0.0;
  double or_isolation = 1.0;  // implied OR per SD of the protein in `isolation ~ protein + covariates`
  double or_loneliness = 1.0;
  double missing_fraction = 0.0;  // realised at instance 0
  double lod_npx = 0.0;           // limit of detection where mnar
};

/// The NPX values, as integers NPX x 10^4 so that every file prints exactly the same numbers.
struct ProteinMatrix {
  std::int64_t n_rows = 0;           // People::olink_rows.size()
  std::vector<std::int32_t> values;  // [n_assays x n_rows], assay-major, kMissingNpx where missing
  std::vector<std::int32_t> visit2;  // [n_assays x visit2_rows.size()]
  std::vector<std::int32_t> visit3;  // [n_assays x visit3_rows.size()]
  std::vector<float> hazard_z;       // [n_hazard_assays x n_rows] (x - mean) / sd of assays with hazard ratios,
                                     // before missingness: what the outcome model reads
};

/// Everyone's dates as days since 1970-01-01, kNoDate where not written: baseline assessment, and per outcome
/// the first occurrence (before baseline for prevalent cases) or, for death, the death date, up to the censor date.
struct Outcomes {
  std::int64_t censor_date = 0;                                 // 2022-11-30
  std::vector<std::int32_t> baseline;                           // [People::size]
  std::array<std::vector<std::int32_t>, kNumOutcomes> date;     // each [People::size]
};

/// Simulates eids, covariates, exposures, missing fields and the Olink sample layout.
People simulate_people(const SimulateOptions& opt, int threads);

/// The assay catalogue, sorted by symbol (coding = index + 1): real Olink symbols for planted and
/// below-detection assays, synthetic ones for the rest, and every assay's effects and missingness.
std::vector<Assay> design_assays(const SimulateOptions& opt);

/// Generates every assay's values in parallel over assays; fills `truth` ([n_assays]).
ProteinMatrix simulate_proteins(const SimulateOptions& opt, const People& people, const std::vector<Assay>& assays,
                                std::vector<AssayTruth>& truth, int threads);

/// Chooses the assays that carry hazard ratios for each outcome and their sizes (none with --null), and gives
/// them hazard slots; returns the number of slots.
int plant_hazards(const SimulateOptions& opt, std::vector<Assay>& assays);

/// Baseline dates, then death and disease dates from proportional-hazards models with covariate, exposure and
/// planted protein effects, calibrated to the study's incidence; adds each outcome's counts to `report`.
Outcomes simulate_outcomes(const SimulateOptions& opt, const People& people, const std::vector<Assay>& assays,
                           const ProteinMatrix& matrix, SimulateReport& report, int threads);

/// Writes participants.csv (rows in People::csv_order); returns the bytes written.
std::int64_t write_participants(const std::string& path, const People& people, const Outcomes& outcomes,
                                int threads);
/// Writes coding143.tsv (coding = assay index + 1, meaning = "SYMBOL;full name"); returns the bytes written.
std::int64_t write_coding(const std::string& path, const std::vector<Assay>& assays);
/// Writes the Showcase long file olink_data.txt, measured values only; returns the bytes written.
std::int64_t write_olink_long(const std::string& path, const People& people, const ProteinMatrix& matrix,
                              std::int64_t n_assays, int threads);
/// Writes the RAP wide export olink_instance_0.csv, empty fields where missing; returns the bytes written.
std::int64_t write_olink_wide(const std::string& path, const People& people, const ProteinMatrix& matrix,
                              const std::vector<Assay>& assays, int threads);
/// Writes the cohort HDF5 file directly (what `pwas import --missing-codes -1,-3` makes of the text files);
/// returns the number of samples.
std::int64_t write_cohort(const std::string& path, const SimulateOptions& opt, const People& people,
                          const Outcomes& outcomes, const std::vector<Assay>& assays, const ProteinMatrix& matrix);
/// Writes truth.tsv, one row per assay in coding order; returns the bytes written.
std::int64_t write_truth(const std::string& path, const std::vector<Assay>& assays,
                         const std::vector<AssayTruth>& truth);

/// The number of OpenMP threads to use: `requested` if positive, else OpenMP's default; 1 without OpenMP.
int resolve_threads(int requested);
/// The calling thread's index within the current parallel region (0 outside one).
int thread_index();

/// Keeps the first exception thrown inside an OpenMP loop so it can be rethrown after the loop (STYLE.md).
class FirstError {
 public:
  /// Runs fn unless an earlier call failed; records its exception instead of letting it escape.
  template <class Fn>
  void run(Fn&& fn) {
    if (failed_.load(std::memory_order_relaxed)) return;
    try {
      fn();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
      failed_.store(true);
    }
  }
  /// Rethrows the recorded exception, if any.
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::atomic<bool> failed_{false};
  std::mutex mutex_;
  std::exception_ptr error_;
};

/// 1 / (1 + exp(-x)).
inline double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace pwas::engine::sim
