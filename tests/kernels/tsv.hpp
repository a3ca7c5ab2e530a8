#pragma once
// Minimal reader for the tab-separated golden and NIST files: '#' lines first (kept), then a header line.
#include <cmath>
#include <cstddef>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace pwas::kernels::testing {

/// Splits a line at tabs.
inline std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t tab = line.find('\t', start);
    out.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) return out;
    start = tab + 1;
  }
}

/// Parses a number; "NA" is NaN.
inline double to_double(const std::string& s) {
  if (s == "NA") return std::numeric_limits<double>::quiet_NaN();
  std::size_t used = 0;
  const double x = std::stod(s, &used);
  if (used != s.size()) throw std::runtime_error("not a number: '" + s + "'");
  return x;
}

/// A TSV file: its '#' comment lines (without "# "), header names and cells.
struct Table {
  std::vector<std::string> comments;
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> rows;

  std::size_t index(const std::string& name) const {
    for (std::size_t j = 0; j < names.size(); ++j)
      if (names[j] == name) return j;
    throw std::runtime_error("no column " + name);
  }
  std::vector<double> column(const std::string& name) const {
    const std::size_t j = index(name);
    std::vector<double> out;
    for (const auto& r : rows) out.push_back(to_double(r.at(j)));
    return out;
  }
  std::vector<std::string> text(const std::string& name) const {
    const std::size_t j = index(name);
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.at(j));
    return out;
  }
};

/// Reads a TSV file, throwing if it cannot be opened.
inline Table read_tsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  Table t;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      t.comments.push_back(line.size() > 2 ? line.substr(2) : std::string());
    } else if (t.names.empty()) {
      t.names = split_tabs(line);
    } else {
      t.rows.push_back(split_tabs(line));
      if (t.rows.back().size() != t.names.size()) throw std::runtime_error("ragged row in " + path);
    }
  }
  return t;
}

}  // namespace pwas::kernels::testing
