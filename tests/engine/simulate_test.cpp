// simulate_cohort: reproducible bytes, the study's shape (prevalences, missingness, formats), long and wide
// exports that agree, and planted odds ratios that a logistic regression recovers.
#include "engine/simulate.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "engine/simulate_model.hpp"
#include "io/date.hpp"
#include "io/delivery_writer.hpp"
#include "io/error.hpp"

namespace pwas::engine {
namespace {

namespace fs = std::filesystem;

using Row = std::vector<std::string>;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Row split(const std::string& line, char sep) {
  Row out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = line.find(sep, start);
    out.push_back(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

/// A delimited file: header and rows.
struct Table {
  Row header;
  std::vector<Row> rows;
  std::size_t col(const std::string& name) const {
    const auto it = std::find(header.begin(), header.end(), name);
    EXPECT_NE(it, header.end()) << name;
    return static_cast<std::size_t>(it - header.begin());
  }
};

Table read_table(const fs::path& path, char sep) {
  std::ifstream in(path);
  Table t;
  std::string line;
  std::getline(in, line);
  t.header = split(line, sep);
  while (std::getline(in, line)) {
    t.rows.push_back(split(line, sep));
    EXPECT_EQ(t.rows.back().size(), t.header.size()) << path << " row " << t.rows.size();
  }
  return t;
}

fs::path scratch_root() {
  static const fs::path root = fs::temp_directory_path() / ("pwas_simulate_test_" + std::to_string(::getpid()));
  return root;
}

SimulateOptions small_options(const std::string& name) {
  SimulateOptions opt;
  opt.out = (scratch_root() / name).string();
  opt.n = 3000;
  opt.proteins = 60;
  opt.seed = 7;
  opt.threads = 2;
  return opt;
}

std::string fixed(std::int64_t scaled, int decimals) {
  char text[64];
  return std::string(text, io::write_fixed(text, scaled, decimals));
}

TEST(DeliveryWriter, FormatsFixedDecimalsExactly) {
  EXPECT_EQ(fixed(12345, 4), "1.2345");
  EXPECT_EQ(fixed(-12345, 4), "-1.2345");
  EXPECT_EQ(fixed(-123, 4), "-0.0123");
  EXPECT_EQ(fixed(0, 4), "0.0000");
  EXPECT_EQ(fixed(7, 0), "7");
  EXPECT_EQ(fixed(INT64_MIN, 4), "-922337203685477.5808");
  EXPECT_EQ(io::scale_round(-0.00005, 4), -1);  // half away from zero
  EXPECT_EQ(io::scale_round(2.71828, 4), 27183);
  io::TextBuffer b(2);  // grows from a tiny allocation
  for (int i = 0; i < 1000; ++i) {
    b.put_int(i);
    b.put(',');
  }
  EXPECT_EQ(b.view().substr(0, 12), "0,1,2,3,4,5,");
  EXPECT_EQ(b.size(), 3890u);
}

class SimulateSmall : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fs::remove_all(scratch_root());
    report_ = simulate_cohort(small_options("a"));
  }
  static void TearDownTestSuite() { fs::remove_all(scratch_root()); }
  static fs::path dir() { return scratch_root() / "a"; }
  static SimulateReport report_;
};
SimulateReport SimulateSmall::report_;

const char* const kFiles[] = {"participants.csv", "olink_data.txt", "coding143.tsv", "olink_instance_0.csv",
                              "truth.tsv"};

TEST_F(SimulateSmall, WritesAllFiles) {
  EXPECT_EQ(report_.files.size(), 5u);
  EXPECT_EQ(report_.n, 3000);
  EXPECT_EQ(report_.n_assays, 63);
  for (const char* name : kFiles) EXPECT_TRUE(fs::exists(dir() / name)) << name;
  std::int64_t bytes = 0;
  for (const std::string& f : report_.files) bytes += static_cast<std::int64_t>(fs::file_size(f));
  EXPECT_EQ(bytes, report_.bytes);
}

TEST_F(SimulateSmall, ByteIdenticalWhateverTheThreadCount) {
  SimulateOptions opt = small_options("b");
  opt.threads = 1;
  simulate_cohort(opt);
  for (const char* name : kFiles)
    EXPECT_TRUE(read_text(dir() / name) == read_text(fs::path(opt.out) / name)) << name;
}

TEST_F(SimulateSmall, RefusesToOverwriteUnlessForced) {
  SimulateOptions opt = small_options("a");
  EXPECT_THROW(simulate_cohort(opt), InputError);
  SimulateOptions tiny = small_options("c");
  tiny.n = 200;
  tiny.proteins = 20;
  simulate_cohort(tiny);
  EXPECT_THROW(simulate_cohort(tiny), InputError);
  tiny.force = true;
  tiny.write_long = false;
  simulate_cohort(tiny);
  EXPECT_FALSE(fs::exists(fs::path(tiny.out) / "olink_data.txt")) << "a forced rerun leaves no stale file behind";
}

TEST_F(SimulateSmall, RejectsBadOptions) {
  SimulateOptions opt = small_options("d");
  opt.proteins = 5;
  EXPECT_THROW(simulate_cohort(opt), InputError);
  opt.proteins = 60;
  opt.n = 10;
  EXPECT_THROW(simulate_cohort(opt), InputError);
}

TEST_F(SimulateSmall, ParticipantsHaveTheStudyShape) {
  const Table t = read_table(dir() / "participants.csv", ',');
  ASSERT_EQ(t.rows.size(), 3000u);
  EXPECT_EQ(t.header[0], "eid");
  std::set<std::string> eids;
  std::set<std::string> centres;
  std::map<std::string, int> ethnicity;
  std::set<std::string> education;
  std::set<std::string> income;
  const char* full_model[] = {"age",       "sex",       "centre", "olink_batch", "time_gap_days", "pc1", "pc20",
                              "ethnicity", "education", "income", "smoking",     "alcohol",       "bmi"};
  int incomplete = 0;
  int iso_known = 0, iso_cases = 0, lon_known = 0, lon_cases = 0;
  std::map<std::string, int> field2020;
  for (const Row& r : t.rows) {
    eids.insert(r[0]);
    EXPECT_EQ(r[0].size(), 7u);
    const int age = std::stoi(r[t.col("age")]);
    EXPECT_GE(age, 40);
    EXPECT_LE(age, 70);
    EXPECT_TRUE(r[t.col("sex")] == "0" || r[t.col("sex")] == "1");
    centres.insert(r[t.col("centre")]);
    const int batch = std::stoi(r[t.col("olink_batch")]);
    EXPECT_GE(batch, 1);
    EXPECT_LE(batch, 8);
    const int gap = std::stoi(r[t.col("time_gap_days")]);
    EXPECT_GT(gap, 3500);
    EXPECT_LT(gap, 6000);
    ++ethnicity[r[t.col("ethnicity")]];
    if (!r[t.col("education")].empty()) education.insert(r[t.col("education")]);
    if (!r[t.col("income")].empty()) income.insert(r[t.col("income")]);
    bool complete = true;
    for (const char* c : full_model) complete = complete && !r[t.col(c)].empty();
    incomplete += !complete;

    const std::string& iso = r[t.col("isolation")];
    const std::string& iso_score = r[t.col("isolation_score")];
    EXPECT_EQ(iso.empty(), iso_score.empty());
    if (!iso.empty()) {
      ++iso_known;
      iso_cases += iso == "1";
      EXPECT_EQ(iso == "1", std::stoi(iso_score) >= 2);
    }
    const std::string& lon = r[t.col("loneliness")];
    const std::string& lon_score = r[t.col("loneliness_score")];
    const std::string& f2020 = r[t.col("lonely_field_2020")];
    EXPECT_EQ(lon.empty(), lon_score.empty());
    ++field2020[f2020];
    if (!lon.empty()) {
      ++lon_known;
      lon_cases += lon == "1";
      EXPECT_EQ(lon == "1", lon_score == "2");
      if (lon == "1") {
        EXPECT_EQ(f2020, "1");
      }
    }
    if (f2020 == "-1" || f2020 == "-3") {
      EXPECT_TRUE(lon.empty());
    }
  }
  EXPECT_EQ(eids.size(), 3000u);
  EXPECT_EQ(centres.size(), 22u);
  EXPECT_EQ(ethnicity.size(), 6u);  // 5 groups and missing
  EXPECT_NEAR(ethnicity["White"] / 3000.0, 0.94, 0.02);
  EXPECT_EQ(education.size(), 4u);
  EXPECT_EQ(income.size(), 2u);
  EXPECT_NEAR(incomplete / 3000.0, 0.11, 0.035);
  EXPECT_NEAR(iso_cases / double(iso_known), 0.093, 0.02);
  EXPECT_NEAR(lon_cases / double(lon_known), 0.064, 0.018);
  EXPECT_GT(iso_known, 2900);
  EXPECT_GT(lon_known, 2900);
  EXPECT_GT(field2020["-1"], 0);
  EXPECT_GT(field2020["-3"], 0);
  EXPECT_EQ(field2020.size(), 5u);  // 0, 1, -1, -3 and empty
}

TEST_F(SimulateSmall, CodingNamesEveryAssayInSymbolOrder) {
  const Table coding = read_table(dir() / "coding143.tsv", '\t');
  const Table truth = read_table(dir() / "truth.tsv", '\t');
  ASSERT_EQ(coding.header, (Row{"coding", "meaning"}));
  ASSERT_EQ(coding.rows.size(), 63u);
  ASSERT_EQ(truth.rows.size(), 63u);
  std::vector<std::string> symbols;
  for (std::size_t j = 0; j < coding.rows.size(); ++j) {
    EXPECT_EQ(coding.rows[j][0], std::to_string(j + 1));
    const std::size_t semicolon = coding.rows[j][1].find(';');
    ASSERT_NE(semicolon, std::string::npos);
    EXPECT_GT(coding.rows[j][1].size(), semicolon + 1);
    symbols.push_back(coding.rows[j][1].substr(0, semicolon));
    EXPECT_EQ(truth.rows[j][truth.col("symbol")], symbols.back());
  }
  EXPECT_TRUE(std::is_sorted(symbols.begin(), symbols.end()));
  EXPECT_EQ(std::set<std::string>(symbols.begin(), symbols.end()).size(), symbols.size());
  for (const char* s : {"GDF15", "ADM", "FABP4", "GLIPR1", "NPM1", "PCOLCE"})
    EXPECT_NE(std::find(symbols.begin(), symbols.end(), s), symbols.end()) << s;
}

TEST_F(SimulateSmall, LongAndWideAgree) {
  const Table wide = read_table(dir() / "olink_instance_0.csv", ',');
  const Table coding = read_table(dir() / "coding143.tsv", '\t');
  ASSERT_EQ(wide.header.size(), 64u);
  for (std::size_t j = 0; j < coding.rows.size(); ++j) {
    std::string symbol = coding.rows[j][1].substr(0, coding.rows[j][1].find(';'));
    std::transform(symbol.begin(), symbol.end(), symbol.begin(), [](unsigned char c) { return std::tolower(c); });
    EXPECT_EQ(wide.header[j + 1], symbol);
  }
  std::map<std::string, const Row*> by_eid;
  std::int64_t wide_values = 0;
  for (const Row& r : wide.rows) {
    by_eid[r[0]] = &r;
    for (std::size_t j = 1; j < r.size(); ++j) wide_values += !r[j].empty();
  }
  EXPECT_EQ(by_eid.size(), wide.rows.size());

  std::ifstream in(dir() / "olink_data.txt");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "eid\tins_index\tprotein_id\tresult");
  std::int64_t rows0 = 0;
  std::set<std::string> eids2, eids3;
  while (std::getline(in, line)) {
    const Row f = split(line, '\t');
    ASSERT_EQ(f.size(), 4u);
    const std::size_t point = f[3].find('.');
    ASSERT_NE(point, std::string::npos);
    EXPECT_EQ(f[3].size() - point - 1, 4u) << "4 decimals: " << line;
    if (f[1] == "2") eids2.insert(f[0]);
    if (f[1] == "3") eids3.insert(f[0]);
    ASSERT_TRUE(f[1] == "0" || f[1] == "2" || f[1] == "3") << line;
    if (f[1] != "0") continue;
    ++rows0;
    const auto it = by_eid.find(f[0]);
    ASSERT_NE(it, by_eid.end()) << line;
    const std::string& w = (*it->second)[static_cast<std::size_t>(std::stoi(f[2]))];
    ASSERT_EQ(w, f[3]) << line;
    ASSERT_EQ(std::stod(w), std::stod(f[3]));
  }
  EXPECT_EQ(rows0, wide_values);
  const double n_samples = static_cast<double>(wide.rows.size());
  EXPECT_NEAR(eids2.size() / n_samples, 0.02, 0.01);
  EXPECT_NEAR(eids3.size() / n_samples, 0.01, 0.007);
  for (const std::string& e : eids3) EXPECT_TRUE(eids2.count(e)) << e;

