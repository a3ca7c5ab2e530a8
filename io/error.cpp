#include "io/error.hpp"

#include <fmt/format.h>

namespace pwas {

std::string where(const std::string& file, std::int64_t line, std::int64_t column, const std::string& what) {
  if (line <= 0) return fmt::format("{}: {}", file, what);
  if (column <= 0) return fmt::format("{}:{}: {}", file, line, what);
  return fmt::format("{}:{}:{}: {}", file, line, column, what);
}

}  // namespace pwas
