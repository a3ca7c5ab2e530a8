#include "io/participants.hpp"

#include <cmath>

#include <gtest/gtest.h>

#include "tests/io/test_support.hpp"

namespace pwas::io {
namespace {

using test::contains;
using test::input_error;
using test::TempDir;

const Column& column(const ParticipantTable& t, const std::string& name) {
  for (const Column& c : t.columns)
    if (c.name == name) return c;
  throw std::runtime_error("no column " + name);
}

TEST(Participants, TypesColumnsFromTheirValues) {
  TempDir dir;
  const std::string path = dir.write("p.csv",
                                     "eid,age,sex,bmi,centre,note\n"
                                     "1001,50,Female,25.5,11012,\n"
                                     "1002,61,Male,NA,11021,x\n"
                                     "1003,,Female,NaN,11012,NA\n");
  const ParticipantTable t = read_participants(path);
  EXPECT_EQ(t.eids, (std::vector<std::int64_t>{1001, 1002, 1003}));
  ASSERT_EQ(t.columns.size(), 5U);
  EXPECT_EQ(t.columns[0].name, "age");
  const Column& age = column(t, "age");
  ASSERT_EQ(age.kind, ColumnKind::kNumeric);
  EXPECT_EQ(age.numeric[0], 50.0);
  EXPECT_TRUE(std::isnan(age.numeric[2]));
  const Column& sex = column(t, "sex");
  ASSERT_EQ(sex.kind, ColumnKind::kCategorical);
  EXPECT_EQ(sex.levels, (std::vector<std::string>{"Female", "Male"}));
  EXPECT_EQ(sex.codes, (std::vector<std::int32_t>{0, 1, 0}));
  const Column& bmi = column(t, "bmi");
  EXPECT_EQ(bmi.kind, ColumnKind::kNumeric);
  EXPECT_TRUE(std::isnan(bmi.numeric[1]) && std::isnan(bmi.numeric[2]));
  EXPECT_EQ(column(t, "centre").kind, ColumnKind::kNumeric);
  const Column& note = column(t, "note");
  EXPECT_EQ(note.kind, ColumnKind::kCategorical);
  EXPECT_EQ(note.codes, (std::vector<std::int32_t>{-1, 0, -1}));
}

TEST(Participants, LevelsSortLikeRFactorInTheCLocale) {
  TempDir dir;
  const std::string path = dir.write("p.tsv", "eid\tx\n1\tb\n2\tB\n3\ta\n4\t_\n5\tb\n6\tZ\n");
  const ParticipantTable t = read_participants(path);
  const Column& x = t.columns[0];
  EXPECT_EQ(x.levels, (std::vector<std::string>{"B", "Z", "_", "a", "b"}));
  EXPECT_EQ(x.codes, (std::vector<std::int32_t>{4, 0, 3, 2, 4, 1}));
}

TEST(Participants, ForcedCategoricalNumbersSortNumerically) {
  TempDir dir;
  const std::string path = dir.write("p.csv", "eid,centre,mix\n1,10,1\n2,2,b\n3,1,a\n4,,10\n");
  const ParticipantTable t = read_participants(path, {{}, {"centre", "mix"}});
  const Column& centre = column(t, "centre");
  ASSERT_EQ(centre.kind, ColumnKind::kCategorical);
  EXPECT_EQ(centre.levels, (std::vector<std::string>{"1", "2", "10"}));
  EXPECT_EQ(centre.codes, (std::vector<std::int32_t>{2, 1, 0, -1}));
  EXPECT_EQ(column(t, "mix").levels, (std::vector<std::string>{"1", "10", "a", "b"}));
}

TEST(Participants, MissingCodesOnlyInIntegerColumns) {
  TempDir dir;
  const std::string path = dir.write("p.csv",
                                     "eid,lonely,pc1,ethnicity\n"
                                     "1,1,-1.0,1001\n"
                                     "2,-3,0.52,-3\n"
                                     "3,-1,-3,1002\n"
                                     "4,0,1.5,-1\n");
  const ParticipantTable t = read_participants(path, {{-1, -3}, {"ethnicity"}});
  const Column& lonely = column(t, "lonely");
  EXPECT_EQ(lonely.numeric[0], 1.0);
  EXPECT_TRUE(std::isnan(lonely.numeric[1]));
  EXPECT_TRUE(std::isnan(lonely.numeric[2]));
  EXPECT_EQ(lonely.numeric[3], 0.0);
  EXPECT_EQ(column(t, "pc1").numeric, (std::vector<double>{-1.0, 0.52, -3.0, 1.5}));  // continuous: untouched
  const Column& ethnicity = column(t, "ethnicity");
  EXPECT_EQ(ethnicity.levels, (std::vector<std::string>{"1001", "1002"}));
  EXPECT_EQ(ethnicity.codes, (std::vector<std::int32_t>{0, -1, 1, -1}));
}

TEST(Participants, AcceptsBomCrlfAndQuotes) {
  TempDir dir;
  const std::string path = dir.write("p.csv", "\xEF\xBB\xBF\"eid\",\"group\",\"score\"\r\n\"7\",\"a, b\",\"1.5\"\r\n8,c,2\r\n");
  const ParticipantTable t = read_participants(path);
  EXPECT_EQ(t.eids, (std::vector<std::int64_t>{7, 8}));
  EXPECT_EQ(column(t, "group").levels, (std::vector<std::string>{"a, b", "c"}));
  EXPECT_EQ(column(t, "score").numeric, (std::vector<double>{1.5, 2.0}));
}

TEST(Participants, ColumnMissingThroughoutIsNumeric) {
  TempDir dir;
  const std::string path = dir.write("p.csv", "eid,x\n1,\n2,NA\n");
  const ParticipantTable t = read_participants(path);
  const Column& x = t.columns[0];
  EXPECT_EQ(x.kind, ColumnKind::kNumeric);
  EXPECT_EQ(x.numeric.size(), 2U);
}

TEST(ParticipantsErrors, MissingFile) {
  const std::string msg = input_error([] { read_participants("/nonexistent/p.csv"); });
  EXPECT_TRUE(contains(msg, "/nonexistent/p.csv")) << msg;
}

TEST(ParticipantsErrors, EmptyFile) {
  TempDir dir;
  const std::string path = dir.write("p.csv", "");
  const std::string msg = input_error([&] { read_participants(path); });
  EXPECT_TRUE(contains(msg, path) && contains(msg, "empty")) << msg;
}

TEST(ParticipantsErrors, HeaderWithoutEid) {
  TempDir dir;
  const std::string path = dir.write("p.csv", "id,age\n1,50\n");
  const std::string msg = input_error([&] { read_participants(path); });
  EXPECT_TRUE(contains(msg, path + ":1:") && contains(msg, "eid") && contains(msg, "id, age")) << msg;
}

TEST(ParticipantsErrors, DuplicatedEidNamesBothLines) {
  TempDir dir;
  const std::string path = dir.write("p.csv", "age,eid\n50,1\n60,2\n70,1\n");
  const std::string msg = input_error([&] { read_participants(path); });
  EXPECT_TRUE(contains(msg, path + ":4:2:") && contains(msg, "line 2")) << msg;
}

TEST(ParticipantsErrors, EidMustBeAnInteger) {
  TempDir dir;
  const std::string path = dir.write("p.csv", "eid,age\n1,50\n2.5,60\n");
  const std::string msg = input_error([&] { read_participants(path); });
  EXPECT_TRUE(contains(msg, path + ":3:1:") && contains(msg, "2.5")) << msg;
}

TEST(ParticipantsErrors, TextInANumericColumnNamesTheCell) {
  TempDir dir;
  const std::string path = dir.write("p.csv", "eid,age,bmi\n1,50,25.1\n2,60,24.0\n3,70,high\n");
  const std::string msg = input_error([&] { read_participants(path); });
  EXPECT_TRUE(contains(msg, path + ":4:3:") && contains(msg, "'bmi'") && contains(msg, "high") &&
              contains(msg, "line 2") && contains(msg, "force_categorical"))
      << msg;
}

TEST(ParticipantsErrors, NumberInATextColumnNamesTheCell) {
  TempDir dir;
  const std::string path = dir.write("p.tsv", "eid\tsex\n1\tF\n2\t1\n");
  const std::string msg = input_error([&] { read_participants(path); });
  EXPECT_TRUE(contains(msg, path + ":3:2:")) << msg;
}

TEST(ParticipantsErrors, InfIsNotANumber) {
  TempDir dir;
  const std::string path = dir.write("p.csv", "eid,x\n1,2\n2,Inf\n");
  const std::string msg = input_error([&] { read_participants(path); });
  EXPECT_TRUE(contains(msg, path + ":3:2:")) << msg;
}

TEST(ParticipantsErrors, WrongFieldCountNamesTheLine) {
  TempDir dir;
  const std::string path = dir.write("p.csv", "eid,a,b\n1,2,3\n2,3\n");
  const std::string msg = input_error([&] { read_participants(path); });
  EXPECT_TRUE(contains(msg, path + ":3:") && contains(msg, "2 fields")) << msg;
}

TEST(ParticipantsErrors, UnknownForcedColumn) {
  TempDir dir;
  const std::string path = dir.write("p.csv", "eid,a\n1,2\n");
  const std::string msg = input_error([&] { read_participants(path, {{}, {"centre"}}); });
  EXPECT_TRUE(contains(msg, "centre")) << msg;
}

TEST(ParticipantsErrors, RepeatedColumnName) {
  TempDir dir;
  const std::string path = dir.write("p.csv", "eid,a,a\n1,2,3\n");
  const std::string msg = input_error([&] { read_participants(path); });
  EXPECT_TRUE(contains(msg, path + ":1:3:")) << msg;
}

}  // namespace
}  // namespace pwas::io

