#include "engine/survival_outcome.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "io/date.hpp"

namespace pwas::engine {
namespace {

constexpr double kNA = std::numeric_limits<double>::quiet_NaN();

double day(const char* iso) { return static_cast<double>(*io::parse_iso_date(iso)); }

const SurvivalRule kStudy{io::days_from_civil(2022, 11, 30), 3.0};

TEST(SurvivalOutcome, EachRuleOnAHandCheckedParticipant) {
  // 0 event during follow-up; 1 censored alive; 2 died first (censored at death); 3 prevalent by date;
  // 4 event in the first 3 years; 5 no baseline; 6 prevalent by flag; 7 event after the censor date;
  // 8 event on the death day; 9 death before baseline; 10 event on the baseline day (prevalent).
  const std::vector<double> base = {day("2008-01-01"), day("2008-01-01"), day("2009-06-15"), day("2007-03-01"),
                                    day("2010-01-01"), kNA,               day("2008-01-01"), day("2006-05-05"),
                                    day("2008-01-01"), day("2008-01-01"), day("2008-01-01")};
  const std::vector<double> event = {day("2015-01-01"), kNA, kNA,  day("2001-01-01"), day("2012-06-01"), day("2015-01-01"),
                                     day("2015-01-01"), day("2023-01-01"), day("2019-05-05"), kNA, day("2008-01-01")};
  const std::vector<double> death = {kNA, kNA, day("2014-02-01"), kNA, kNA, kNA, kNA, kNA, day("2019-05-05"),
                                     day("2007-01-01"), kNA};
  const std::vector<double> flag = {0, 0, 0, 0, 0, 0, 1, kNA, 0, 0, 0};
  const DerivedSurvival d = derive_survival(kStudy, {base, event, death, flag});
  using E = SurvivalExclusion;
  EXPECT_EQ(d.status, (std::vector<E>{E::kEligible, E::kEligible, E::kEligible, E::kPrevalentDate, E::kEarlyEvent,
                                      E::kNoBaseline, E::kPrevalentFlag, E::kEligible, E::kEligible,
                                      E::kDeathBeforeBaseline, E::kPrevalentDate}));
  EXPECT_EQ(d.event[0], 1);
  EXPECT_DOUBLE_EQ(d.years[0], (day("2015-01-01") - day("2008-01-01")) / 365.25);
  EXPECT_EQ(d.event[1], 0);
  EXPECT_DOUBLE_EQ(d.years[1], (day("2022-11-30") - day("2008-01-01")) / 365.25);
  EXPECT_EQ(d.event[2], 0);
  EXPECT_DOUBLE_EQ(d.years[2], (day("2014-02-01") - day("2009-06-15")) / 365.25);
  EXPECT_EQ(d.event[7], 0);   // after the censor date: not an event, censored there
  EXPECT_DOUBLE_EQ(d.years[7], (day("2022-11-30") - day("2006-05-05")) / 365.25);
  EXPECT_EQ(d.event[8], 1);   // event and death on the same day: the event counts
  EXPECT_TRUE(std::isnan(d.years[3]) && std::isnan(d.years[5]));
}

TEST(SurvivalOutcome, ExcludeYearsBoundaryAndZero) {
  const std::vector<double> base = {0.0, 0.0, 0.0};
  const std::vector<double> event = {3 * 365.25, 3 * 365.25 + 1, 10.0};
  const DerivedSurvival three = derive_survival({20000, 3.0}, {base, event, {}, {}});
  EXPECT_EQ(three.status[0], SurvivalExclusion::kEarlyEvent);   // exactly 3 years: within
  EXPECT_EQ(three.status[1], SurvivalExclusion::kEligible);
  EXPECT_EQ(three.status[2], SurvivalExclusion::kEarlyEvent);
  const DerivedSurvival none = derive_survival({20000, 0.0}, {base, event, {}, {}});
  for (auto s : none.status) EXPECT_EQ(s, SurvivalExclusion::kEligible);
  EXPECT_DOUBLE_EQ(none.years[2], 10.0 / 365.25);
}

TEST(SurvivalOutcome, DeathAsItsOwnOutcome) {
  // For all-cause death the event date is the death date and there is no competing end.
  const std::vector<double> base = {0.0, 0.0, 0.0};
  const std::vector<double> death = {5000.0, kNA, 30000.0};
  const DerivedSurvival d = derive_survival({10000, 3.0}, {base, death, {}, {}});
  EXPECT_EQ(d.event, (std::vector<std::uint8_t>{1, 0, 0}));
  EXPECT_DOUBLE_EQ(d.years[0], 5000.0 / 365.25);
  EXPECT_DOUBLE_EQ(d.years[1], 10000.0 / 365.25);
  EXPECT_DOUBLE_EQ(d.years[2], 10000.0 / 365.25);
}

TEST(SurvivalOutcome, BaselineAfterCensorIsExcluded) {
  const std::vector<double> base = {10000.0, 9999.0};
  const std::vector<double> event = {kNA, kNA};
  const DerivedSurvival d = derive_survival({10000, 0.0}, {base, event, {}, {}});
  EXPECT_EQ(d.status[0], SurvivalExclusion::kBaselineAfterCensor);
  EXPECT_EQ(d.status[1], SurvivalExclusion::kEligible);
  EXPECT_DOUBLE_EQ(d.years[1], 1.0 / 365.25);
}

TEST(SurvivalOutcome, CountsOnlyKeptRowsAndMedian) {
  const std::vector<double> base = {0, 0, 0, 0, kNA, 0};
  const std::vector<double> event = {365.25, kNA, 730.5, -5, kNA, kNA};
  const std::vector<double> death = {kNA, 1461.0, kNA, kNA, kNA, kNA};
  const DerivedSurvival d = derive_survival({3652, 0.0}, {base, event, death, {}});
  const std::vector<std::uint8_t> keep = {1, 1, 1, 1, 1, 0};
  const SurvivalCounts c = count_survival(d, keep);
  EXPECT_EQ(c.considered, 5);
  EXPECT_EQ(c.eligible, 3);
  EXPECT_EQ(c.events, 2);
  EXPECT_EQ(c.excluded[static_cast<int>(SurvivalExclusion::kPrevalentDate)], 1);
  EXPECT_EQ(c.excluded[static_cast<int>(SurvivalExclusion::kNoBaseline)], 1);
  EXPECT_DOUBLE_EQ(c.median_years, 2.0);        // follow-up 1, 4 and 2 years
  EXPECT_DOUBLE_EQ(c.person_years, 7.0);
  const std::vector<std::uint8_t> two = {1, 1, 0, 0, 0, 0};
  EXPECT_DOUBLE_EQ(count_survival(d, two).median_years, 2.5);   // even count: mean of the middle two
  const auto lines = describe_survival("cvd", {3652, 0.0}, c);
  ASSERT_EQ(lines.size(), 3U);
  EXPECT_NE(lines[1].find("eligible 3 of 5"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("1 no baseline date"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("events 2"), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find("median follow-up 2.00 years"), std::string::npos) << lines[2];
}

}  // namespace
}  // namespace pwas::engine
