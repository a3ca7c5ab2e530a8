#include "io/olink.hpp"

#include <cmath>

#include <gtest/gtest.h>

#include "tests/io/test_support.hpp"

namespace pwas::io {
namespace {

using test::contains;
using test::input_error;
using test::TempDir;

const char* kCoding =
    "coding\tmeaning\n"
    "3\tIL6;Interleukin-6\n"
    "1\tGDF15;Growth/differentiation factor 15\n"
    "2\tHLA-A;HLA class I histocompatibility antigen, A alpha chain\n";

class OlinkTest : public ::testing::Test {
 protected:
  std::vector<std::int64_t> eids_{101, 102, 103};
  EidIndex index_{eids_};
  TempDir dir_;
  std::string coding_ = dir_.write("coding143.tsv", kCoding);

  OlinkData read(const std::string& name, const std::string& text, int instance = 0, bool with_coding = true) {
    return read_olink({dir_.write(name, text), with_coding ? coding_ : "", instance}, index_, eids_.size());
  }
  std::string error(const std::string& name, const std::string& text) {
    return input_error([&] { read(name, text); });
  }
};

float at(const OlinkData& d, std::size_t participant, std::size_t protein) {
  return d.values.row(d.row_of[participant])[protein];
}

TEST_F(OlinkTest, ReadsCodingSortedByNumber) {
  const std::vector<CodingEntry> c = read_coding(coding_);
  ASSERT_EQ(c.size(), 3U);
  EXPECT_EQ(c[0].coding, 1);
  EXPECT_EQ(c[0].symbol, "GDF15");
  EXPECT_EQ(c[0].full_name, "Growth/differentiation factor 15");
  EXPECT_EQ(c[2].symbol, "IL6");
}

TEST_F(OlinkTest, LongFormatKeepsTheInstanceAndCountsEverything) {
  const OlinkData d = read("olink_data.txt",
                           "eid\tins_index\tprotein_id\tresult\n"
                           "101\t0\t1\t1.25\n"
                           "101\t0\t3\t-0.5\n"
                           "101\t2\t1\t9\n"
                           "102\t0\t1\tNA\n"
                           "102\t0\t2\t\n"
                           "102\t0\t3\tNaN\n"
                           "103\t0\t2\tInf\n"
                           "103\t0\t3\t2e0\n"
                           "999\t0\t1\t3\n");
  EXPECT_EQ(d.format, OlinkFormat::kLong);
  ASSERT_EQ(d.proteins.size(), 3U);
  EXPECT_EQ(d.proteins[0].name, "GDF15");
  EXPECT_EQ(d.proteins[1].name, "HLA-A");
  EXPECT_EQ(d.counts.rows, 9);
  EXPECT_EQ(d.counts.rows_other_instance, 1);
  EXPECT_EQ(d.counts.rows_unknown_eid, 1);
  EXPECT_EQ(d.counts.values_missing, 3);
  EXPECT_EQ(d.counts.values_nonfinite, 1);
  EXPECT_EQ(at(d, 0, 0), 1.25F);
  EXPECT_TRUE(std::isnan(at(d, 0, 1)));  // never delivered
  EXPECT_EQ(at(d, 0, 2), -0.5F);
  EXPECT_TRUE(std::isnan(at(d, 2, 1)));  // Inf
  EXPECT_EQ(at(d, 2, 2), 2.0F);
  EXPECT_EQ(d.has_value[static_cast<std::size_t>(d.row_of[1])], 0);  // only missing values
  EXPECT_EQ(d.has_value[static_cast<std::size_t>(d.row_of[2])], 1);
}

TEST_F(OlinkTest, LongFormatOtherInstance) {
  const OlinkData d = read("olink_data.txt", "eid\tins_index\tprotein_id\tresult\n101\t0\t1\t1\n102\t2\t1\t2\n", 2);
  EXPECT_EQ(d.row_of[0], -1);
  EXPECT_EQ(at(d, 1, 0), 2.0F);
  EXPECT_EQ(d.counts.rows_other_instance, 1);
}

TEST_F(OlinkTest, LongFormatNeedsTheCoding) {
  const std::string msg = input_error([&] {
    read("olink_data.txt", "eid\tins_index\tprotein_id\tresult\n101\t0\t1\t1\n", 0, false);
  });
  EXPECT_TRUE(contains(msg, "olink_data.txt") && contains(msg, "coding")) << msg;
}

TEST_F(OlinkTest, LongFormatNonNumericValueNamesLineAndColumn) {
  const std::string msg = error("olink_data.txt", "eid\tins_index\tprotein_id\tresult\n101\t0\t1\t1\n101\t0\t2\t1.2x\n");
  EXPECT_TRUE(contains(msg, "olink_data.txt:3:4:") && contains(msg, "1.2x")) << msg;
}

TEST_F(OlinkTest, LongFormatBadEidNamesLineAndColumn) {
  const std::string msg = error("olink_data.txt", "eid\tins_index\tprotein_id\tresult\nabc\t0\t1\t1\n");
  EXPECT_TRUE(contains(msg, "olink_data.txt:2:1:") && contains(msg, "abc")) << msg;
}

TEST_F(OlinkTest, LongFormatUnknownProteinNamesLine) {
  const std::string msg = error("olink_data.txt", "eid\tins_index\tprotein_id\tresult\n101\t0\t1\t1\n101\t0\t7\t1\n");
  EXPECT_TRUE(contains(msg, "olink_data.txt:3:3:") && contains(msg, "protein_id 7")) << msg;
}

TEST_F(OlinkTest, LongFormatDuplicatePairNamesLine) {
  const std::string msg = error("olink_data.txt", "eid\tins_index\tprotein_id\tresult\n101\t0\t1\t1\n102\t0\t1\t1\n101\t0\t1\tNA\n");
  EXPECT_TRUE(contains(msg, "olink_data.txt:4:") && contains(msg, "second time")) << msg;
}

TEST_F(OlinkTest, LongFormatWrongFieldCountNamesLine) {
  std::string msg = error("olink_data.txt", "eid\tins_index\tprotein_id\tresult\n101\t0\t1\n");
  EXPECT_TRUE(contains(msg, "olink_data.txt:2:") && contains(msg, "3 fields")) << msg;
  msg = error("olink_data.txt", "eid\tins_index\tprotein_id\tresult\n101\t0\t1\t1\t5\n");
  EXPECT_TRUE(contains(msg, "olink_data.txt:2:") && contains(msg, "5 fields")) << msg;
}

TEST_F(OlinkTest, LongFormatAcceptsCrlfAndBom) {
  const OlinkData d = read("olink_data.txt", "\xEF\xBB\xBF" "eid\tins_index\tprotein_id\tresult\r\n101\t0\t1\t1.5\r\n101\t0\t2\t\r\n");
  EXPECT_EQ(at(d, 0, 0), 1.5F);
  EXPECT_EQ(d.counts.values_missing, 1);
}

TEST_F(OlinkTest, WideFormatNamesAndFullNames) {
  const OlinkData d = read("olink_instance_0.csv",
                           "eid,il6,gdf15,hla_a,novel1\n"
                           "103,1,2,3,4\n"
                           "101,,NA,-inf,0.5\n"
                           "555,1,1,1,1\n"
                           "102,,,,\n");
  EXPECT_EQ(d.format, OlinkFormat::kWide);
  ASSERT_EQ(d.proteins.size(), 4U);
  EXPECT_EQ(d.proteins[0].name, "IL6");
  EXPECT_EQ(d.proteins[0].full_name, "Interleukin-6");
  EXPECT_EQ(d.proteins[2].name, "HLA-A");
  EXPECT_EQ(d.proteins[3].name, "NOVEL1");
  EXPECT_EQ(d.proteins[3].full_name, "");
  EXPECT_EQ(d.counts.rows, 4);
  EXPECT_EQ(d.counts.rows_unknown_eid, 1);
  EXPECT_EQ(d.counts.values_missing, 6);
  EXPECT_EQ(d.counts.values_nonfinite, 1);
  EXPECT_EQ(at(d, 2, 1), 2.0F);
  EXPECT_EQ(at(d, 0, 3), 0.5F);
  EXPECT_TRUE(std::isnan(at(d, 0, 2)));
  EXPECT_EQ(d.row_of[1], -1);  // a row of empty values holds no memory
}

TEST_F(OlinkTest, WideFormatEidNeedNotComeFirst) {
  const OlinkData d = read("w.tsv", "gdf15\teid\n1.5\t102\n", 0, false);
  EXPECT_EQ(at(d, 1, 0), 1.5F);
}

TEST_F(OlinkTest, WideFormatErrorsNameLineAndColumn) {
  std::string msg = error("w.csv", "eid,gdf15,il6\n101,1,2\n102,1,oops\n");
  EXPECT_TRUE(contains(msg, "w.csv:3:3:") && contains(msg, "oops")) << msg;
  msg = error("w.csv", "eid,gdf15,il6\n101,1,2\n102,1\n");
  EXPECT_TRUE(contains(msg, "w.csv:3:") && contains(msg, "2 fields")) << msg;
  msg = error("w.csv", "eid,gdf15,il6\n101,1,2\n102,1,2\n101,1,2\n");
  EXPECT_TRUE(contains(msg, "w.csv:4:1:") && contains(msg, "line 2")) << msg;
  msg = error("w.csv", "eid,gdf15,GDF15\n");
  EXPECT_TRUE(contains(msg, "w.csv:1:3:")) << msg;
}

TEST_F(OlinkTest, UnknownHeaderAndEmptyFile) {
  std::string msg = error("x.csv", "id,gdf15\n1,2\n");
  EXPECT_TRUE(contains(msg, "x.csv") && contains(msg, "long format")) << msg;
  msg = error("x.csv", "");
  EXPECT_TRUE(contains(msg, "x.csv") && contains(msg, "empty")) << msg;
}

}  // namespace
}  // namespace pwas::io
