#include "io/results.hpp"

#include <fstream>
#include <limits>
#include <sstream>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace pwas::io {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ResultsTsv, ExtraColumnsGoBeforeErrcode) {
  test::TempDir dir;
  ResultTable t;
  t.analysis = "cox";
  t.model = "cox";
  t.extra_columns = {"EVENT_CT", "HR"};
  ResultRow r;
  r.outcome = "cvd";
  r.predictor = "GDF15";
  r.protein = "GDF15";
  r.obs_ct = 100;
  r.beta = 0.5;
  r.extra = {17.0, std::numeric_limits<double>::quiet_NaN()};
  t.rows = {r};
  const std::string path = dir.path("cox.tsv");
  write_results_tsv(path, t);
  const std::string text = slurp(path);
  const std::string header = text.substr(0, text.find('\n'));
  EXPECT_NE(header.find("\tQ_FDR\tEVENT_CT\tHR\tERRCODE"), std::string::npos) << header;
  EXPECT_NE(text.find("\t17\tNA\tOK\n"), std::string::npos) << text;
}

TEST(ResultsTsv, RowWithoutItsExtraValuesIsRefused) {
  test::TempDir dir;
  ResultTable t;
  t.analysis = "a";
  t.model = "linear";
  t.extra_columns = {"P_PERM"};
  t.rows.resize(1);
  EXPECT_THROW(write_results_tsv(dir.path("a.tsv"), t), std::logic_error);
}

}  // namespace
}  // namespace pwas::io
