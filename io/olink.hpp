#pragma once
// Olink NPX deliveries: the Showcase long file (eid ins_index protein_id result, decoded by Data-Coding 143)
// and the Research Analysis Platform wide CSV (eid + one lower-case column per assay). Format is told by the header.
#include <cstdint>
#include <string>
#include <vector>

#include "io/cohort.hpp"
#include "io/eid_index.hpp"
#include "io/row_store.hpp"

namespace pwas::io {

/// One assay of Data-Coding 143: `meaning` is "SYMBOL;full name".
struct CodingEntry {
  std::int32_t coding = 0;
  std::string symbol;
  std::string full_name;
};

/// Reads coding143.tsv (columns `coding` and `meaning`), sorted by coding number.
std::vector<CodingEntry> read_coding(const std::string& path);

enum class OlinkFormat : std::uint8_t { kLong, kWide };

/// Counts made while reading; values are counted only in rows that are kept (right instance, known eid).
struct OlinkCounts {
  std::int64_t rows = 0;                 // data rows (long) or sample rows (wide)
  std::int64_t bytes = 0;                // size of the file
  std::int64_t rows_other_instance = 0;  // long rows with ins_index != instance
  std::int64_t rows_unknown_eid = 0;     // rows whose eid is not a participant
  std::int64_t values_missing = 0;       // empty, NA or NaN
  std::int64_t values_nonfinite = 0;     // Inf (or beyond float range), set missing
};

struct OlinkOptions {
  std::string path;    // the long or wide file
  std::string coding;  // coding143.tsv: required for long, optional for wide (adds full names)
  int instance = 0;    // ins_index kept from a long file
};

/// The Olink values of the participants found in the file, one row each.
struct OlinkData {
  OlinkFormat format = OlinkFormat::kLong;
  std::vector<ProteinInfo> proteins;     // [n_proteins], by coding number (long) or column order (wide)
  std::vector<std::int32_t> row_of;      // [n_participants] row in `values`, -1 when the file has none
  RowStore values{0};                    // [n_rows x n_proteins], NaN = missing
  std::vector<std::uint8_t> has_value;   // [n_rows] 1 when the row holds at least one finite value
  OlinkCounts counts;
};

/// Reads an Olink file for `n_participants` participants indexed by `index`; throws InputError naming
/// file, line and column on a malformed file, an unknown protein_id or a repeated (eid, protein) pair.
OlinkData read_olink(const OlinkOptions& opt, const EidIndex& index, std::size_t n_participants);

}  // namespace pwas::io
