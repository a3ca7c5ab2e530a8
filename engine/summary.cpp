#include "engine/summary.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <filesystem>
#include <map>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "io/error.hpp"
#include "io/tsv_table.hpp"

namespace pwas::engine {
namespace {

double number(const std::string& s) {
  if (s.empty() || s == "NA") return std::numeric_limits<double>::quiet_NaN();
  return std::stod(s);
}

/// What truth.tsv says per outcome (an exposure or a disease): the planted proteins (`planted_<outcome>` = 1)
/// and, for diseases, their planted hazard ratios per SD (`hr_<outcome>_per_sd`).
struct Truth {
  std::map<std::string, std::set<std::string>> planted;
  std::map<std::string, std::map<std::string, double>> hr;
};

Truth read_truth(const std::string& path) {
  const io::TsvTable t = io::read_tsv(path);
  const std::size_t sym = t.column("symbol");
  Truth out;
  for (std::size_t c = 0; c < t.header.size(); ++c) {
    const std::string& h = t.header[c];
    if (h.rfind("planted_", 0) != 0) continue;
    const std::string outcome = h.substr(8);
    auto& set = out.planted[outcome];
    const std::string hr_column = "hr_" + outcome + "_per_sd";
    const bool has_hr = t.has(hr_column);
    for (const auto& row : t.rows) {
      if (row[c] != "1") continue;
      set.insert(row[sym]);
      if (has_hr) out.hr[outcome][row[sym]] = number(row[t.column(hr_column)]);
    }
  }
  return out;
}

/// exp(median(log estimated - log planted)) over the recovered planted proteins: 1 when the fits recover the
/// planted hazard ratios on average, below 1 when they are attenuated.
double median_ratio(const std::map<std::string, double>& estimated, const std::map<std::string, double>& planted) {
  std::vector<double> d;
  for (const auto& [protein, hr] : estimated)
    if (auto it = planted.find(protein); it != planted.end()) d.push_back(std::log(hr) - std::log(it->second));
  if (d.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(d.begin(), d.end());
  const std::size_t m = d.size() / 2;
  return std::exp(d.size() % 2 ? d[m] : 0.5 * (d[m - 1] + d[m]));
}

}  // namespace

std::string summarize(const SummaryOptions& opt) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(opt.results)) throw InputError(fmt::format("{}: not a results folder", opt.results));
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(opt.results))
    if (e.path().extension() == ".tsv") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (files.empty()) throw InputError(fmt::format("{}: no result tables (*.tsv)", opt.results));
  const Truth truth = opt.truth.empty() ? Truth{} : read_truth(opt.truth);

  std::string out = fmt::format("{:<12} {:<14} {:>6} {:>10} {:>7}", "analysis", "outcome", "tests", "P_BONF<.05",
                                "Q<.05");
  if (!truth.planted.empty()) out += fmt::format("  {:>17} {:>10} {:>11}", "planted recovered", "false hits", "HR/planted");
  out += "  top hit\n";
  for (const auto& f : files) {
    const io::TsvTable t = io::read_tsv(f.string());
    const std::size_t c_an = t.column("ANALYSIS"), c_out = t.column("OUTCOME"), c_prot = t.column("PROTEIN"),
                      c_p = t.column("P"), c_bonf = t.column("P_BONF"), c_q = t.column("Q_FDR");
    // Cox tables carry the hazard ratio in their HR column; other models in EFFECT.
    const bool cox = t.has("HR");
    const std::size_t c_eff = t.column(cox ? "HR" : "EFFECT");
    struct Tally {
      std::int64_t tests = 0, bonf = 0, fdr = 0;
      std::set<std::string> hits;
      std::map<std::string, double> hit_effect;
      double best_p = 2;
      std::string best;
    };
    std::map<std::string, Tally> by_outcome;
    std::string analysis;
    for (const auto& row : t.rows) {
      analysis = row[c_an];
      Tally& tl = by_outcome[row[c_out]];
      const double p = number(row[c_p]);
      if (std::isnan(p)) continue;
      ++tl.tests;
      if (number(row[c_bonf]) < 0.05) {
        ++tl.bonf;
        tl.hits.insert(row[c_prot]);
        tl.hit_effect[row[c_prot]] = number(row[c_eff]);
      }
      if (number(row[c_q]) < 0.05) ++tl.fdr;
      if (p < tl.best_p) {
        tl.best_p = p;
        tl.best = fmt::format("{} ({} {:.3f}, P {:.2g})", row[c_prot], cox ? "HR" : "effect", number(row[c_eff]), p);
      }
    }
    for (const auto& [outcome, tl] : by_outcome) {
      out += fmt::format("{:<12} {:<14} {:>6} {:>10} {:>7}", analysis, outcome, tl.tests, tl.bonf, tl.fdr);
      if (!truth.planted.empty()) {
        auto it = truth.planted.find(outcome);
        if (it != truth.planted.end()) {
          std::int64_t recovered = 0;
          for (const auto& h : tl.hits) recovered += static_cast<std::int64_t>(it->second.count(h));
          out += fmt::format("  {:>8} of {:<5} {:>10}", recovered, it->second.size(),
                             static_cast<std::int64_t>(tl.hits.size()) - recovered);
          const auto hr = truth.hr.find(outcome);
          const double ratio = cox && hr != truth.hr.end() ? median_ratio(tl.hit_effect, hr->second) : NAN;
          out += std::isnan(ratio) ? fmt::format(" {:>11}", "-") : fmt::format(" {:>11.3f}", ratio);
        } else {
          out += fmt::format("  {:>17} {:>10} {:>11}", "-", "-", "-");
        }
      }
      out += fmt::format("  {}\n", tl.best);
    }
  }
  return out;
}

}  // namespace pwas::engine
