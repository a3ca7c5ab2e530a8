#include "io/import.hpp"

#include <cmath>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "io/cohort_h5.hpp"
#include "tests/io/test_support.hpp"

namespace pwas::io {
namespace {

using test::contains;
using test::input_error;
using test::TempDir;

// Five participants; 104 has no Olink data, 105 only at instance 2; protein 3 (IL6) is never measured.
const char* kParticipants =
    "eid,age,sex,lonely,centre,date_death\n"
    "105,66,Male,1,11012,2015-06-01\n"
    "101,50,Female,-3,11021,\n"
    "104,70,Other,0,11012,2012-01-01\n"
    "102,61,Male,1,11012,2020-02-29\n"
    "103,58,Female,-1,11021,NA\n";
const char* kCoding =
    "coding\tmeaning\n"
    "1\tGDF15;Growth/differentiation factor 15\n"
    "2\tADM;Adrenomedullin\n"
    "3\tIL6;Interleukin-6\n";
const char* kLong =
    "eid\tins_index\tprotein_id\tresult\n"
    "101\t0\t1\t0.25\n"
    "101\t0\t2\t-1.5\n"
    "102\t0\t1\tNA\n"
    "102\t0\t2\t2.125\n"
    "103\t0\t2\tInf\n"
    "103\t0\t1\t3\n"
    "105\t2\t1\t7\n"
    "999\t0\t1\t1\n";
const char* kWide =
    "eid,gdf15,adm,il6\n"
    "103,3,Inf,\n"
    "101,0.25,-1.5,\n"
    "999,1,,\n"
    "102,NA,2.125,\n";

class ImportTest : public ::testing::Test {
 protected:
  TempDir dir_;
  ImportOptions options(const std::string& olink_name, const std::string& olink_text) {
    ImportOptions o;
    o.participants = dir_.write("participants.csv", kParticipants);
    o.coding = dir_.write("coding143.tsv", kCoding);
    o.olink = dir_.write(olink_name, olink_text);
    o.missing_codes = {-1, -3};
    o.force_categorical = {"centre"};
    o.out = dir_.path(olink_name + ".h5");
    return o;
  }
};

TEST_F(ImportTest, LongAndWideGiveTheSameCohort) {
  const ImportReport long_report = import_cohort(options("olink_data.txt", kLong));
  const ImportReport wide_report = import_cohort(options("olink_instance_0.csv", kWide));
  const CohortReader a(dir_.path("olink_data.txt.h5"));
  const CohortReader b(dir_.path("olink_instance_0.csv.h5"));

  EXPECT_EQ(a.meta().eids, (std::vector<std::int64_t>{101, 102, 103}));  // participants-file order
  EXPECT_EQ(b.meta().eids, a.meta().eids);
  ASSERT_EQ(a.meta().n_proteins(), 3U);
  ASSERT_EQ(b.meta().n_proteins(), 3U);
  for (std::size_t j = 0; j < 3; ++j) {
    EXPECT_EQ(a.meta().proteins[j].name, b.meta().proteins[j].name);
    EXPECT_EQ(a.meta().proteins[j].full_name, b.meta().proteins[j].full_name);
  }
  EXPECT_EQ(a.meta().proteins[1].name, "ADM");
  EXPECT_EQ(a.meta().proteins[1].full_name, "Adrenomedullin");

  const Eigen::MatrixXf x = a.read_proteins(0, 3);
  const Eigen::MatrixXf y = b.read_proteins(0, 3);
  ASSERT_EQ(x.rows(), 3);
  for (Eigen::Index i = 0; i < 3; ++i)
    for (Eigen::Index j = 0; j < 3; ++j)
      EXPECT_TRUE(x(i, j) == y(i, j) || (std::isnan(x(i, j)) && std::isnan(y(i, j)))) << i << "," << j;
  EXPECT_EQ(x(0, 0), 0.25F);
  EXPECT_EQ(x(0, 1), -1.5F);
  EXPECT_TRUE(std::isnan(x(1, 0)));
  EXPECT_EQ(x(2, 0), 3.0F);
  EXPECT_TRUE(std::isnan(x(2, 1)));                 // Inf
  EXPECT_TRUE(x.col(2).array().isNaN().all());     // IL6: no value anywhere, still kept

  EXPECT_EQ(long_report.olink_format, "long");
  EXPECT_EQ(long_report.olink_rows, 8);
  EXPECT_EQ(long_report.rows_other_instance, 1);
  EXPECT_EQ(long_report.rows_unknown_eid, 1);
  EXPECT_EQ(long_report.values_missing, 1);
  EXPECT_EQ(long_report.values_nonfinite, 1);
  EXPECT_EQ(long_report.participants_rows, 5);
  EXPECT_EQ(long_report.participants_without_olink, 2);
  EXPECT_EQ(long_report.n_samples, 3);
  EXPECT_EQ(long_report.n_proteins, 3);
  EXPECT_EQ(long_report.n_numeric_columns, 2);
  EXPECT_EQ(long_report.n_categorical_columns, 2);
  EXPECT_EQ(long_report.n_date_columns, 1);
  EXPECT_EQ(long_report.lines().size(), 9U);
  EXPECT_EQ(wide_report.olink_format, "wide");
  EXPECT_EQ(wide_report.olink_rows, 4);
  EXPECT_EQ(wide_report.values_nonfinite, 1);
  EXPECT_EQ(wide_report.values_missing, 4);  // the empty il6 cells count too
}

TEST_F(ImportTest, ParticipantColumnsAreSubsetAndTyped) {
  import_cohort(options("olink_data.txt", kLong));
  const CohortReader r(dir_.path("olink_data.txt.h5"));
  const Column* lonely = r.meta().find_column("lonely");
  ASSERT_NE(lonely, nullptr);
  ASSERT_EQ(lonely->kind, ColumnKind::kNumeric);
  EXPECT_TRUE(std::isnan(lonely->numeric[0]));  // -3
  EXPECT_EQ(lonely->numeric[1], 1.0);
  EXPECT_TRUE(std::isnan(lonely->numeric[2]));  // -1
  const Column* death = r.meta().find_column("date_death");
  ASSERT_NE(death, nullptr);
  ASSERT_EQ(death->kind, ColumnKind::kDate);
  ASSERT_EQ(death->numeric.size(), 3U);
  EXPECT_TRUE(std::isnan(death->numeric[0]));
  EXPECT_EQ(death->numeric[1], 18321.0);   // 2020-02-29
  EXPECT_TRUE(std::isnan(death->numeric[2]));
  const Column* sex = r.meta().find_column("sex");
  ASSERT_NE(sex, nullptr);
  EXPECT_EQ(sex->levels, (std::vector<std::string>{"Female", "Male"}));  // "Other" (104) dropped with its sample
  EXPECT_EQ(sex->codes, (std::vector<std::int32_t>{0, 1, 0}));
  const Column* centre = r.meta().find_column("centre");
  ASSERT_NE(centre, nullptr);
  EXPECT_EQ(centre->kind, ColumnKind::kCategorical);
  EXPECT_EQ(centre->levels, (std::vector<std::string>{"11012", "11021"}));
  const auto& prov = r.meta().provenance;
  EXPECT_EQ(prov.at("instance"), "0");
  EXPECT_EQ(prov.at("missing_codes"), "-1,-3");
  EXPECT_EQ(prov.at("olink_format"), "long");
  EXPECT_TRUE(contains(prov.at("source_olink"), "olink_data.txt"));
  EXPECT_EQ(prov.at("created").size(), 20U);
  EXPECT_TRUE(prov.count("pwas_version"));
}

TEST_F(ImportTest, InstanceFilteringPicksItsSamples) {
  ImportOptions o = options("olink_data.txt", kLong);
  o.instance = 2;
  const ImportReport report = import_cohort(o);
  const CohortReader r(o.out);
  EXPECT_EQ(r.meta().eids, (std::vector<std::int64_t>{105}));
  EXPECT_EQ(r.read_proteins(0, 1)(0, 0), 7.0F);
  EXPECT_EQ(report.rows_other_instance, 7);
}

TEST_F(ImportTest, NoSampleAtTheInstanceIsAnError) {
  ImportOptions o = options("olink_data.txt", kLong);
  o.instance = 3;
  const std::string msg = input_error([&] { import_cohort(o); });
  EXPECT_TRUE(contains(msg, "instance 3")) << msg;
}

TEST_F(ImportTest, FailedImportLeavesNoOutput) {
  ImportOptions o = options("olink_data.txt", std::string(kLong) + "101\t0\t3\tbad\n");
  const std::string msg = input_error([&] { import_cohort(o); });
  EXPECT_TRUE(contains(msg, "olink_data.txt:10:4:")) << msg;
  EXPECT_FALSE(std::filesystem::exists(o.out));
  EXPECT_EQ(dir_.count(), 3U);  // the three inputs only
}

TEST_F(ImportTest, ReplacesAnExistingCohort) {
  ImportOptions o = options("olink_data.txt", kLong);
  dir_.write("olink_data.txt.h5", "old");
  import_cohort(o);
  EXPECT_EQ(CohortReader(o.out).meta().n_samples(), 3U);
}

TEST_F(ImportTest, LargerRandomCohortMatchesBetweenFormats) {
  // 300 participants x 40 proteins with gaps, written in both formats from one table.
  std::string participants = "eid,x\n", coding = "coding\tmeaning\n", long_text = "eid\tins_index\tprotein_id\tresult\n";
  std::string wide = "eid";
  const int n = 300, p = 40;
  for (int j = 1; j <= p; ++j) {
    coding += fmt::format("{}\tPROT{};Protein {}\n", j, j, j);
    wide += fmt::format(",prot{}", j);
  }
  wide += "\n";
  for (int i = 0; i < n; ++i) {
    const int eid = 1000000 + 13 * i;
    participants += fmt::format("{},{}\n", eid, i % 3);
    if (i % 10 == 9) continue;  // no Olink data
    wide += std::to_string(eid);
    for (int j = 1; j <= p; ++j) {
      const bool present = (i * 7 + j * 3) % 17 != 0;
      const std::string v = present ? fmt::format("{:.4f}", std::sin(i * 0.37 + j)) : "";
      if (present) long_text += fmt::format("{}\t0\t{}\t{}\n", eid, j, v);
      wide += "," + v;
    }
    wide += "\n";
  }
  ImportOptions o;
  o.participants = dir_.write("p.csv", participants);
  o.coding = dir_.write("coding.tsv", coding);
  o.olink = dir_.write("long.txt", long_text);
  o.out = dir_.path("long.h5");
  import_cohort(o);
  o.olink = dir_.write("wide.csv", wide);
  o.out = dir_.path("wide.h5");
  import_cohort(o);
  const CohortReader a(dir_.path("long.h5")), b(dir_.path("wide.h5"));
  EXPECT_EQ(a.meta().n_samples(), 270U);
  EXPECT_EQ(a.meta().eids, b.meta().eids);
  const Eigen::MatrixXf x = a.read_proteins(0, p), y = b.read_proteins(0, p);
  EXPECT_TRUE((x.array() == y.array() || (x.array().isNaN() && y.array().isNaN())).all());
  EXPECT_EQ(x.array().isNaN().count(), y.array().isNaN().count());
  EXPECT_GT(x.array().isNaN().count(), 0);
}

}  // namespace
}  // namespace pwas::io
