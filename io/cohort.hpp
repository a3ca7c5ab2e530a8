#pragma once
// In-memory description of a cohort: samples, typed participant columns, protein metadata.
// The protein values themselves stay in the HDF5 file and are read in blocks (cohort_h5.hpp).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pwas::io {

enum class ColumnKind : std::uint8_t { kNumeric, kCategorical, kDate };

/// One participant column. Numeric: `numeric` (NaN = missing). Date: `numeric` holds days since 1970-01-01
/// (NaN = missing). Categorical: `codes` index `levels` (-1 = missing); levels are sorted as R's factor() would
/// sort them, so level 0 is the reference.
struct Column {
  std::string name;
  ColumnKind kind = ColumnKind::kNumeric;
  std::vector<double> numeric;        // [n_samples] when kNumeric or kDate
  std::vector<std::int32_t> codes;    // [n_samples] when kCategorical
  std::vector<std::string> levels;    // when kCategorical
  /// True when the values are in `numeric` (numbers and dates), false when in `codes`.
  bool holds_numbers() const { return kind != ColumnKind::kCategorical; }
};

/// The name of a column kind as written in the cohort file's `kind` attribute: numeric, categorical, date.
const char* to_string(ColumnKind k);

struct ProteinInfo {
  std::string name;        // assay symbol, e.g. GDF15
  std::string full_name;   // from coding 143 where known
  std::string uniprot;     // where known
  std::string panel;       // where known
  std::int64_t n_observed = -1;  // samples with a value (/proteins/n_observed); -1 when the file predates it
};

/// Everything in a cohort file except the protein matrix.
struct CohortMeta {
  std::vector<std::int64_t> eids;                 // [n_samples]
  std::vector<Column> columns;                    // participant columns, file order
  std::vector<ProteinInfo> proteins;              // [n_proteins]
  std::map<std::string, std::string> provenance;  // written as root attributes
  std::size_t n_samples() const { return eids.size(); }
  std::size_t n_proteins() const { return proteins.size(); }
  /// The column with this name, or nullptr.
  const Column* find_column(const std::string& name) const;
};

}  // namespace pwas::io
