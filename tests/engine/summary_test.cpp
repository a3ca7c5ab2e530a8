// `pwas summary` on Cox result tables: recovery of planted hazard ratios against truth.tsv.
#include "engine/summary.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <gtest/gtest.h>

#include "io/results.hpp"

namespace pwas::engine {
namespace {

namespace fs = std::filesystem;

io::ResultRow row(const std::string& outcome, const std::string& protein, double hr, double p, double p_bonf) {
  io::ResultRow r;
  r.outcome = outcome;
  r.predictor = r.protein = protein;
  r.obs_ct = 1000;
  r.case_ct = 80;
  r.beta = std::log(hr);
  r.se = 0.05;
  r.stat = r.beta / r.se;
  r.p = p;
  r.effect = r.effect_l95 = r.effect_u95 = NAN;   // Cox rows carry the hazard ratio in HR
  r.p_bonf = p_bonf;
  r.q_fdr = p_bonf;
  r.extra = {80, hr, hr * 0.9, hr * 1.1};
  return r;
}

TEST(Summary, CoxTablesReportRecoveryOfPlantedHazardRatios) {
  const fs::path dir = fs::temp_directory_path() / ("pwas_summary_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "results");
  io::ResultTable t;
  t.analysis = "cox";
  t.model = "cox";
  t.extra_columns = {"EVENT_CT", "HR", "HR_L95", "HR_U95"};
  // Planted for cvd: A (HR 1.5), B (HR 0.8), C (HR 1.3). Found: A at 1.4, B at 0.8; D is a false hit; C missed.
  t.rows = {row("cvd", "A", 1.4, 1e-12, 1e-9), row("cvd", "B", 0.8, 1e-8, 1e-5), row("cvd", "C", 1.05, 0.2, 1.0),
            row("cvd", "D", 1.2, 1e-7, 1e-4), row("death", "A", 1.0, 0.9, 1.0)};
  io::write_results_tsv((dir / "results" / "cox.tsv").string(), t);
  std::ofstream(dir / "truth.tsv") << "symbol\tcoding\thr_cvd_per_sd\tplanted_cvd\thr_death_per_sd\tplanted_death\n"
                                      "A\t1\t1.5000\t1\t1.0000\t0\n"
                                      "B\t2\t0.8000\t1\t1.0000\t0\n"
                                      "C\t3\t1.3000\t1\t1.0000\t0\n"
                                      "D\t4\t1.0000\t0\t1.0000\t0\n";
  const std::string text = summarize({(dir / "results").string(), (dir / "truth.tsv").string()});
  std::istringstream lines(text);
  std::string header, cvd, death;
  std::getline(lines, header);
  std::getline(lines, cvd);
  std::getline(lines, death);
  EXPECT_NE(header.find("HR/planted"), std::string::npos) << text;
  EXPECT_NE(cvd.find("cvd"), std::string::npos) << text;
  EXPECT_NE(cvd.find("2 of 3"), std::string::npos) << text;          // A and B recovered, C missed
  EXPECT_NE(cvd.find("  1 "), std::string::npos) << text;            // D: one false hit
  // Median over A (log 1.4 - log 1.5) and B (0): exp of their mean, 0.966.
  EXPECT_NE(cvd.find(" 0.966"), std::string::npos) << text;
  EXPECT_NE(cvd.find("A (HR 1.400"), std::string::npos) << text;
  EXPECT_NE(death.find("0 of 0"), std::string::npos) << text;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace pwas::engine
