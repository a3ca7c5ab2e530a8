#include "io/date.hpp"

#include <fmt/format.h>

namespace pwas::io {
namespace {

// Howard Hinnant's algorithms (chrono-Compatible Low-Level Date Algorithms): eras of 400 years, March-based
// years so that the leap day is the last day of the year.
constexpr std::int64_t kDaysPerEra = 146097;

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int digits(std::string_view s, std::size_t from, std::size_t count) {
  int v = 0;
  for (std::size_t i = from; i < from + count; ++i) v = 10 * v + (s[i] - '0');
  return v;
}

}  // namespace

bool looks_like_iso_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!is_digit(s[i])) return false;
  return true;
}

std::optional<std::int64_t> parse_iso_date(std::string_view s) {
  if (!looks_like_iso_date(s)) return std::nullopt;
  const int y = digits(s, 0, 4);
  const int m = digits(s, 5, 2);
  const int d = digits(s, 8, 2);
  if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return std::nullopt;
  return days_from_civil(y, m, d);
}

std::int64_t days_from_civil(int year, int month, int day) {
  const std::int64_t y = year - (month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;                                        // [0, 399]
  const std::int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;  // [0, 365]
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                // [0, 146096]
  return era * kDaysPerEra + doe - 719468;
}

std::string format_iso_date(std::int64_t days) {
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - kDaysPerEra + 1) / kDaysPerEra;
  const std::int64_t doe = z - era * kDaysPerEra;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

double decimal_year(std::int64_t days) {
  const std::string iso = format_iso_date(days);
  const int y = digits(iso, 0, 4);
  const std::int64_t start = days_from_civil(y, 1, 1);
  return y + static_cast<double>(days - start) / static_cast<double>(days_from_civil(y + 1, 1, 1) - start);
}

}  // namespace pwas::io
