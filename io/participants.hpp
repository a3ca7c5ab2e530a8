#pragma once
// The participants file (CSV or TSV, one row per eid): reading and column typing.
#include <cstdint>
#include <string>
#include <vector>

#include "io/cohort.hpp"

namespace pwas::io {

struct ParticipantOptions {
  std::vector<double> missing_codes;           // set missing in columns whose values are all integers
  std::vector<std::string> force_categorical;  // columns kept as categorical even if their values are numbers
};

/// A typed participants file: eids and columns in file order.
struct ParticipantTable {
  std::vector<std::int64_t> eids;  // [n_participants]
  std::vector<Column> columns;     // every header field but `eid`, each [n_participants]
};

/// Reads and types a participants file; throws InputError naming file, line and column on bad input.
ParticipantTable read_participants(const std::string& path, const ParticipantOptions& opt = {});

/// True for the tokens that mean "missing" in every input file: empty, NA, NaN (any case).
bool is_missing_token(std::string_view s);

}  // namespace pwas::io
