// Cox fit plans: the survival outcome, rows and strata that build_plan puts on the plan.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "engine/design.hpp"
#include "io/date.hpp"
#include "io/error.hpp"

namespace pwas::engine {
namespace {

constexpr double kNA = std::numeric_limits<double>::quiet_NaN();

double day(const char* iso) { return static_cast<double>(*io::parse_iso_date(iso)); }

io::Column numeric(const std::string& name, std::vector<double> v) {
  return {name, io::ColumnKind::kNumeric, std::move(v), {}, {}};
}
io::Column dates(const std::string& name, std::vector<double> v) {
  return {name, io::ColumnKind::kDate, std::move(v), {}, {}};
}

// Ten participants. 2 is a prevalent case, 5 has no baseline, 7 misses age, 9 has its event in year 1.
io::CohortMeta cohort() {
  io::CohortMeta m;
  for (std::int64_t i = 0; i < 10; ++i) m.eids.push_back(1000 + i);
  m.columns.push_back(numeric("age", {50, 61, 55, 48, 70, 66, 59, kNA, 63, 52}));
  m.columns.push_back({"sex", io::ColumnKind::kCategorical, {}, {0, 1, 1, 0, 0, 1, 0, 1, 1, 0}, {"Female", "Male"}});
  m.columns.push_back(numeric("centre", {11012, 11021, 11012, 11021, 11012, 11021, 11012, 11012, 11021, 11009}));
  m.columns.push_back(dates("date_baseline", {day("2008-01-01"), day("2009-01-01"), day("2007-05-01"), day("2010-02-02"),
                                              day("2006-06-06"), kNA, day("2008-08-08"), day("2008-01-01"),
                                              day("2009-09-09"), day("2010-01-01")}));
  m.columns.push_back(dates("date_cvd", {day("2016-01-01"), kNA, day("2001-01-01"), kNA, day("2019-03-03"), kNA,
                                         kNA, kNA, day("2020-01-01"), day("2010-06-01")}));
  m.columns.push_back(dates("date_death", {kNA, day("2018-01-01"), kNA, kNA, kNA, kNA, day("2021-01-01"), kNA, kNA,
                                           kNA}));
  m.columns.push_back(numeric("cvd_years", {8, 9, 10, 11, 12, 13, 1, 2, 3, 4}));
  m.columns.push_back(numeric("cvd_event", {1, 0, 1, 0, 1, 0, 1, 0, 0, kNA}));
  return m;
}

io::AnalysisConfig cox_analysis() {
  io::AnalysisConfig a;
  a.name = "cox";
  a.model = io::ModelKind::kCox;
  a.source = "test.toml:10:1";
  io::SurvivalDerivation d;
  d.name = "cvd";
  d.baseline = "date_baseline";
  d.event_date = "date_cvd";
  d.death_date = "date_death";
  d.censor_date = io::days_from_civil(2022, 11, 30);
  d.exclude_years = 3;
  d.source = "test.toml:2:1";
  d.where = {{"date_baseline", "test.toml:4:12"}, {"date_cvd", "test.toml:5:14"}, {"date_death", "test.toml:6:14"}};
  a.survival.push_back({"cvd", d, "", ""});
  a.survival.push_back({"cvd_event", std::nullopt, "cvd_years", "cvd_event"});
  a.outcomes = {"cvd", "cvd_event"};
  a.predictors = {io::kProteinWord};
  a.covariates = {"age", "sex"};
  a.where = {{"cvd_years", "test.toml:12:20"}, {"cvd_event", "test.toml:12:40"}, {"centre", "test.toml:14:11"}};
  return a;
}

FitPlan plan(const io::CohortMeta& m, const io::AnalysisConfig& a, const std::string& outcome) {
  return build_plan(m, a, select_samples(m, a), outcome, io::kProteinWord);
}

std::string error_of(const io::CohortMeta& m, const io::AnalysisConfig& a, const std::string& outcome) {
  try {
    plan(m, a, outcome);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(CoxPlan, DerivedOutcomeKeepsEligibleRowsWithTheirTimes) {
  const io::CohortMeta m = cohort();
  const FitPlan p = plan(m, cox_analysis(), "cvd");
  // 2 prevalent, 5 no baseline, 7 no age, 9 event within 3 years: six rows left.
  EXPECT_EQ(p.rows, (std::vector<std::int64_t>{0, 1, 3, 4, 6, 8}));
  ASSERT_EQ(p.surv_time.size(), 6);
  EXPECT_EQ(p.surv_event, (std::vector<std::uint8_t>{1, 0, 0, 1, 0, 1}));
  EXPECT_DOUBLE_EQ(p.surv_time(0), (day("2016-01-01") - day("2008-01-01")) / 365.25);
  EXPECT_DOUBLE_EQ(p.surv_time(1), (day("2018-01-01") - day("2009-01-01")) / 365.25);   // died
  EXPECT_DOUBLE_EQ(p.surv_time(2), (day("2022-11-30") - day("2010-02-02")) / 365.25);   // censored
  EXPECT_EQ(p.stratum, (std::vector<std::int32_t>(6, 0)));
  EXPECT_EQ(p.n_strata, 1);
  EXPECT_EQ(p.n_cases, 3);
  EXPECT_EQ(p.design.n_cov(), 3);    // intercept, age, sex=Male
  EXPECT_EQ(p.terms.front(), "(Intercept)");
  EXPECT_EQ(p.outcome_values.size(), 0);
  bool logged = false;
  for (const auto& l : p.log) logged = logged || l.find("survival cvd: eligible 6 of 9") != std::string::npos;
  EXPECT_TRUE(logged);   // counted over the samples with complete covariates
}

TEST(CoxPlan, TimeEventColumnsAndStrataInKeyOrder) {
  const io::CohortMeta m = cohort();
  io::AnalysisConfig a = cox_analysis();
  a.strata = {"centre"};
  const FitPlan p = plan(m, a, "cvd_event");
  // 7 misses age, 9 misses its event.
  EXPECT_EQ(p.rows, (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 8}));
  EXPECT_EQ(p.surv_event, (std::vector<std::uint8_t>{1, 0, 1, 0, 1, 0, 1, 0}));
  EXPECT_DOUBLE_EQ(p.surv_time(3), 11.0);
  EXPECT_EQ(p.stratum, (std::vector<std::int32_t>{0, 1, 0, 1, 0, 1, 0, 1}));   // 11012 -> 0, 11021 -> 1
  EXPECT_EQ(p.n_strata, 2);
}

TEST(CoxPlanErrors, DerivationNeedsDateColumns) {
  io::CohortMeta m = cohort();
  m.columns[3].kind = io::ColumnKind::kNumeric;   // date_baseline imported as a number
  const std::string msg = error_of(m, cox_analysis(), "cvd");
  EXPECT_NE(msg.find("test.toml:4:12"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a date column"), std::string::npos) << msg;
}

TEST(CoxPlanErrors, UnknownDateColumn) {
  io::AnalysisConfig a = cox_analysis();
  a.survival[0].derived->death_date = "date_died";
  a.survival[0].derived->where["date_died"] = "test.toml:6:14";
  const std::string msg = error_of(cohort(), a, "cvd");
  EXPECT_NE(msg.find("test.toml:6:14"), std::string::npos) << msg;
  EXPECT_NE(msg.find("date_died"), std::string::npos) << msg;
}

TEST(CoxPlanErrors, EventColumnMustBeBinary) {
  io::CohortMeta m = cohort();
  m.columns[7].numeric[1] = 2;
  const std::string msg = error_of(m, cox_analysis(), "cvd_event");
  EXPECT_NE(msg.find("test.toml:12:40"), std::string::npos) << msg;
  EXPECT_NE(msg.find("0/1"), std::string::npos) << msg;
}

TEST(CoxPlanErrors, NegativeTime) {
  io::CohortMeta m = cohort();
  m.columns[6].numeric[0] = -1;
  const std::string msg = error_of(m, cox_analysis(), "cvd_event");
  EXPECT_NE(msg.find("test.toml:12:20"), std::string::npos) << msg;
}

TEST(CoxPlanErrors, StratumMustBeIntegerOrCategorical) {
  io::CohortMeta m = cohort();
  m.columns[2].numeric[4] = 11012.5;
  io::AnalysisConfig a = cox_analysis();
  a.strata = {"centre"};
  const std::string msg = error_of(m, a, "cvd");
  EXPECT_NE(msg.find("test.toml:14:11"), std::string::npos) << msg;
  EXPECT_NE(msg.find("integer"), std::string::npos) << msg;
}

}  // namespace
}  // namespace pwas::engine
