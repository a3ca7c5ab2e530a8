#include "io/participants.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <functional>
#include <numeric>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "io/date.hpp"
#include "io/error.hpp"
#include "io/text_reader.hpp"

namespace pwas::io {
namespace {

enum class CellKind : std::uint8_t { kMissing, kNumber, kText, kDate };

const char* describe(CellKind k) {
  return k == CellKind::kNumber ? "number" : k == CellKind::kDate ? "date" : "text";
}

// A number is what R's type.convert() would read as a finite double. "Inf" counts as text: a covariate
// cannot be infinite, so a column holding it is better reported than silently typed. A date is anything shaped
// YYYY-MM-DD; `value` is then its day count, or NaN when no such day exists (reported by the caller).
CellKind classify(std::string_view s, double& value) {
  if (is_missing_token(s)) return CellKind::kMissing;
  if (looks_like_iso_date(s)) {
    const auto days = parse_iso_date(s);
    value = days ? static_cast<double>(*days) : NAN;
    return CellKind::kDate;
  }
  const char* b = s.data();
  const char* e = b + s.size();
  if (*b == '+') ++b;
  if (b == e || !(*b == '-' || *b == '.' || (*b >= '0' && *b <= '9'))) return CellKind::kText;
  if (b != s.data() && *b == '-') return CellKind::kText;
  const auto [p, ec] = std::from_chars(b, e, value);
  if (ec != std::errc() || p != e || !std::isfinite(value)) return CellKind::kText;
  return CellKind::kNumber;
}

bool is_integer(double v) { return std::abs(v) < 9007199254740992.0 && v == std::floor(v); }

bool is_code(double v, const std::vector<double>& codes) {
  return std::find(codes.begin(), codes.end(), v) != codes.end();
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Collects one column while the file streams by. The first non-missing cell fixes the type (unless the column
// is forced categorical), so a mixed column is reported at its first disagreeing cell without keeping the text.
// Numbers and dates both end up in `numbers_` (dates as days since 1970-01-01).
class ColumnBuilder {
 public:
  ColumnBuilder(std::string name, bool forced, const std::string& path)
      : name_(std::move(name)), forced_(forced), path_(path) {}

  void add(std::string_view cell, std::int64_t line, std::int64_t column) {
    double v = 0.0;
    const CellKind k = classify(cell, v);
    if (forced_) {
      codes_.push_back(k == CellKind::kMissing ? -1 : intern(cell));
      return;
    }
    if (k == CellKind::kMissing) {
      if (kind_ == CellKind::kNumber || kind_ == CellKind::kDate) numbers_.push_back(NAN);
      else if (kind_ == CellKind::kText) codes_.push_back(-1);
      else ++leading_missing_;
      return;
    }
    if (kind_ == CellKind::kMissing) start(k, cell, line);
    if (k != kind_) throw_mixed(k, cell, line, column);
    if (k == CellKind::kDate) {
      if (std::isnan(v))
        throw InputError(where(path_, line, column,
                               fmt::format("column '{}' holds dates, but '{}' is not a calendar day (YYYY-MM-DD)",
                                           name_, cell)));
      numbers_.push_back(v);
    } else if (k == CellKind::kNumber) {
      numbers_.push_back(v);
      all_integer_ = all_integer_ && is_integer(v);
    } else {
      codes_.push_back(intern(cell));
    }
  }

  Column finish(const std::vector<double>& missing_codes) {
    Column c;
    c.name = name_;
    if (forced_ || kind_ == CellKind::kText) {
      c.kind = ColumnKind::kCategorical;
      c.codes = std::move(codes_);
      make_levels(c, missing_codes);
    } else if (kind_ == CellKind::kDate) {
      c.kind = ColumnKind::kDate;
      c.numeric = std::move(numbers_);
    } else {
      c.kind = ColumnKind::kNumeric;
      c.numeric = std::move(numbers_);
      c.numeric.resize(c.numeric.size() + leading_missing_, NAN);  // a column that is missing throughout
      // UK Biobank codes "do not know" / "prefer not to answer" as negative integers in integer-coded
      // fields only; a column with any fractional value (PCs, BMI) is continuous and -1 there is a real value.
      if (all_integer_ && !missing_codes.empty())
        for (double& x : c.numeric)
          if (is_code(x, missing_codes)) x = NAN;
    }
    return c;
  }

 private:
  void start(CellKind k, std::string_view cell, std::int64_t line) {
    kind_ = k;
    first_line_ = line;
    first_cell_ = std::string(cell);
    if (k == CellKind::kNumber || k == CellKind::kDate) numbers_.assign(leading_missing_, NAN);
    else codes_.assign(leading_missing_, -1);
    leading_missing_ = 0;
  }

  [[noreturn]] void throw_mixed(CellKind here, std::string_view cell, std::int64_t line, std::int64_t column) const {
    if (kind_ == CellKind::kDate)
      throw InputError(where(path_, line, column,
                             fmt::format("column '{}' holds dates (first '{}' on line {}), but '{}' is not a date "
                                         "YYYY-MM-DD", name_, first_cell_, first_line_, cell)));
    throw InputError(where(
        path_, line, column,
        fmt::format("column '{}' mixes {} and {} values: {} '{}' here, {} '{}' on line {}; list the column in "
                    "force_categorical to keep it as categorical",
                    name_, describe(std::min(here, kind_)), describe(std::max(here, kind_)), describe(here), cell,
                    describe(kind_), first_cell_, first_line_)));
  }

  std::int32_t intern(std::string_view cell) {
    const auto it = index_.find(cell);
    if (it != index_.end()) return it->second;
    const auto code = static_cast<std::int32_t>(texts_.size());
    texts_.emplace_back(cell);
    index_.emplace(texts_.back(), code);
    return code;
  }

  // Levels in R's factor() order: numeric order when every level is a number (as factor() on a numeric
  // vector), byte order otherwise (sort() in the C locale). Missing codes apply to integer-valued levels.
  void make_levels(Column& c, const std::vector<double>& missing_codes) {
    std::vector<double> value(texts_.size(), 0.0);
    bool numeric = forced_;
    bool integer = true;
    for (std::size_t i = 0; i < texts_.size() && numeric; ++i) {
      numeric = classify(texts_[i], value[i]) == CellKind::kNumber;
      integer = integer && is_integer(value[i]);
    }
    std::vector<std::int32_t> order(texts_.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
      if (numeric && value[a] != value[b]) return value[a] < value[b];
      return texts_[a] < texts_[b];
    });
    std::vector<std::int32_t> recode(texts_.size(), -1);
    for (const std::int32_t old : order) {
      if (numeric && integer && is_code(value[old], missing_codes)) continue;
      recode[old] = static_cast<std::int32_t>(c.levels.size());
      c.levels.push_back(std::move(texts_[old]));
    }
    for (std::int32_t& x : c.codes)
      if (x >= 0) x = recode[x];
  }

  std::string name_;
  bool forced_;
  const std::string& path_;
  CellKind kind_ = CellKind::kMissing;
  std::size_t leading_missing_ = 0;
  std::int64_t first_line_ = 0;
  std::string first_cell_;
  bool all_integer_ = true;
  std::vector<double> numbers_;
  std::vector<std::int32_t> codes_;
  std::deque<std::string> texts_;  // a deque: index_ views its strings, which must never move
  std::unordered_map<std::string_view, std::int32_t, StringHash, std::equal_to<>> index_;
};

std::vector<std::string> read_header(RecordReader& reader, std::size_t& eid_column) {
  std::vector<std::string_view> fields;
  if (!reader.next(fields)) throw InputError(where(reader.path(), 0, 0, "empty file: no header line"));
  std::vector<std::string> names;
  eid_column = fields.size();
  for (std::size_t j = 0; j < fields.size(); ++j) {
    const auto col = static_cast<std::int64_t>(j) + 1;
    std::string name(trim(fields[j]));
    if (name.empty()) throw InputError(where(reader.path(), reader.line(), col, "header field is empty"));
    if (name.find('/') != std::string::npos || name == "." || name == "..")
      throw InputError(where(reader.path(), reader.line(), col, fmt::format("column name '{}' may not contain '/' or be '.' or '..'", name)));
    const auto dup = std::find(names.begin(), names.end(), name);
    if (dup != names.end())
      throw InputError(where(reader.path(), reader.line(), col,
                             fmt::format("column '{}' repeats header field {}", name, dup - names.begin() + 1)));
    if (name == "eid") eid_column = j;
    names.push_back(std::move(name));
  }
  if (eid_column == fields.size())
    throw InputError(where(reader.path(), reader.line(), 0,
                           fmt::format("header has no 'eid' column (found: {})", fmt::join(names, ", "))));
  return names;
}

}  // namespace

bool is_missing_token(std::string_view s) {
  if (s.empty() || s == "NA") return true;
  return s.size() == 3 && (s[0] == 'n' || s[0] == 'N') && (s[1] == 'a' || s[1] == 'A') && (s[2] == 'n' || s[2] == 'N');
}

ParticipantTable read_participants(const std::string& path, const ParticipantOptions& opt) {
  RecordReader reader(path);
  std::size_t eid_column = 0;
  const std::vector<std::string> names = read_header(reader, eid_column);
  for (const std::string& forced : opt.force_categorical)
    if (forced == "eid" || std::find(names.begin(), names.end(), forced) == names.end())
      throw InputError(where(path, 1, 0, fmt::format("force_categorical names '{}', which is not a participant column", forced)));

  std::vector<ColumnBuilder> builders;
  builders.reserve(names.size());
  for (std::size_t j = 0; j < names.size(); ++j) {
    if (j == eid_column) continue;
    const bool forced = std::find(opt.force_categorical.begin(), opt.force_categorical.end(), names[j]) !=
                        opt.force_categorical.end();
    builders.emplace_back(names[j], forced, path);
  }

  ParticipantTable table;
  std::unordered_map<std::int64_t, std::int64_t> line_of_eid;
  std::vector<std::string_view> fields;
  while (reader.next(fields)) {
    const std::int64_t line = reader.line();
    if (fields.size() != names.size())
      throw InputError(where(path, line, 0, fmt::format("{} fields, but the header has {}", fields.size(), names.size())));
    const std::string_view cell = trim(fields[eid_column]);
    std::int64_t eid = 0;
    const auto [p, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), eid);
    if (cell.empty() || ec != std::errc() || p != cell.data() + cell.size())
      throw InputError(where(path, line, static_cast<std::int64_t>(eid_column) + 1, fmt::format("eid '{}' is not an integer", cell)));
    const auto [it, fresh] = line_of_eid.emplace(eid, line);
    if (!fresh)
      throw InputError(where(path, line, static_cast<std::int64_t>(eid_column) + 1,
                             fmt::format("eid {} is repeated (first on line {})", eid, it->second)));
    table.eids.push_back(eid);
    std::size_t k = 0;
    for (std::size_t j = 0; j < fields.size(); ++j)
      if (j != eid_column) builders[k++].add(trim(fields[j]), line, static_cast<std::int64_t>(j) + 1);
  }
  table.columns.reserve(builders.size());
  for (ColumnBuilder& b : builders) table.columns.push_back(b.finish(opt.missing_codes));
  return table;
}

}  // namespace pwas::io
