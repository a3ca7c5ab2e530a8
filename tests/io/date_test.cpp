#include "io/date.hpp"

#include <gtest/gtest.h>

namespace pwas::io {
namespace {

TEST(Date, KnownDaysMatchR) {
  // as.numeric(as.Date(...)) in R.
  EXPECT_EQ(parse_iso_date("1970-01-01"), 0);
  EXPECT_EQ(parse_iso_date("2022-11-30"), 19326);
  EXPECT_EQ(parse_iso_date("2000-02-29"), 11016);
  EXPECT_EQ(parse_iso_date("1969-12-31"), -1);
  EXPECT_EQ(parse_iso_date("1900-01-01"), -25567);
  EXPECT_EQ(days_from_civil(2006, 3, 1), 13208);
}

TEST(Date, RejectsDaysThatDoNotExist) {
  EXPECT_FALSE(parse_iso_date("1900-02-29"));   // 1900 is not a leap year
  EXPECT_TRUE(parse_iso_date("2000-02-29"));    // 2000 is
  EXPECT_FALSE(parse_iso_date("2021-02-29"));
  EXPECT_FALSE(parse_iso_date("2021-04-31"));
  EXPECT_FALSE(parse_iso_date("2021-00-10"));
  EXPECT_FALSE(parse_iso_date("2021-01-00"));
  EXPECT_FALSE(parse_iso_date("2021-1-10"));
  EXPECT_FALSE(parse_iso_date("2021/01/10"));
  EXPECT_FALSE(parse_iso_date("2021-01-10T00:00"));
}

TEST(Date, FormatInvertsParseOverTwoCenturies) {
  for (std::int64_t d = -40000; d <= 40000; d += 7) {
    const std::string iso = format_iso_date(d);
    ASSERT_EQ(parse_iso_date(iso), d) << iso;
  }
  EXPECT_EQ(format_iso_date(19326), "2022-11-30");
}

TEST(Date, DecimalYear) {
  EXPECT_DOUBLE_EQ(decimal_year(0), 1970.0);
  EXPECT_NEAR(decimal_year(19326), 2022.0 + 333.0 / 365.0, 1e-12);
}

}  // namespace
}  // namespace pwas::io
