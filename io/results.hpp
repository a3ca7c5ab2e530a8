#pragma once
// One analysis's result rows and their writers (TSV and HDF5), both written atomically (temp + rename).
#include <cstdint>
#include <string>
#include <vector>

namespace pwas::io {

/// One fit's reported term: a protein × outcome × predictor combination (or one design term with report = "all").
struct ResultRow {
  std::string outcome;
  std::string predictor;
  std::string protein;           // empty when no protein is involved
  std::int64_t obs_ct = 0;
  std::int64_t case_ct = -1;     // -1 = not applicable (linear)
  double beta = 0, se = 0, stat = 0, p = 0;
  double effect = 0, effect_l95 = 0, effect_u95 = 0;   // OR for logistic, BETA for linear
  double p_bonf = 0, q_fdr = 0;
  std::string errcode = "OK";
  std::vector<double> extra;     // [table.extra_columns.size()] model- or option-specific columns (NaN = NA)
};

struct ResultTable {
  std::string analysis;
  std::string model;              // linear | logistic | cox
  /// Columns an analysis adds (e.g. EVENT_CT, HR for Cox; P_PERM for permutations), written after Q_FDR and
  /// before ERRCODE; integral values are written without a decimal point.
  std::vector<std::string> extra_columns;
  std::vector<ResultRow> rows;
};

/// The TSV header of the fixed columns, in column order (a table's extra_columns go before ERRCODE).
const std::vector<std::string>& result_columns();

/// Writes `table` as tab-separated text (doubles in shortest round-trip form, NaN as NA) to `path` atomically.
void write_results_tsv(const std::string& path, const ResultTable& table);

/// Writes every table as a group /<analysis> of column datasets to one HDF5 file, atomically.
void write_results_h5(const std::string& path, const std::vector<ResultTable>& tables,
                      const std::vector<std::pair<std::string, std::string>>& attributes);

/// Writes `text` to `path` atomically (temp file in the same folder, then rename).
void write_text_atomic(const std::string& path, const std::string& text);

}  // namespace pwas::io