  // Olink samples = participants with a sample + withdrawn eids not in participants.csv.
  const Table people = read_table(dir() / "participants.csv", ',');
  std::set<std::string> participants;
  for (const Row& r : people.rows) participants.insert(r[0]);
  std::int64_t withdrawn = 0;
  for (const auto& [eid, row] : by_eid) withdrawn += !participants.count(eid);
  EXPECT_EQ(withdrawn, report_.n_withdrawn);
  EXPECT_GT(report_.n_without_olink, 0);
  EXPECT_EQ(static_cast<std::int64_t>(wide.rows.size()), 3000 - report_.n_without_olink + report_.n_withdrawn);
}

TEST_F(SimulateSmall, MissingnessPerAssayAsDesigned) {
  const Table wide = read_table(dir() / "olink_instance_0.csv", ',');
  const Table truth = read_table(dir() / "truth.tsv", '\t');
  double lowest = 1.0, highest = 0.0;
  int mnar = 0;
  for (std::size_t j = 0; j < truth.rows.size(); ++j) {
    const Row& t = truth.rows[j];
    int missing = 0;
    for (const Row& r : wide.rows) missing += r[j + 1].empty();
    const double fraction = missing / double(wide.rows.size());
    EXPECT_NEAR(fraction, std::stod(t[truth.col("missing_fraction")]), 1e-4) << t[0];
    const std::string& symbol = t[0];
    if (symbol == "GLIPR1" || symbol == "NPM1" || symbol == "PCOLCE") {
      EXPECT_GT(fraction, 0.5) << symbol;
      EXPECT_EQ(t[truth.col("qc_drop")], "1");
    } else if (t[truth.col("mnar")] == "1") {
      ++mnar;
      EXPECT_GT(fraction, 0.12) << symbol;
      EXPECT_LT(fraction, 0.5) << symbol;
    } else {
      EXPECT_GT(fraction, 0.002) << symbol;
      EXPECT_LT(fraction, 0.31) << symbol;
      lowest = std::min(lowest, fraction);
      highest = std::max(highest, fraction);
    }
  }
  EXPECT_EQ(mnar, 2);
  EXPECT_LT(lowest, 0.04);
  EXPECT_GT(highest, 0.08);
}

TEST(SimulateDesign, FullSizeCatalogueHasTheStudyProportions) {
  SimulateOptions opt;
  const std::vector<sim::Assay> assays = sim::design_assays(opt);
  ASSERT_EQ(assays.size(), 2923u);
  int iso = 0, lon = 0, both = 0, negative = 0, mnar = 0, dropped = 0, in_module = 0;
  double strongest = 0.0;
  std::string strongest_symbol;
  std::set<int> modules;
  for (const sim::Assay& a : assays) {
    iso += a.log_or_isolation != 0.0;
    lon += a.log_or_loneliness != 0.0;
    both += a.log_or_isolation != 0.0 && a.log_or_loneliness != 0.0;
    negative += a.log_or_isolation < 0.0;
    mnar += a.mnar;
    dropped += a.qc_drop;
    in_module += a.module > 0;
    if (a.module > 0) modules.insert(a.module);
    if (a.module > 0) {
      EXPECT_GE(std::fabs(a.loading), 0.3);
      EXPECT_LE(std::fabs(a.loading), 0.8);
    }
    if (std::fabs(a.log_or_isolation) > strongest) {
      strongest = std::fabs(a.log_or_isolation);
      strongest_symbol = a.symbol;
    }
  }
  EXPECT_EQ(iso, 150);
  EXPECT_EQ(lon, 30);
  EXPECT_EQ(both, 20);
  EXPECT_GT(negative, 25);
  EXPECT_LT(negative, 75);
  EXPECT_EQ(mnar, 10);
  EXPECT_EQ(dropped, 3);
  EXPECT_EQ(modules.size(), 13u);
  EXPECT_NEAR(in_module / 2923.0, 0.8, 0.03);
  EXPECT_EQ(strongest_symbol, "GDF15");
  EXPECT_NEAR(std::exp(strongest), 1.22, 1e-12);
}

TEST(SimulateNull, PlantsNothingAndKeepsEverythingElse) {
  const fs::path root = fs::temp_directory_path() / ("pwas_simulate_null_" + std::to_string(::getpid()));
  fs::remove_all(root);
  SimulateOptions opt;
  opt.n = 500;
  opt.proteins = 20;
  opt.seed = 3;
  opt.out = (root / "effects").string();
  const SimulateReport with = simulate_cohort(opt);
  opt.null_effects = true;
  opt.out = (root / "null").string();
  const SimulateReport without = simulate_cohort(opt);
  EXPECT_GT(with.planted_isolation, 0);
  EXPECT_EQ(without.planted_isolation, 0);
  EXPECT_EQ(without.planted_loneliness, 0);
  // Participants are the same up to their disease and death dates, which the proteins' hazard ratios change.
  const Table a = read_table(root / "effects" / "participants.csv", ',');
  const Table b = read_table(root / "null" / "participants.csv", ',');
  ASSERT_EQ(a.header, b.header);
  ASSERT_EQ(a.rows.size(), b.rows.size());
  const std::size_t first_outcome = a.col("date_cvd");
  for (std::size_t i = 0; i < a.rows.size(); ++i)
    EXPECT_TRUE(std::equal(a.rows[i].begin(), a.rows[i].begin() + static_cast<std::ptrdiff_t>(first_outcome),
                           b.rows[i].begin())) << i;
  EXPECT_TRUE(read_text(root / "effects" / "coding143.tsv") == read_text(root / "null" / "coding143.tsv"));
  const Table truth = read_table(root / "null" / "truth.tsv", '\t');
  for (const Row& r : truth.rows) {
    EXPECT_EQ(r[truth.col("or_isolation_per_sd")], "1.0000");
    EXPECT_EQ(r[truth.col("or_loneliness_per_sd")], "1.0000");
    EXPECT_EQ(r[truth.col("planted_isolation")], "0");
    for (const char* o : sim::kOutcomeNames) {
      EXPECT_EQ(r[truth.col(std::string("hr_") + o + "_per_sd")], "1.0000");
      EXPECT_EQ(r[truth.col(std::string("planted_") + o)], "0");
    }
  }
  fs::remove_all(root);
}

// Logistic regression by IRLS: returns (beta, se) of column `k`.
std::pair<double, double> logistic_coefficient(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                                               Eigen::Index k) {
  Eigen::VectorXd beta = Eigen::VectorXd::Zero(x.cols());
  Eigen::MatrixXd info;
  for (int iter = 0; iter < 25; ++iter) {
    const Eigen::VectorXd eta = x * beta;
    const Eigen::VectorXd p = (1.0 + (-eta.array()).exp()).inverse().matrix();
    const Eigen::VectorXd w = (p.array() * (1.0 - p.array())).matrix();
    info = x.transpose() * w.asDiagonal() * x;
    const Eigen::VectorXd step = info.ldlt().solve(x.transpose() * (y - p));
    beta += step;
    if (step.cwiseAbs().maxCoeff() < 1e-10) break;
  }
  const Eigen::MatrixXd cov = info.ldlt().solve(Eigen::MatrixXd::Identity(x.cols(), x.cols()));
  return {beta(k), std::sqrt(cov(k, k))};
}

TEST(SimulateEffects, PlantedOddsRatiosAreRecovered) {
  const fs::path root = fs::temp_directory_path() / ("pwas_simulate_effects_" + std::to_string(::getpid()));
  fs::remove_all(root);
  SimulateOptions opt;
  opt.n = 20000;
  opt.proteins = 20;
  opt.seed = 11;
  opt.write_long = false;
  opt.out = root.string();
  simulate_cohort(opt);

  const Table people = read_table(root / "participants.csv", ',');
  const Table wide = read_table(root / "olink_instance_0.csv", ',');
  const Table truth = read_table(root / "truth.tsv", '\t');
  std::map<std::string, const Row*> olink;
  for (const Row& r : wide.rows) olink[r[0]] = &r;

  // Participants with complete covariates, both exposures and an Olink sample.
  std::vector<std::string> covariates = {"age", "sex", "time_gap_days", "smoking", "alcohol", "bmi"};
  for (int c = 1; c <= 20; ++c) covariates.push_back("pc" + std::to_string(c));
  const std::vector<std::string> factors = {"centre", "olink_batch", "ethnicity", "education", "income"};
  std::map<std::string, std::set<std::string>> levels;
  std::vector<const Row*> complete;
  for (const Row& r : people.rows) {
    bool ok = olink.count(r[0]) > 0 && !r[people.col("isolation")].empty() && !r[people.col("loneliness")].empty();
    for (const auto& c : covariates) ok = ok && !r[people.col(c)].empty();
    for (const auto& f : factors) ok = ok && !r[people.col(f)].empty();
    if (!ok) continue;
    complete.push_back(&r);
    for (const auto& f : factors) levels[f].insert(r[people.col(f)]);
  }
  ASSERT_GT(complete.size(), 16000u);
  Eigen::Index n_cols = 2 + static_cast<Eigen::Index>(covariates.size());  // intercept, protein, covariates
  for (const auto& f : factors) n_cols += static_cast<Eigen::Index>(levels[f].size()) - 1;

  auto fit = [&](std::size_t assay, const std::string& exposure) {
    std::vector<const Row*> rows;
    for (const Row* r : complete)
      if (!(*olink[(*r)[0]])[assay + 1].empty()) rows.push_back(r);
    const auto n = static_cast<Eigen::Index>(rows.size());
    Eigen::MatrixXd x = Eigen::MatrixXd::Zero(n, n_cols);
    Eigen::VectorXd y(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      const Row& r = *rows[static_cast<std::size_t>(i)];
      y(i) = std::stod(r[people.col(exposure)]);
      x(i, 0) = 1.0;
      x(i, 1) = std::stod((*olink[r[0]])[assay + 1]);
      Eigen::Index c = 2;
      for (const auto& name : covariates) x(i, c++) = std::stod(r[people.col(name)]);
      for (const auto& f : factors) {
        auto it = levels[f].begin();
        for (++it; it != levels[f].end(); ++it) x(i, c++) = r[people.col(f)] == *it;
      }
    }
    // Standardise the protein (per SD) and the continuous covariates (for conditioning).
    for (Eigen::Index c = 1; c < 2 + static_cast<Eigen::Index>(covariates.size()); ++c) {
      const double mean = x.col(c).mean();
      const double sd = std::sqrt((x.col(c).array() - mean).square().sum() / double(n - 1));
      x.col(c) = ((x.col(c).array() - mean) / sd).matrix();
    }
    return logistic_coefficient(x, y, 1);
  };

  int planted_checked = 0;
  for (std::size_t j = 0; j < truth.rows.size(); ++j) {
    const Row& t = truth.rows[j];
    if (t[truth.col("qc_drop")] == "1" || t[truth.col("mnar")] == "1") continue;
    for (const std::string exposure : {"isolation", "loneliness"}) {
      const double truth_log_or = std::log(std::stod(t[truth.col("or_" + exposure + "_per_sd")]));
      const auto [beta, se] = fit(j, exposure);
      EXPECT_NEAR(beta, truth_log_or, 4.5 * se) << t[0] << " " << exposure;
      planted_checked += t[truth.col("planted_" + exposure)] == "1";
      if (t[0] == "GDF15" && exposure == "isolation") {
        EXPECT_GT(beta / se, 5.0);
        EXPECT_NEAR(std::stod(t[truth.col("or_isolation_per_sd")]), 1.22, 0.01);
      }
    }
  }
  EXPECT_GE(planted_checked, 10);
  fs::remove_all(root);
}

TEST_F(SimulateSmall, OutcomeDatesAreConsistentAndAtTheStudyIncidence) {
  const Table t = read_table(dir() / "participants.csv", ',');
  const std::int64_t censor = *io::parse_iso_date("2022-11-30");
  std::array<std::int64_t, sim::kNumOutcomes> prevalent{}, events{};
  for (const Row& r : t.rows) {
    const auto baseline = io::parse_iso_date(r[t.col("date_baseline")]);
    ASSERT_TRUE(baseline.has_value());
    EXPECT_GE(*baseline, *io::parse_iso_date("2006-01-01"));
    EXPECT_LT(*baseline, *io::parse_iso_date("2011-01-01"));
    const std::string& death_text = r[t.col("date_death")];
    const std::int64_t death = death_text.empty() ? censor : *io::parse_iso_date(death_text);
    EXPECT_GT(death, *baseline);
    EXPECT_LE(death, censor);
    for (int o = 0; o < sim::kNumOutcomes; ++o) {
      const std::string& text = r[t.col(std::string("date_") + sim::kOutcomeNames[o])];
      if (text.empty()) continue;
      const auto day = io::parse_iso_date(text);
      ASSERT_TRUE(day.has_value()) << text;
      if (*day <= *baseline) {
        ++prevalent[o];
        EXPECT_NE(o, sim::kDeath);
        continue;
      }
      ++events[o];
      EXPECT_LE(*day, death);   // no diagnosis after death or after the censor date
    }
  }
  ASSERT_EQ(report_.outcomes.size(), static_cast<std::size_t>(sim::kNumOutcomes));
  const double prevalence[] = {0.05, 0.045, 0.015, 0.001, 0.06, 0.0};
  const double incidence[] = {0.09, 0.055, 0.026, 0.019, 0.065, 0.09};
  for (int o = 0; o < sim::kNumOutcomes; ++o) {
    const OutcomeReport& r = report_.outcomes[static_cast<std::size_t>(o)];
    EXPECT_EQ(r.name, sim::kOutcomeNames[o]);
    EXPECT_EQ(r.prevalent, prevalent[o]) << r.name;   // the report counts what the file holds
    EXPECT_EQ(r.events, events[o]) << r.name;
    const double n = static_cast<double>(t.rows.size());
    EXPECT_NEAR(static_cast<double>(prevalent[o]) / n, prevalence[o], 1.0 / n) << r.name;
    EXPECT_NEAR(static_cast<double>(events[o]) / (n - static_cast<double>(prevalent[o])), incidence[o], 1.0 / n)
        << r.name;
    EXPECT_GT(r.median_follow_up, 13.0);
    EXPECT_LT(r.median_follow_up, 15.0);
    EXPECT_EQ(r.planted, 3) << r.name;   // the minimum, for 60 proteins
  }
}

// Poisson regression with log follow-up as offset (the exponential model's exact likelihood) by IRLS: returns
// (beta, se) of every column.
std::pair<Eigen::VectorXd, Eigen::VectorXd> poisson_fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& events,
                                                        const Eigen::VectorXd& years) {
  Eigen::VectorXd beta = Eigen::VectorXd::Zero(x.cols());
  beta(0) = std::log(events.sum() / years.sum());
  Eigen::MatrixXd info;
  for (int iter = 0; iter < 30; ++iter) {
    const Eigen::VectorXd mu = (years.array() * (x * beta).array().exp()).matrix();
    info = x.transpose() * mu.asDiagonal() * x;
    const Eigen::VectorXd step = info.ldlt().solve(x.transpose() * (events - mu));
    beta += step;
    if (step.cwiseAbs().maxCoeff() < 1e-10) break;
  }
  const Eigen::MatrixXd cov = info.ldlt().solve(Eigen::MatrixXd::Identity(x.cols(), x.cols()));
  return {beta, cov.diagonal().cwiseSqrt()};
}

