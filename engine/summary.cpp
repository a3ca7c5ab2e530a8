#include "engine/summary.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "io/error.hpp"
#include "io/tsv_table.hpp"

namespace pwas::engine {
namespace {

double number(const std::string& s) {
  if (s.empty() || s == "NA") return std::numeric_limits<double>::quiet_NaN();
  return std::stod(s);
}

/// Planted proteins per exposure from truth.tsv: columns `symbol` and `planted_<exposure>` (0/1).
std::map<std::string, std::set<std::string>> read_truth(const std::string& path) {
  const io::TsvTable t = io::read_tsv(path);
  const std::size_t sym = t.column("symbol");
  std::map<std::string, std::set<std::string>> out;
  for (std::size_t c = 0; c < t.header.size(); ++c) {
    const std::string& h = t.header[c];
    if (h.rfind("planted_", 0) != 0) continue;
    auto& set = out[h.substr(8)];
    for (const auto& row : t.rows)
      if (row[c] == "1") set.insert(row[sym]);
  }
  return out;
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
  const auto truth = opt.truth.empty() ? std::map<std::string, std::set<std::string>>{} : read_truth(opt.truth);

  std::string out = fmt::format("{:<12} {:<14} {:>6} {:>10} {:>7}", "analysis", "outcome", "tests", "P_BONF<.05",
                                "Q<.05");
  if (!truth.empty()) out += fmt::format("  {:>17} {:>10}", "planted recovered", "false hits");
  out += "  top hit\n";
  for (const auto& f : files) {
    const io::TsvTable t = io::read_tsv(f.string());
    const std::size_t c_an = t.column("ANALYSIS"), c_out = t.column("OUTCOME"), c_prot = t.column("PROTEIN"),
                      c_p = t.column("P"), c_bonf = t.column("P_BONF"), c_q = t.column("Q_FDR"),
                      c_eff = t.column("EFFECT");
    struct Tally {
      std::int64_t tests = 0, bonf = 0, fdr = 0;
      std::set<std::string> hits;
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
      }
      if (number(row[c_q]) < 0.05) ++tl.fdr;
      if (p < tl.best_p) {
        tl.best_p = p;
        tl.best = fmt::format("{} (effect {:.3f}, P {:.2g})", row[c_prot], number(row[c_eff]), p);
      }
    }
    for (const auto& [outcome, tl] : by_outcome) {
      out += fmt::format("{:<12} {:<14} {:>6} {:>10} {:>7}", analysis, outcome, tl.tests, tl.bonf, tl.fdr);
      if (!truth.empty()) {
        auto it = truth.find(outcome);
        if (it != truth.end()) {
          std::int64_t recovered = 0;
          for (const auto& h : tl.hits) recovered += static_cast<std::int64_t>(it->second.count(h));
          out += fmt::format("  {:>8} of {:<5} {:>10}", recovered, it->second.size(),
                             static_cast<std::int64_t>(tl.hits.size()) - recovered);
        } else {
          out += fmt::format("  {:>17} {:>10}", "-", "-");
        }
      }
      out += fmt::format("  {}\n", tl.best);
    }
  }
  return out;
}

}  // namespace pwas::engine
