#include "io/config.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "io/error.hpp"

namespace pwas::io {
namespace {

std::string write_config(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path() / "pwas_config_test";
  std::filesystem::create_directories(dir);
  const auto path = (dir / name).string();
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::string& path) {
  try {
    load_config(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, ParsesTheStudyStyleConfig) {
  const auto path = write_config("ok.toml", R"(cohort = "cohort.h5"
out = "results"
seed = 7
[covariate_sets]
simple = ["age", "sex"]
[[analysis]]
name = "pwas_full"
model = "logistic"
outcome = ["isolation", "loneliness"]
covariates = "simple"
categorical = ["sex"]
protein_transform = "zscore"
bonferroni_tests = 5840
filter = ["age < 60", "ethnicity == \"White\""]
)");
  const RunConfig c = load_config(path);
  EXPECT_EQ(c.seed, 7u);
  EXPECT_EQ(std::filesystem::path(c.cohort).filename(), "cohort.h5");
  EXPECT_TRUE(std::filesystem::path(c.cohort).is_absolute());
  ASSERT_EQ(c.analyses.size(), 1u);
  const auto& a = c.analyses[0];
  EXPECT_EQ(a.model, ModelKind::kLogistic);
  EXPECT_EQ(a.outcomes, (std::vector<std::string>{"isolation", "loneliness"}));
  EXPECT_EQ(a.predictors, (std::vector<std::string>{"protein"}));
  EXPECT_EQ(a.covariates, (std::vector<std::string>{"age", "sex"}));
  EXPECT_EQ(a.transform, ProteinTransform::kZscore);
  EXPECT_DOUBLE_EQ(*a.bonferroni_tests, 5840);
  ASSERT_EQ(a.filters.size(), 2u);
  EXPECT_EQ(a.filters[0].column, "age");
  EXPECT_EQ(a.filters[0].op, "<");
  EXPECT_TRUE(a.filters[0].is_number);
  EXPECT_DOUBLE_EQ(a.filters[0].number, 60);
  EXPECT_EQ(a.filters[1].text, "White");
  EXPECT_FALSE(a.filters[1].is_number);
  EXPECT_NE(a.where.at("loneliness").find("ok.toml:9:"), std::string::npos);
}

TEST(Config, SyntaxErrorNamesLineAndColumn) {
  const auto path = write_config("syntax.toml", "cohort = \"x.h5\"\n[[analysis]]\nname = \"a\nmodel = 1\n");
  const std::string msg = error_of(path);
  EXPECT_NE(msg.find("syntax.toml:3:"), std::string::npos) << msg;
}

TEST(Config, UnknownKeyIsAnError) {
  const auto path = write_config("unknown.toml",
                                 "cohort = \"x.h5\"\n[[analysis]]\nname = \"a\"\nmodel = \"linear\"\noutcome = \"bmi\"\n"
                                 "covariats = [\"age\"]\n");
  const std::string msg = error_of(path);
  EXPECT_NE(msg.find("unknown.toml:6:1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("covariats"), std::string::npos) << msg;
}

TEST(Config, BadModelAndTransformAreErrors) {
  EXPECT_NE(error_of(write_config("m.toml", "cohort = \"x.h5\"\n[[analysis]]\nname = \"a\"\nmodel = \"probit\"\noutcome = \"y\"\n"))
                .find("m.toml:4:"),
            std::string::npos);
  EXPECT_NE(error_of(write_config("t.toml", "cohort = \"x.h5\"\n[[analysis]]\nname = \"a\"\nmodel = \"linear\"\n"
                                            "outcome = \"y\"\nprotein_transform = \"log\"\n"))
                .find("t.toml:6:"),
            std::string::npos);
}

TEST(Config, ProteinOutcomeNeedsLinear) {
  const auto msg = error_of(write_config("po.toml", "cohort = \"x.h5\"\n[[analysis]]\nname = \"a\"\nmodel = \"logistic\"\n"
                                                    "outcome = \"protein\"\npredictor = \"isolation\"\n"));
  EXPECT_NE(msg.find("linear"), std::string::npos) << msg;
}

TEST(Config, MissingFileAndMissingAnalysis) {
  EXPECT_NE(error_of("/nonexistent/pwas.toml").find("not found"), std::string::npos);
  EXPECT_NE(error_of(write_config("none.toml", "cohort = \"x.h5\"\n")).find("[[analysis]]"), std::string::npos);
}

TEST(Config, UnknownCovariateSet) {
  const auto msg = error_of(write_config("set.toml", "cohort = \"x.h5\"\n[[analysis]]\nname = \"a\"\nmodel = \"linear\"\n"
                                                     "outcome = \"y\"\ncovariates = \"fulll\"\n"));
  EXPECT_NE(msg.find("set.toml:6:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("fulll"), std::string::npos) << msg;
}

TEST(Config, BadFilter) {
  const auto msg = error_of(write_config("f.toml", "cohort = \"x.h5\"\n[[analysis]]\nname = \"a\"\nmodel = \"linear\"\n"
                                                   "outcome = \"y\"\nfilter = [\"age ~ 3\"]\n"));
  EXPECT_NE(msg.find("f.toml:6:"), std::string::npos) << msg;
}

}  // namespace
}  // namespace pwas::io

namespace pwas::io {
namespace {

const char* kSurvival = R"(cohort = "cohort.h5"
[[survival]]
name = "cvd"
baseline = "date_baseline"
event_date = "date_cvd"
death_date = "date_death"
censor_date = "2022-11-30"
prevalent_flag = "cvd_prevalent"
exclude_years = 3
[[survival]]
name = "death"
baseline = "date_baseline"
event_date = "date_death"
censor_date = "2022-11-30"
)";

std::string cox_config(const std::string& name, const std::string& analysis) {
  return write_config(name, std::string(kSurvival) + "[[analysis]]\nname = \"cox\"\nmodel = \"cox\"\n" + analysis);
}

TEST(ConfigCox, ParsesDerivationsAndACoxAnalysis) {
  const auto path = cox_config("cox_ok.toml", R"(outcome = ["cvd", "death", { time = "t2d_years", event = "t2d_event" }]
covariates = ["age", "sex", "bmi"]
strata = ["centre"]
ties = "breslow"
score_screen_p = 1e-3
)");
  const RunConfig cfg = load_config(path);
  ASSERT_EQ(cfg.survival.size(), 2U);
  const SurvivalDerivation& cvd = cfg.survival[0];
  EXPECT_EQ(cvd.name, "cvd");
  EXPECT_EQ(cvd.baseline, "date_baseline");
  EXPECT_EQ(cvd.event_date, "date_cvd");
  EXPECT_EQ(cvd.death_date, "date_death");
  EXPECT_EQ(cvd.censor_date, 19326);
  EXPECT_EQ(cvd.prevalent_flag, "cvd_prevalent");
  EXPECT_EQ(cvd.exclude_years, 3.0);
  EXPECT_EQ(cfg.survival[1].death_date, "");
  EXPECT_EQ(cfg.survival[1].exclude_years, 0.0);
  ASSERT_EQ(cfg.analyses.size(), 1U);
  const AnalysisConfig& a = cfg.analyses[0];
  EXPECT_EQ(a.model, ModelKind::kCox);
  EXPECT_EQ(a.outcomes, (std::vector<std::string>{"cvd", "death", "t2d_event"}));
  ASSERT_EQ(a.survival.size(), 3U);
  ASSERT_TRUE(a.survival[0].derived.has_value());
  EXPECT_EQ(a.survival[0].derived->event_date, "date_cvd");
  EXPECT_FALSE(a.survival[2].derived.has_value());
  EXPECT_EQ(a.survival[2].time, "t2d_years");
  EXPECT_EQ(a.survival[2].event, "t2d_event");
  EXPECT_EQ(a.strata, (std::vector<std::string>{"centre"}));
  EXPECT_EQ(a.ties, CoxTies::kBreslow);
  ASSERT_TRUE(a.score_screen_p.has_value());
  EXPECT_EQ(*a.score_screen_p, 1e-3);
  EXPECT_EQ(a.predictors, (std::vector<std::string>{"protein"}));
  EXPECT_NE(a.where.at("t2d_event").find("cox_ok.toml:"), std::string::npos);
  EXPECT_EQ(std::string(to_string(a.model)), "cox");
}

TEST(ConfigCox, DefaultsAreEfronAndNoScreen) {
  const RunConfig cfg = load_config(cox_config("cox_default.toml", "outcome = \"cvd\"\n"));
  EXPECT_EQ(cfg.analyses[0].ties, CoxTies::kEfron);
  EXPECT_FALSE(cfg.analyses[0].score_screen_p.has_value());
  EXPECT_TRUE(cfg.analyses[0].strata.empty());
}

// Each error names the file, the line and the column of the offending value.
void expect_error_at(const std::string& path, const std::string& location, const std::string& word) {
  const std::string msg = error_of(path);
  EXPECT_NE(msg.find(location), std::string::npos) << msg;
  EXPECT_NE(msg.find(word), std::string::npos) << msg;
}

TEST(ConfigCoxErrors, UnknownSurvivalName) {
  expect_error_at(cox_config("e1.toml", "outcome = [\"cvd\", \"stroke\"]\n"), "e1.toml:18:19:", "stroke");
}

TEST(ConfigCoxErrors, BadTies) {
  expect_error_at(cox_config("e2.toml", "outcome = \"cvd\"\nties = \"exact\"\n"), "e2.toml:19:8:", "exact");
}

TEST(ConfigCoxErrors, CoxKeysNeedCox) {
  const auto path = write_config("e3.toml", "cohort = \"x.h5\"\n[[analysis]]\nname = \"a\"\nmodel = \"logistic\"\n"
                                            "outcome = \"y\"\nstrata = [\"centre\"]\n");
  expect_error_at(path, "e3.toml:6:10:", "model = \"cox\"");
  const auto ties = write_config("e3b.toml", "cohort = \"x.h5\"\n[[analysis]]\nname = \"a\"\nmodel = \"linear\"\n"
                                             "outcome = \"y\"\nties = \"efron\"\n");
  expect_error_at(ties, "e3b.toml:6:8:", "ties");
}

TEST(ConfigCoxErrors, TimeEventOutcomeNeedsCox) {
  const auto path = write_config("e4.toml", "cohort = \"x.h5\"\n[[analysis]]\nname = \"a\"\nmodel = \"logistic\"\n"
                                            "outcome = { time = \"t\", event = \"e\" }\n");
  expect_error_at(path, "e4.toml:5:11:", "model = \"cox\"");
}

TEST(ConfigCoxErrors, TimeEventOutcomeNeedsBothAndNoMore) {
  expect_error_at(cox_config("e5.toml", "outcome = { time = \"t\" }\n"), "e5.toml:18:11:", "event");
  expect_error_at(cox_config("e5b.toml", "outcome = { time = \"t\", event = \"e\", status = \"s\" }\n"),
                  "e5b.toml:18:38:", "status");
}

TEST(ConfigCoxErrors, OutcomeGivenTwice) {
  expect_error_at(cox_config("e6.toml", "outcome = [\"cvd\", \"cvd\"]\n"), "e6.toml:18:19:", "twice");
}

TEST(ConfigCoxErrors, ProteinIsNotASurvivalOutcome) {
  expect_error_at(cox_config("e7.toml", "outcome = \"protein\"\npredictor = \"isolation\"\n"), "e7.toml:18:11:",
                  "protein");
}

TEST(ConfigCoxErrors, ScreenPOutOfRange) {
  expect_error_at(cox_config("e8.toml", "outcome = \"cvd\"\nscore_screen_p = 0\n"), "e8.toml:19:18:",
                  "score_screen_p");
  expect_error_at(cox_config("e8b.toml", "outcome = \"cvd\"\nscore_screen_p = \"small\"\n"), "e8b.toml:19:18:",
                  "score_screen_p");
}

TEST(ConfigCox, MediationExposureAndBootstrap) {
  const RunConfig cfg = load_config(cox_config("med_ok.toml", "outcome = \"cvd\"\ncovariates = [\"age\", \"loneliness\"]\n"
                                                                 "mediation_exposure = \"loneliness\"\nmediation_bootstrap = 200\n"));
  EXPECT_EQ(cfg.analyses[0].mediation_exposure, "loneliness");
  EXPECT_EQ(cfg.analyses[0].mediation_bootstrap, 200);
}

TEST(ConfigCoxErrors, MediationExposureMustBeANumericCovariate) {
  expect_error_at(cox_config("m1.toml", "outcome = \"cvd\"\ncovariates = [\"age\"]\nmediation_exposure = \"loneliness\"\n"),
                  "m1.toml:20:22:", "covariates");
  expect_error_at(cox_config("m2.toml", "outcome = \"cvd\"\ncovariates = [\"age\", \"centre\"]\ncategorical = [\"centre\"]\n"
                                        "mediation_exposure = \"centre\"\n"),
                  "m2.toml:21:22:", "categorical");
  expect_error_at(cox_config("m3.toml", "outcome = \"cvd\"\ncovariates = [\"age\"]\nmediation_bootstrap = 10\n"),
                  "m3.toml:20:23:", "mediation_exposure");
}

TEST(ConfigCoxErrors, StratumAlsoACovariate) {
  expect_error_at(cox_config("e9.toml", "outcome = \"cvd\"\ncovariates = [\"age\", \"centre\"]\nstrata = [\"centre\"]\n"),
                  "e9.toml:20:10:", "centre");
}

std::string survival_config(const std::string& name, const std::string& table) {
  return write_config(name, "cohort = \"x.h5\"\n[[survival]]\n" + table +
                                "[[analysis]]\nname = \"a\"\nmodel = \"linear\"\noutcome = \"y\"\n");
}

TEST(ConfigSurvivalErrors, BadCensorDate) {
  expect_error_at(survival_config("s1.toml", "name = \"cvd\"\nbaseline = \"b\"\nevent_date = \"e\"\n"
                                             "censor_date = \"2022-11-31\"\n"),
                  "s1.toml:6:15:", "2022-11-31");
}

TEST(ConfigSurvivalErrors, MissingRequiredKey) {
  expect_error_at(survival_config("s2.toml", "name = \"cvd\"\nbaseline = \"b\"\ncensor_date = \"2022-11-30\"\n"),
                  "s2.toml:2:", "event_date");
}

TEST(ConfigSurvivalErrors, UnknownKey) {
  expect_error_at(survival_config("s3.toml", "name = \"cvd\"\nbaseline = \"b\"\nevent_date = \"e\"\n"
                                             "censor_date = \"2022-11-30\"\nexclude_year = 3\n"),
                  "s3.toml:7:1:", "exclude_year");
}

TEST(ConfigSurvivalErrors, NegativeExcludeYears) {
  expect_error_at(survival_config("s4.toml", "name = \"cvd\"\nbaseline = \"b\"\nevent_date = \"e\"\n"
                                             "censor_date = \"2022-11-30\"\nexclude_years = -1\n"),
                  "s4.toml:7:17:", "exclude_years");
}

TEST(ConfigSurvivalErrors, NameUsedTwice) {
  const std::string table = "name = \"cvd\"\nbaseline = \"b\"\nevent_date = \"e\"\ncensor_date = \"2022-11-30\"\n";
  expect_error_at(survival_config("s5.toml", table + "[[survival]]\n" + table), "s5.toml:7:", "twice");
}

TEST(ConfigSurvivalErrors, SurvivalMustBeAnArrayOfTables) {
  expect_error_at(write_config("s6.toml", "cohort = \"x.h5\"\nsurvival = \"cvd\"\n[[analysis]]\nname = \"a\"\n"
                                          "model = \"linear\"\noutcome = \"y\"\n"),
                  "s6.toml:2:12:", "[[survival]]");
}

}  // namespace
}  // namespace pwas::io