TEST(SimulateEffects, PlantedHazardRatiosAreRecovered) {
  const fs::path root = fs::temp_directory_path() / ("pwas_simulate_hazards_" + std::to_string(::getpid()));
  fs::remove_all(root);
  SimulateOptions opt;
  opt.n = 30000;
  opt.proteins = 300;
  opt.seed = 5;
  opt.write_long = false;
  opt.out = root.string();
  simulate_cohort(opt);
  const Table people = read_table(root / "participants.csv", ',');
  const Table wide = read_table(root / "olink_instance_0.csv", ',');
  const Table truth = read_table(root / "truth.tsv", '\t');
  std::map<std::string, const Row*> olink;
  for (const Row& r : wide.rows) olink[r[0]] = &r;
  const std::int64_t censor = *io::parse_iso_date("2022-11-30");

  int checked = 0;
  for (const std::string outcome : {"cvd", "death"}) {
    std::vector<std::size_t> planted;   // truth rows = wide columns - 1
    for (std::size_t j = 0; j < truth.rows.size(); ++j)
      if (truth.rows[j][truth.col("planted_" + outcome)] == "1") planted.push_back(j);
    ASSERT_GE(planted.size(), 2u) << outcome;
    const std::vector<std::string> covariates = {"age", "sex", "bmi", "smoking", "isolation", "loneliness"};
    std::vector<Eigen::VectorXd> rows;
    std::vector<double> event, years;
    for (const Row& r : people.rows) {
      const auto it = olink.find(r[0]);
      if (it == olink.end() || r[people.col("income")].empty()) continue;
      bool ok = true;
      for (const auto& c : covariates) ok = ok && !r[people.col(c)].empty();
      for (std::size_t j : planted) ok = ok && !(*it->second)[j + 1].empty();
      if (!ok) continue;
      const std::int64_t base = *io::parse_iso_date(r[people.col("date_baseline")]);
      const std::string& death_text = r[people.col("date_death")];
      const std::string& event_text = r[people.col("date_" + outcome)];
      const std::int64_t death = death_text.empty() ? censor : *io::parse_iso_date(death_text);
      const std::int64_t day = event_text.empty() ? censor + 1 : *io::parse_iso_date(event_text);
      if (day <= base) continue;   // prevalent
      const bool happened = day <= std::min(death, censor);
      Eigen::VectorXd x(2 + static_cast<Eigen::Index>(covariates.size() + planted.size()));
      Eigen::Index c = 0;
      x(c++) = 1.0;
      for (const auto& name : covariates) x(c++) = std::stod(r[people.col(name)]);
      x(c++) = r[people.col("income")] == "Less than 31000";
      for (std::size_t j : planted) {
        const Row& t = truth.rows[j];
        x(c++) = (std::stod((*it->second)[j + 1]) - std::stod(t[truth.col("mean_npx")])) / std::stod(t[truth.col("sd_npx")]);
      }
      rows.push_back(x);
      event.push_back(happened);
      years.push_back(static_cast<double>((happened ? day : std::min(death, censor)) - base) / 365.25);
    }
    const auto n = static_cast<Eigen::Index>(rows.size());
    ASSERT_GT(n, 20000);
    Eigen::MatrixXd x(n, rows[0].size());
    for (Eigen::Index i = 0; i < n; ++i) x.row(i) = rows[static_cast<std::size_t>(i)].transpose();
    const auto [beta, se] = poisson_fit(x, Eigen::Map<Eigen::VectorXd>(event.data(), n),
                                        Eigen::Map<Eigen::VectorXd>(years.data(), n));
    const Eigen::Index first = 2 + static_cast<Eigen::Index>(covariates.size());
    for (std::size_t k = 0; k < planted.size(); ++k) {
      const double hr = std::stod(truth.rows[planted[k]][truth.col("hr_" + outcome + "_per_sd")]);
      EXPECT_GE(std::fabs(std::log(hr)), std::log(1.2) - 1e-3);
      EXPECT_LE(std::fabs(std::log(hr)), std::log(1.6) + 1e-3);
      EXPECT_NEAR(beta(first + static_cast<Eigen::Index>(k)), std::log(hr), 4.5 * se(first + static_cast<Eigen::Index>(k)))
          << outcome << " " << truth.rows[planted[k]][0];
      ++checked;
    }
    EXPECT_NEAR(beta(1), outcome == "death" ? 0.09 : 0.07, 4.5 * se(1)) << outcome << " age";
  }
  EXPECT_GE(checked, 4);
  fs::remove_all(root);
}

}  // namespace
}  // namespace pwas::engine
