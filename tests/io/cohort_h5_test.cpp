#include "io/cohort_h5.hpp"

#include <cmath>
#include <filesystem>
#include <limits>

#include <gtest/gtest.h>
#include <hdf5.h>

#include "tests/io/test_support.hpp"

namespace pwas::io {
namespace {

using test::contains;
using test::input_error;
using test::TempDir;

const float kNaN = std::numeric_limits<float>::quiet_NaN();

CohortMeta small_meta(std::size_t n_samples, std::size_t n_proteins) {
  CohortMeta m;
  for (std::size_t i = 0; i < n_samples; ++i) m.eids.push_back(1000000 + 7 * static_cast<std::int64_t>(i));
  for (std::size_t j = 0; j < n_proteins; ++j)
    m.proteins.push_back({"P" + std::to_string(j), "Protein number " + std::to_string(j), "Q" + std::to_string(j), "Oncology"});
  Column age{"age", ColumnKind::kNumeric, {}, {}, {}};
  Column sex{"sex", ColumnKind::kCategorical, {}, {}, {"Female", "Male"}};
  Column baseline{"date_baseline", ColumnKind::kDate, {}, {}, {}};
  for (std::size_t i = 0; i < n_samples; ++i) {
    age.numeric.push_back(i % 5 == 0 ? NAN : 40.0 + static_cast<double>(i));
    sex.codes.push_back(i % 7 == 0 ? -1 : static_cast<std::int32_t>(i % 2));
    baseline.numeric.push_back(i % 6 == 0 ? NAN : 13200.0 + 3.0 * static_cast<double>(i));
  }
  m.columns = {age, sex, baseline};
  m.provenance = {{"pwas_version", "0.1.0"}, {"created", "2026-11-26T03:00:00Z"}, {"note", "naïve UTF-8 ✓"}};
  return m;
}

Eigen::MatrixXf small_matrix(Eigen::Index n, Eigen::Index p) {
  Eigen::MatrixXf x(n, p);
  for (Eigen::Index j = 0; j < p; ++j)
    for (Eigen::Index i = 0; i < n; ++i) x(i, j) = (i + j) % 11 == 0 ? kNaN : static_cast<float>(i) * 0.5F - static_cast<float>(j);
  return x;
}

bool same(const Eigen::MatrixXf& a, const Eigen::MatrixXf& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  for (Eigen::Index j = 0; j < a.cols(); ++j)
    for (Eigen::Index i = 0; i < a.rows(); ++i)
      if (!(a(i, j) == b(i, j) || (std::isnan(a(i, j)) && std::isnan(b(i, j))))) return false;
  return true;
}

std::string write_cohort(const TempDir& dir, const CohortMeta& meta, const Eigen::MatrixXf& x, CohortWriteOptions opt = {}) {
  const std::string path = dir.path("cohort.h5");
  CohortWriter w(path, meta, opt);
  const std::int64_t k = w.proteins_per_chunk();
  for (std::int64_t first = 0; first < x.cols(); first += k) {
    const std::int64_t count = std::min<std::int64_t>(k, x.cols() - first);
    w.write_proteins(first, x.middleCols(first, count));
  }
  w.finish();
  return path;
}

void expect_same_meta(const CohortMeta& a, const CohortMeta& b) {
  EXPECT_EQ(a.eids, b.eids);
  ASSERT_EQ(a.proteins.size(), b.proteins.size());
  for (std::size_t j = 0; j < a.proteins.size(); ++j) {
    EXPECT_EQ(a.proteins[j].name, b.proteins[j].name);
    EXPECT_EQ(a.proteins[j].full_name, b.proteins[j].full_name);
    EXPECT_EQ(a.proteins[j].uniprot, b.proteins[j].uniprot);
    EXPECT_EQ(a.proteins[j].panel, b.proteins[j].panel);
  }
  ASSERT_EQ(a.columns.size(), b.columns.size());
  for (std::size_t c = 0; c < a.columns.size(); ++c) {
    EXPECT_EQ(a.columns[c].name, b.columns[c].name);
    EXPECT_EQ(a.columns[c].kind, b.columns[c].kind);
    EXPECT_EQ(a.columns[c].codes, b.columns[c].codes);
    EXPECT_EQ(a.columns[c].levels, b.columns[c].levels);
    ASSERT_EQ(a.columns[c].numeric.size(), b.columns[c].numeric.size());
    for (std::size_t i = 0; i < a.columns[c].numeric.size(); ++i) {
      const double x = a.columns[c].numeric[i], y = b.columns[c].numeric[i];
      EXPECT_TRUE(x == y || (std::isnan(x) && std::isnan(y)));
    }
  }
  EXPECT_EQ(a.provenance, b.provenance);
}

TEST(CohortH5, RoundTripsMetaAndEveryBlockOfProteins) {
  for (const int deflate : {0, 1}) {
    TempDir dir;
    const CohortMeta meta = small_meta(50, 13);
    const Eigen::MatrixXf x = small_matrix(50, 13);
    // 600-byte chunks: 3 proteins per chunk, so reads cross chunk boundaries.
    const std::string path = write_cohort(dir, meta, x, {deflate, 600});
    EXPECT_EQ(dir.count(), 1U);  // no temporary left behind
    const CohortReader r(path);
    expect_same_meta(r.meta(), meta);
    EXPECT_TRUE(same(r.read_proteins(0, 13), x));
    for (std::int64_t first = 0; first < 13; ++first)
      for (std::int64_t count = 0; first + count <= 13; count += 4)
        EXPECT_TRUE(same(r.read_proteins(first, count), x.middleCols(first, count))) << first << " " << count;
    EXPECT_THROW(r.read_proteins(10, 4), std::out_of_range);
  }
}

bool same(const ProteinBlock& a, const Eigen::MatrixXf& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  for (Eigen::Index j = 0; j < b.cols(); ++j)
    for (Eigen::Index i = 0; i < b.rows(); ++i)
      if (!(a(i, j) == b(i, j) || (std::isnan(a(i, j)) && std::isnan(b(i, j))))) return false;
  return true;
}

// The mapped matrix (uncompressed chunks) and HDF5's reads (compressed, or mapping turned off) give the same blocks,
// the last chunk a partial one (13 proteins, 3 per chunk), and a block outlives its reader.
TEST(CohortH5, MappedProteinsAreTheProteinsHdf5Reads) {
  for (const int deflate : {0, 1}) {
    TempDir dir;
    const Eigen::MatrixXf x = small_matrix(50, 13);
    const std::string path = write_cohort(dir, small_meta(50, 13), x, {deflate, 600});
    for (const bool map : {true, false}) {
      ProteinBlock kept;
      {
        const CohortReader r(path, map);
        EXPECT_EQ(r.mapped(), map && deflate == 0) << deflate;
        for (std::int64_t first = 0; first < 13; ++first)
          for (std::int64_t count = 0; first + count <= 13; count += 4)
            EXPECT_TRUE(same(r.proteins(first, count), x.middleCols(first, count))) << first << " " << count;
        EXPECT_THROW(r.proteins(10, 4), std::out_of_range);
        kept = r.proteins(5, 8).select(std::vector<int>{7, 0, 3});
        // Released pages read back as before (from the page cache) when a block still holds them.
        r.release_proteins(0, 13);
        EXPECT_TRUE(same(r.proteins(0, 13), x));
      }
      ASSERT_EQ(kept.cols(), 3);
      EXPECT_TRUE(same(kept.select(std::vector<int>{1}), x.col(5)));
      EXPECT_TRUE(same(kept.select(std::vector<int>{2}), x.col(8)));
      EXPECT_TRUE(same(kept.select(std::vector<int>{0}), x.col(12)));
    }
  }
}

TEST(CohortH5, ChunksSpanAllSamplesAndAFewProteins) {
  TempDir dir;
  const std::string path = dir.path("c.h5");
  CohortWriter w(path, small_meta(1000, 40), {1, 1 << 14});
  EXPECT_EQ(w.proteins_per_chunk(), 4);  // 16384 / (1000 * 4)
}

TEST(CohortH5, WriterWithoutFinishLeavesNothing) {
  TempDir dir;
  {
    CohortWriter w(dir.path("cohort.h5"), small_meta(5, 2));
    w.write_proteins(0, small_matrix(5, 2));
  }
  EXPECT_EQ(dir.count(), 0U);
}

TEST(CohortH5, FinishRefusesUnwrittenProteins) {
  TempDir dir;
  CohortWriter w(dir.path("cohort.h5"), small_meta(5, 3));
  w.write_proteins(0, small_matrix(5, 2));
  EXPECT_THROW(w.finish(), std::logic_error);
  EXPECT_THROW(w.write_proteins(2, small_matrix(5, 2)), std::invalid_argument);
}

TEST(CohortH5, ManyLevelsAndNoColumns) {
  TempDir dir;
  CohortMeta meta = small_meta(30000, 1);
  meta.columns[1].levels.clear();
  meta.columns[1].codes.clear();
  for (int i = 0; i < 30000; ++i) {
    meta.columns[1].levels.push_back("level-" + std::to_string(100000 + i));  // ~500 KB of level names
    meta.columns[1].codes.push_back(i);
  }
  const std::string path = write_cohort(dir, meta, small_matrix(30000, 1));
  expect_same_meta(CohortReader(path).meta(), meta);

  TempDir dir2;
  meta.columns.clear();
  const std::string path2 = write_cohort(dir2, meta, small_matrix(30000, 1));
  EXPECT_TRUE(CohortReader(path2).meta().columns.empty());
}

TEST(CohortH5, WriterRejectsUnusableColumnNames) {
  TempDir dir;
  CohortMeta meta = small_meta(5, 1);
  meta.columns[0].name = "a/b";
  EXPECT_THROW(CohortWriter(dir.path("c.h5"), meta), std::invalid_argument);
}

TEST(CohortH5, UnwritableOutputIsAnInputError) {
  const std::string msg = input_error([] { CohortWriter w("/nonexistent/dir/c.h5", small_meta(5, 1)); });
  EXPECT_TRUE(contains(msg, "/nonexistent/dir/c.h5")) << msg;
}

// Damages a valid cohort file with the raw HDF5 API.
void damage(const std::string& path, const std::function<void(hid_t)>& change) {
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  change(f);
  H5Fclose(f);
}

class CohortH5Errors : public ::testing::Test {
 protected:
  TempDir dir_;
  std::string path_ = write_cohort(dir_, small_meta(8, 3), small_matrix(8, 3));
  std::string error() {
    return input_error([&] { CohortReader r(path_); });
  }
};

TEST_F(CohortH5Errors, MissingFile) {
  const std::string msg = input_error([&] { CohortReader r(dir_.path("nope.h5")); });
  EXPECT_TRUE(contains(msg, "nope.h5") && contains(msg, "no such file")) << msg;
}

TEST_F(CohortH5Errors, NotHdf5) {
  const std::string path = dir_.write("text.h5", "eid,x\n1,2\n");
  const std::string msg = input_error([&] { CohortReader r(path); });
  EXPECT_TRUE(contains(msg, "text.h5") && contains(msg, "not an HDF5 file")) << msg;
}

TEST_F(CohortH5Errors, NotAPwasCohort) {
  const std::string path = dir_.path("other.h5");
  H5Fclose(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  const std::string msg = input_error([&] { CohortReader r(path); });
  EXPECT_TRUE(contains(msg, "other.h5") && contains(msg, "not a pwas cohort")) << msg;
}

TEST_F(CohortH5Errors, MissingDataset) {
  damage(path_, [](hid_t f) { H5Ldelete(f, "/proteins/full_name", H5P_DEFAULT); });
  const std::string msg = error();
  EXPECT_TRUE(contains(msg, path_) && contains(msg, "/proteins/full_name") && contains(msg, "missing")) << msg;
}

TEST_F(CohortH5Errors, MissingParticipantColumn) {
  damage(path_, [](hid_t f) { H5Ldelete(f, "/participants/sex", H5P_DEFAULT); });
  const std::string msg = error();
  EXPECT_TRUE(contains(msg, "/participants/sex") && contains(msg, "missing")) << msg;
}

TEST_F(CohortH5Errors, WrongShape) {
  damage(path_, [](hid_t f) {
    H5Ldelete(f, "/proteins/npx", H5P_DEFAULT);
    const hsize_t dims[2] = {3, 8};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    H5Dclose(H5Dcreate2(f, "/proteins/npx", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Sclose(space);
  });
  const std::string msg = error();
  EXPECT_TRUE(contains(msg, "/proteins/npx") && contains(msg, "shape [3, 8], expected [8, 3]")) << msg;
}

TEST_F(CohortH5Errors, WrongType) {
  damage(path_, [](hid_t f) {
    H5Ldelete(f, "/samples/eid", H5P_DEFAULT);
    const hsize_t dims[1] = {8};
    const hid_t space = H5Screate_simple(1, dims, nullptr);
    H5Dclose(H5Dcreate2(f, "/samples/eid", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Sclose(space);
  });
  const std::string msg = error();
  EXPECT_TRUE(contains(msg, "/samples/eid") && contains(msg, "integer")) << msg;
}

TEST_F(CohortH5Errors, CodeOutsideLevels) {
  damage(path_, [](hid_t f) {
    const hid_t set = H5Dopen2(f, "/participants/sex", H5P_DEFAULT);
    const std::int32_t codes[8] = {0, 1, 2, 0, 1, 0, 1, 0};
    H5Dwrite(set, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, codes);
    H5Dclose(set);
  });
  const std::string msg = error();
  EXPECT_TRUE(contains(msg, "/participants/sex") && contains(msg, "code 2")) << msg;
}

}  // namespace
}  // namespace pwas::io
