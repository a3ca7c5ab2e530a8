#pragma once
// Errors for bad input: they stop the run with a message naming file, line and column (STYLE.md, "Errors").
#include <cstdint>
#include <stdexcept>
#include <string>

namespace pwas {

/// A bad file, config or command line. The message names the file and, where known, line and column.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Builds "FILE:LINE:COL: what" (line/column 1-based; 0 leaves them out).
std::string where(const std::string& file, std::int64_t line, std::int64_t column, const std::string& what);

}  // namespace pwas
