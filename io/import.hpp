#pragma once
// `pwas import`: participants CSV/TSV + Olink (Showcase long or RAP wide) -> cohort HDF5.
#include <cstdint>
#include <string>
#include <vector>

namespace pwas::io {

struct ImportOptions {
  std::string participants;                 // CSV or TSV with a header containing `eid`
  std::string olink;                        // long (eid ins_index protein_id result) or wide (eid, assay...)
  std::string coding;                       // coding143.tsv; required for the long format
  int instance = 0;                         // ins_index kept from a long file
  std::vector<double> missing_codes;        // e.g. -1, -3: set missing in integer-valued numeric columns
  std::vector<std::string> force_categorical;  // numeric-looking columns to keep as categorical
  std::string out;                          // cohort.h5
  int deflate_level = 0;                    // 0: fastest import and reads; zlib level 1 costs ~60% of import time for ~15% smaller files
};

/// What the import did, for the user: counts of everything kept and dropped, and why.
struct ImportReport {
  std::string olink_format;                 // "long" or "wide"
  std::int64_t participants_rows = 0;       // data rows in the participants file
  std::int64_t olink_rows = 0;              // data rows (long) or sample rows (wide)
  std::int64_t olink_bytes = 0;
  std::int64_t rows_other_instance = 0;     // long rows with ins_index != instance
  std::int64_t rows_unknown_eid = 0;        // Olink rows whose eid is not in the participants file
  std::int64_t values_missing = 0;          // empty/NA/NaN Olink values
  std::int64_t values_nonfinite = 0;        // Inf values, set missing
  std::int64_t participants_without_olink = 0;  // dropped from the cohort
  std::int64_t n_samples = 0;
  std::int64_t n_proteins = 0;
  std::int64_t n_numeric_columns = 0;
  std::int64_t n_categorical_columns = 0;
  std::int64_t n_date_columns = 0;
  double seconds = 0.0;
  /// Human-readable lines, one per fact above.
  std::vector<std::string> lines() const;
};

/// Runs the import; throws InputError on a bad file (file, line, column named).
ImportReport import_cohort(const ImportOptions& opt);

}  // namespace pwas::io
