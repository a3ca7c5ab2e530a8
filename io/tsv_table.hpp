#pragma once
// Small tab-separated tables read whole (results, truth files): header + string cells, addressed by column name.
#include <string>
#include <vector>

namespace pwas::io {

struct TsvTable {
  std::string path;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  /// Index of the named column; throws InputError naming the file when absent.
  std::size_t column(const std::string& name) const;
  /// True when the header has the column.
  bool has(const std::string& name) const;
};

/// Reads a TSV with a header row; throws InputError naming file and line on a ragged row.
TsvTable read_tsv(const std::string& path);

}  // namespace pwas::io
