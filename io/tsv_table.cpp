#include "io/tsv_table.hpp"

#include <algorithm>
#include <fstream>

#include <fmt/format.h>

#include "io/error.hpp"

namespace pwas::io {
namespace {

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto tab = line.find('\t', start);
    out.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) break;
    start = tab + 1;
  }
  return out;
}

}  // namespace

std::size_t TsvTable::column(const std::string& name) const {
  auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end()) throw InputError(fmt::format("{}:1: no column '{}'", path, name));
  return static_cast<std::size_t>(it - header.begin());
}

bool TsvTable::has(const std::string& name) const {
  return std::find(header.begin(), header.end(), name) != header.end();
}

TsvTable read_tsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open", path));
  TsvTable t;
  t.path = path;
  std::string line;
  std::int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1) {
      if (line.size() >= 3 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
      t.header = split_tabs(line);
      continue;
    }
    if (line.empty()) continue;
    auto cells = split_tabs(line);
    if (cells.size() != t.header.size())
      throw InputError(where(path, line_no, 0, fmt::format("{} fields where the header has {}", cells.size(), t.header.size())));
    t.rows.push_back(std::move(cells));
  }
  if (t.header.empty()) throw InputError(fmt::format("{}: empty file", path));
  return t;
}

}  // namespace pwas::io
