// Agreement with R's survival::coxph and cox.zph (tests/golden/cox/make_golden.R) on lung, veteran, pbc and a
// simulated cohort with heavy ties and a 15%-missing protein: Efron and Breslow, with and without strata.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "kernels/cox.hpp"
#include "tests/kernels/tsv.hpp"

namespace pwas::kernels {
namespace {

using testing::read_tsv;
using testing::Table;

// The contract (issue 5) is 1e-6 relative for estimates, SEs and test statistics and 1e-4 for cox.zph; the
// kernel reaches ~1e-10 and ~1e-9, so these tolerances catch regressions long before the contract breaks.
constexpr double kRelTol = 1e-8;
constexpr double kZphRelTol = 1e-7;

std::string golden(const std::string& file) { return std::string(PWAS_TEST_DATA) + "/../golden/cox/" + file; }

double rel_diff(double got, double want) { return std::abs(got - want) / std::max(std::abs(want), 1e-300); }

struct Data {
  Eigen::MatrixXd raw;  // [n x 1 + n_x] intercept, then the x_* columns in file order
  std::vector<std::string> x_names;
  Eigen::VectorXd time, v;
  std::vector<std::uint8_t> event, keep, all;
  std::vector<std::int32_t> stratum;
  std::vector<double> weights;  // the "w" column when the file has one
};

Data load(const std::string& name) {
  const Table t = read_tsv(golden(name + "_data.tsv"));
  Data d;
  const auto n = static_cast<Eigen::Index>(t.rows.size());
  for (const auto& c : t.names)
    if (c.rfind("x_", 0) == 0) d.x_names.push_back(c);
  d.raw.resize(n, 1 + static_cast<Eigen::Index>(d.x_names.size()));
  d.raw.col(0).setOnes();
  for (std::size_t j = 0; j < d.x_names.size(); ++j) {
    const auto col = t.column(d.x_names[j]);
    for (Eigen::Index i = 0; i < n; ++i) d.raw(i, static_cast<Eigen::Index>(j) + 1) = col[static_cast<std::size_t>(i)];
  }
  const auto time = t.column("time"), event = t.column("event"), stratum = t.column("stratum"), v = t.column("v");
  if (std::find(t.names.begin(), t.names.end(), "w") != t.names.end()) d.weights = t.column("w");
  d.time.resize(n);
  d.v.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(i);
    d.time(i) = time[k];
    d.v(i) = v[k];
    d.event.push_back(static_cast<std::uint8_t>(event[k]));
    d.stratum.push_back(static_cast<std::int32_t>(stratum[k]));
    d.keep.push_back(std::isnan(v[k]) ? 0 : 1);
    d.all.push_back(1);
  }
  return d;
}

struct MaxDiff {
  double coef = 0, se = 0, loglik = 0, score = 0, lrt = 0, wald = 0, zph = 0, zph_p = 0;
};

void check_dataset(const std::string& name, const Table& expected) {
  const Data data = load(name);
  const SharedDesign design = make_shared_design(data.raw);
  const Eigen::Index n_cov = design.n_cov();
  for (const std::string ties : {"efron", "breslow"})
    for (const int strata : {0, 1}) {
      SCOPED_TRACE(name + " " + ties + " strata " + std::to_string(strata));
      const CoxSurvival surv = make_cox_survival(data.time, data.event,
                                                 strata ? std::span<const std::int32_t>(data.stratum)
                                                        : std::span<const std::int32_t>());
      CoxOptions opt;
      opt.ties = ties == "efron" ? CoxTies::kEfron : CoxTies::kBreslow;
      CoxWorkspace ws;
      // The null on all rows (the protein lacks some: fit_cox refits it on the protein's rows) and on the
      // protein's rows (reused as is): both paths must give R's numbers.
      const CoxNull null_all = make_cox_null(design, surv, data.all, {}, {}, ws, opt);
      const CoxNull null_same = make_cox_null(design, surv, data.keep, {}, {}, ws, opt);
      ASSERT_TRUE(null_all.ok());
      ASSERT_TRUE(null_same.ok());
      MaxDiff md;
      for (const CoxNull* null : {&null_all, &null_same, static_cast<const CoxNull*>(nullptr)}) {
        const CoxFit f = fit_cox(design, surv, null, data.v, data.keep, {}, {}, ws, opt);
        ASSERT_EQ(f.status, FitStatus::kOk);
        EXPECT_TRUE(std::isnan(f.beta(0)) && std::isnan(f.se(0)));  // the intercept has no Cox coefficient
        bool seen = false;
        for (std::size_t r = 0; r < expected.rows.size(); ++r) {
          const auto& row = expected.rows[r];
          if (row[expected.index("dataset")] != name || row[expected.index("ties")] != ties ||
              std::stoi(row[expected.index("strata")]) != strata)
            continue;
          auto num = [&](const char* col) { return testing::to_double(row[expected.index(col)]); };
          const std::string term = row[expected.index("term")];
          Eigen::Index j = n_cov;
          if (term != "v") j = 1 + (std::find(data.x_names.begin(), data.x_names.end(), term) - data.x_names.begin());
          ASSERT_LE(j, n_cov) << term;
          md.coef = std::max(md.coef, rel_diff(f.beta(j), num("coef")));
          md.se = std::max(md.se, rel_diff(f.se(j), num("se")));
          if (seen) continue;
          seen = true;
          EXPECT_EQ(f.n_obs, static_cast<int>(num("n")));
          EXPECT_EQ(f.n_events, static_cast<int>(num("events")));
          md.loglik = std::max({md.loglik, rel_diff(f.loglik, num("loglik")), rel_diff(f.loglik_null, num("loglik_null"))});
          md.score = std::max(md.score, rel_diff(f.score, num("score")));
          md.lrt = std::max(md.lrt, rel_diff(f.lrt, num("lrt")));
          md.wald = std::max(md.wald, rel_diff(f.wald, num("wald")));
          md.zph = std::max({md.zph, rel_diff(f.ph_chisq, num("zph_v_chisq")),
                             rel_diff(f.ph_global_chisq, num("zph_global_chisq"))});
          md.zph_p = std::max({md.zph_p, rel_diff(f.ph_p, num("zph_v_p")), rel_diff(f.ph_global_p, num("zph_global_p"))});
          EXPECT_EQ(f.ph_global_df, static_cast<int>(num("zph_global_df")));
        }
        ASSERT_TRUE(seen);
        // The v term alone (no GLOBAL) by its O(n p) path: the same statistic.
        CoxOptions term_only = opt;
        term_only.ph_global = false;
        const CoxFit t = fit_cox(design, surv, null, data.v, data.keep, {}, {}, ws, term_only);
        EXPECT_NEAR(t.ph_chisq, f.ph_chisq, 1e-12 * f.ph_chisq);
        EXPECT_TRUE(std::isnan(t.ph_global_chisq));
      }
      EXPECT_LE(md.coef, kRelTol);
      EXPECT_LE(md.se, kRelTol);
      EXPECT_LE(md.loglik, kRelTol);
      EXPECT_LE(md.score, kRelTol);
      EXPECT_LE(md.lrt, kRelTol);
      EXPECT_LE(md.wald, kRelTol);
      EXPECT_LE(md.zph, kZphRelTol);
      EXPECT_LE(md.zph_p, kZphRelTol);
      std::printf("[ max rel diff ] %-8s %-8s strata=%d  coef %.1e  se %.1e  loglik %.1e  score %.1e  lrt %.1e  "
                  "wald %.1e  zph %.1e  zph_p %.1e\n",
                  name.c_str(), ties.c_str(), strata, md.coef, md.se, md.loglik, md.score, md.lrt, md.wald, md.zph,
                  md.zph_p);
    }
}

// Breslow with case weights (R's weights are frequency weights for Breslow; see make_golden.R).
TEST(CoxGolden, SimulatedCohortWeightedBreslow) {
  const Table expected = read_tsv(golden("cox_weighted_expected.tsv"));
  const Data data = load("sim");
  ASSERT_EQ(data.weights.size(), data.event.size());
  const SharedDesign design = make_shared_design(data.raw);
  for (const int strata : {0, 1}) {
    SCOPED_TRACE("strata " + std::to_string(strata));
    const CoxSurvival surv = make_cox_survival(
        data.time, data.event, strata ? std::span<const std::int32_t>(data.stratum) : std::span<const std::int32_t>());
    CoxOptions opt;
    opt.ties = CoxTies::kBreslow;
    opt.ph_test = false;
    CoxWorkspace ws;
    const CoxNull null = make_cox_null(design, surv, data.all, {}, data.weights, ws, opt);
    const CoxFit f = fit_cox(design, surv, &null, data.v, data.keep, {}, data.weights, ws, opt);
    ASSERT_EQ(f.status, FitStatus::kOk);
    double d_coef = 0, d_se = 0, d_stat = 0;
    int rows = 0;
    for (const auto& row : expected.rows) {
      if (std::stoi(row[expected.index("strata")]) != strata) continue;
      auto num = [&](const char* col) { return testing::to_double(row[expected.index(col)]); };
      const std::string term = row[expected.index("term")];
      Eigen::Index j = design.n_cov();
      if (term != "v") j = 1 + (std::find(data.x_names.begin(), data.x_names.end(), term) - data.x_names.begin());
      d_coef = std::max(d_coef, rel_diff(f.beta(j), num("coef")));
      d_se = std::max(d_se, rel_diff(f.se(j), num("se")));
      d_stat = std::max({d_stat, rel_diff(f.loglik, num("loglik")), rel_diff(f.loglik_null, num("loglik_null")),
                         rel_diff(f.score, num("score")), rel_diff(f.lrt, num("lrt")), rel_diff(f.wald, num("wald"))});
      EXPECT_EQ(f.n_obs, static_cast<int>(num("n")));
      EXPECT_EQ(f.n_events, static_cast<int>(num("events")));
      ++rows;
    }
    EXPECT_EQ(rows, static_cast<int>(design.n_cov()));
    EXPECT_LE(d_coef, kRelTol);
    EXPECT_LE(d_se, kRelTol);
    EXPECT_LE(d_stat, kRelTol);
    std::printf("[ max rel diff ] sim weighted breslow strata=%d  coef %.1e  se %.1e  loglik/score/lrt/wald %.1e\n",
                strata, d_coef, d_se, d_stat);
  }
}

TEST(CoxGolden, Lung) { check_dataset("lung", read_tsv(golden("cox_expected.tsv"))); }
TEST(CoxGolden, Veteran) { check_dataset("veteran", read_tsv(golden("cox_expected.tsv"))); }
TEST(CoxGolden, Pbc) { check_dataset("pbc", read_tsv(golden("cox_expected.tsv"))); }
TEST(CoxGolden, SimulatedCohortWithTiesAndMissingProtein) { check_dataset("sim", read_tsv(golden("cox_expected.tsv"))); }

}  // namespace
}  // namespace pwas::kernels
