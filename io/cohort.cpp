#include "io/cohort.hpp"

namespace pwas::io {

const char* to_string(ColumnKind k) {
  switch (k) {
    case ColumnKind::kNumeric: return "numeric";
    case ColumnKind::kCategorical: return "categorical";
    case ColumnKind::kDate: return "date";
  }
  return "?";
}

const Column* CohortMeta::find_column(const std::string& name) const {
  for (const Column& c : columns)
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace pwas::io
