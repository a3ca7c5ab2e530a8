#pragma once
// The run configuration (TOML): one cohort, one output folder, one or more analyses. See configs/README.md.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pwas::io {

enum class ModelKind : std::uint8_t { kLinear, kLogistic, kCox };
enum class CoxTies : std::uint8_t { kEfron, kBreslow };
enum class ProteinTransform : std::uint8_t { kRin, kZscore, kNone };
enum class ReportTerms : std::uint8_t { kPredictor, kAll };
enum class Schedule : std::uint8_t { kDynamic, kStatic };

/// `column OP value`, e.g. `sex == 1`, `age < 60`, `ethnicity != "White"`.
struct SampleCondition {
  std::string column;
  std::string op;          // == != < <= > >=
  std::string text;        // the value as written (for categorical columns: a level name)
  double number = 0.0;     // the value when numeric
  bool is_number = false;
  std::string source;      // "config.toml:LINE:COL" for messages
};

/// A survival outcome derived from dates (`[[survival]]`): who is eligible, whether the event happened, and the
/// follow-up time. Dates are days since 1970-01-01; see engine/survival_outcome.hpp for the rules.
struct SurvivalDerivation {
  std::string name;
  std::string baseline;         // date column: start of follow-up
  std::string event_date;       // date column: first occurrence of the disease (for death: the death date)
  std::string death_date;       // date column ending follow-up without the event; empty = none
  std::int64_t censor_date = 0; // administrative end of follow-up, days since 1970-01-01
  std::string prevalent_flag;   // numeric column, 1 = prevalent case (excluded); empty = none
  double exclude_years = 0.0;   // events within this many years after baseline are excluded
  std::string source;           // "config.toml:LINE:COL" of the [[survival]] table
  /// Where each referenced column name was written ("config.toml:LINE:COL"), for error messages.
  std::map<std::string, std::string> where;
};

/// One outcome of a Cox analysis: a `[[survival]]` derivation, or ready-made time (years) and event (0/1) columns.
struct SurvivalOutcome {
  std::string name;                          // as reported in OUTCOME: the derivation's name, or the event column
  std::optional<SurvivalDerivation> derived; // set when the outcome names a [[survival]] entry
  std::string time, event;                   // columns, when not derived
};

/// The word used in outcome/predictor lists for "each protein in turn".
inline constexpr const char* kProteinWord = "protein";

/// Resampling inference of one analysis (docs/resampling.md); all off by default.
struct ResamplingConfig {
  std::int64_t permutations = 0;       // shared permutations (0 = none): T_PERM, P_PERM, N_PERM
  bool max_t = false;                  // Westfall–Young max-T across every protein x outcome: P_MAXT
  std::int64_t permutation_stop = 0;   // Besag–Clifford: stop a protein after this many exceedances (0 = never)
  std::int64_t bootstrap = 0;          // Poisson-bootstrap replicates of BETA: BOOT_L95, BOOT_U95
  bool bootstrap_bca = false;          // bootstrap_ci = "bca" (default "percentile")
  std::int64_t split_half = 0;         // case/control-stratified half splits: <name>.split_half.tsv
  bool any() const { return permutations > 0 || bootstrap > 0 || split_half > 0; }
};

struct AnalysisConfig {
  std::string name;
  ModelKind model = ModelKind::kLogistic;
  std::vector<std::string> outcomes;     // participant columns, or {"protein"}; cox: the SurvivalOutcome names
  std::vector<SurvivalOutcome> survival; // cox: one per outcome, same order as `outcomes`
  std::vector<std::string> strata;       // cox: categorical or integer columns; each combination its own baseline
  CoxTies ties = CoxTies::kEfron;        // cox: handling of tied event times
  std::optional<double> score_screen_p;  // cox: full fits only where the score test's p is below this
  std::string mediation_exposure;        // cox: the covariate whose excess risk each protein mediates (PERM)
  int mediation_bootstrap = 1000;        // cox: Poisson-bootstrap replicates of PERM
  std::vector<std::string> predictors;   // {"protein"} or participant columns
  std::vector<std::string> covariates;   // after expanding a named covariate set
  std::vector<std::string> categorical;  // numeric-coded columns to dummy-code
  ProteinTransform transform = ProteinTransform::kRin;
  std::optional<double> bonferroni_tests;
  double protein_max_missing = 0.5;      // QC: proteins missing in a larger fraction of samples are skipped
  int min_case_ct = 10;                  // logistic: fewer cases or controls (cox: events) -> TOO_FEW_CASES
  std::string keep_file, remove_file;    // eid lists (one per line, or first column)
  std::vector<SampleCondition> filters;  // all must hold
  std::vector<std::string> proteins;     // optional subset of protein names (empty = all)
  ReportTerms report = ReportTerms::kPredictor;
  ResamplingConfig resampling;
  std::string source;                    // "config.toml:LINE:COL" of the [[analysis]] table
  /// Where each referenced column name was written ("config.toml:LINE:COL"), for error messages.
  std::map<std::string, std::string> where;
};

struct RunConfig {
  std::string path;          // the config file itself
  std::string cohort;        // resolved relative to the config file's folder
  std::string out;
  std::uint64_t seed = 1;
  int threads = 0;           // 0 = OMP_NUM_THREADS or all cores
  int block_proteins = 0;    // proteins per block per rank; 0 = automatic (engine: 256 mapped, 64 read via HDF5)
  int resample_block_proteins = 0;   // with resampling: proteins per block (0 = as many as 1 GiB of columns holds)
  Schedule schedule = Schedule::kDynamic;   // how proteins are shared among ranks
  std::vector<SurvivalDerivation> survival;  // [[survival]] entries, file order
  std::vector<AnalysisConfig> analyses;
};

/// Parses and validates a config file; throws InputError naming file, line and column.
RunConfig load_config(const std::string& path);

/// The names of ModelKind / ProteinTransform / CoxTies as written in configs.
const char* to_string(ModelKind m);
const char* to_string(ProteinTransform t);
const char* to_string(CoxTies t);

}  // namespace pwas::io
