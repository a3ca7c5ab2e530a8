#pragma once
// Calendar dates as days since 1970-01-01 (proleptic Gregorian), the form date columns take in a cohort file.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pwas::io {

/// True when `s` has the shape of an ISO date, YYYY-MM-DD (ten characters, digits and two dashes); says nothing
/// about whether the month and day exist.
bool looks_like_iso_date(std::string_view s);

/// Days since 1970-01-01 of an ISO date YYYY-MM-DD, or nothing when `s` is not one or names no real day
/// (month 13, 30 February, ...).
std::optional<std::int64_t> parse_iso_date(std::string_view s);

/// Days since 1970-01-01 of year/month/day, which must name a real day.
std::int64_t days_from_civil(int year, int month, int day);

/// The ISO text YYYY-MM-DD of a day count (inverse of days_from_civil).
std::string format_iso_date(std::int64_t days);

/// The year with its fraction for a day count (e.g. 2022-11-30 -> 2022.91), for messages and the simulator.
double decimal_year(std::int64_t days);

}  // namespace pwas::io