namespace pwas::io {
namespace {

TEST(ParticipantsDates, IsoDateColumnsBecomeDaysSinceEpoch) {
  TempDir dir;
  const std::string path = dir.write("p.csv",
                                     "eid,date_baseline,date_cvd,age\n"
                                     "1,2008-03-14,,50\n"
                                     "2,1970-01-01,NA,60\n"
                                     "3,2010-12-31,2019-02-28,61\n"
                                     "4,,2000-02-29,62\n");
  const ParticipantTable t = read_participants(path);
  const Column& baseline = column(t, "date_baseline");
  ASSERT_EQ(baseline.kind, ColumnKind::kDate);
  ASSERT_TRUE(baseline.holds_numbers());
  EXPECT_EQ(baseline.numeric[0], 13952.0);   // as.numeric(as.Date("2008-03-14")) in R
  EXPECT_EQ(baseline.numeric[1], 0.0);
  EXPECT_EQ(baseline.numeric[2], 14974.0);
  EXPECT_TRUE(std::isnan(baseline.numeric[3]));
  const Column& cvd = column(t, "date_cvd");   // leading missing cells before the first date
  ASSERT_EQ(cvd.kind, ColumnKind::kDate);
  EXPECT_TRUE(std::isnan(cvd.numeric[0]) && std::isnan(cvd.numeric[1]));
  EXPECT_EQ(cvd.numeric[2], 17955.0);
  EXPECT_EQ(cvd.numeric[3], 11016.0);
  EXPECT_EQ(column(t, "age").kind, ColumnKind::kNumeric);
}

TEST(ParticipantsDates, ForcedCategoricalKeepsDatesAsLevels) {
  TempDir dir;
  const std::string path = dir.write("p.csv", "eid,visit\n1,2009-01-02\n2,2008-05-06\n");
  ParticipantOptions opt;
  opt.force_categorical = {"visit"};
  const ParticipantTable t = read_participants(path, opt);
  const Column& visit = column(t, "visit");
  ASSERT_EQ(visit.kind, ColumnKind::kCategorical);
  EXPECT_EQ(visit.levels, (std::vector<std::string>{"2008-05-06", "2009-01-02"}));
}

TEST(ParticipantsDatesErrors, ImpossibleDayNamesFileLineColumn) {
  TempDir dir;
  const std::string path = dir.write("p.csv", "eid,age,date_death\n1,50,2015-01-01\n2,51,2015-02-30\n");
  const std::string msg = input_error([&] { read_participants(path); });
  EXPECT_TRUE(contains(msg, path + ":3:3:") && contains(msg, "'date_death'") && contains(msg, "2015-02-30")) << msg;
}

TEST(ParticipantsDatesErrors, MonthThirteenIsNotADate) {
  TempDir dir;
  const std::string path = dir.write("p.csv", "eid,d\n1,2015-13-01\n");
  const std::string msg = input_error([&] { read_participants(path); });
  EXPECT_TRUE(contains(msg, path + ":2:2:") && contains(msg, "2015-13-01")) << msg;
}

TEST(ParticipantsDatesErrors, OtherFormatInADateColumnNamesTheCell) {
  TempDir dir;
  const std::string path = dir.write("p.tsv", "eid\td\n1\t2015-01-01\n2\t\n3\t01/02/2015\n");
  const std::string msg = input_error([&] { read_participants(path); });
  EXPECT_TRUE(contains(msg, path + ":4:2:") && contains(msg, "01/02/2015") && contains(msg, "line 2")) << msg;
}

TEST(ParticipantsDatesErrors, NumberInADateColumnNamesTheCell) {
  TempDir dir;
  const std::string path = dir.write("p.csv", "eid,d\n1,2015-01-01\n2,20150102\n");
  const std::string msg = input_error([&] { read_participants(path); });
  EXPECT_TRUE(contains(msg, path + ":3:2:") && contains(msg, "20150102")) << msg;
}

TEST(ParticipantsDatesErrors, DateInATextColumnNamesTheCell) {
  TempDir dir;
  const std::string path = dir.write("p.csv", "eid,d\n1,unknown\n2,2015-01-02\n");
  const std::string msg = input_error([&] { read_participants(path); });
  EXPECT_TRUE(contains(msg, path + ":3:2:") && contains(msg, "force_categorical")) << msg;
}

}  // namespace
}  // namespace pwas::io
