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
