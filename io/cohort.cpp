#include "io/cohort.hpp"

namespace pwas::io {

const Column* CohortMeta::find_column(const std::string& name) const {
  for (const Column& c : columns)
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace pwas::io
