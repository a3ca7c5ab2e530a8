#include "io/olink.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

#include "io/error.hpp"
#include "io/participants.hpp"
#include "io/text_reader.hpp"

namespace pwas::io {
namespace {

// A NaN whose payload no parser produces marks cells that no row has written yet, so a repeated
// (eid, protein) pair is caught without a second "seen" matrix. Replaced by a plain NaN at the end.
constexpr std::uint32_t kUnseenBits = 0x7fc0beefU;
const float kUnseen = std::bit_cast<float>(kUnseenBits);
const float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr std::int32_t kMaxCoding = 10'000'000;

enum class Value : std::uint8_t { kFinite, kMissing, kNonFinite, kBad };

inline bool at_field_end(const char* e, char delim) {
  return *e == delim || *e == '\n' || (*e == '\r' && e[1] == '\n');
}

// Parses the value field at `p` (text ends with '\n'); on success `p` is left on the field's terminator.
inline Value parse_value(const char*& p, const char* end, char delim, float& v) {
  const auto [e, ec] = std::from_chars(p, end, v);
  if (ec == std::errc() && at_field_end(e, delim)) {
    p = e;
    if (std::isfinite(v)) return Value::kFinite;
    return std::isnan(v) ? Value::kMissing : Value::kNonFinite;
  }
  if (ec == std::errc::result_out_of_range && at_field_end(e, delim)) {
    double d = 0.0;
    std::from_chars(p, e, d);  // tells an underflow (a tiny value, kept) from an overflow (beyond float range)
    p = e;
    v = static_cast<float>(d);
    return std::isfinite(v) ? Value::kFinite : Value::kNonFinite;
  }
  if (at_field_end(p, delim)) return Value::kMissing;
  if (p[0] == 'N' && p[1] == 'A' && at_field_end(p + 2, delim)) {
    p += 2;
    return Value::kMissing;
  }
  return Value::kBad;
}

// Decimal integer with an optional '-', inlined on the hot path (std::from_chars for integers is not, and costs
// about a quarter of the parse). The text always ends with '\n', so the digit loop needs no bounds check.
template <class Int>
inline bool parse_int(const char*& p, const char* end, Int& v) {
  const char* q = p;
  const bool negative = *q == '-';
  q += negative ? 1 : 0;
  const char* const digits = q;
  std::uint64_t x = 0;
  while (static_cast<unsigned>(*q - '0') < 10U) x = x * 10 + static_cast<unsigned>(*q++ - '0');
  if (q == digits) return false;
  if (q - digits > 18) {  // could overflow the accumulator: let from_chars judge the range
    const auto [e, ec] = std::from_chars(p, end, v);
    if (ec != std::errc()) return false;
    p = e;
    return true;
  }
  if (x > static_cast<std::uint64_t>(std::numeric_limits<Int>::max())) return false;
  v = negative ? static_cast<Int>(-static_cast<std::int64_t>(x)) : static_cast<Int>(x);
  p = q;
  return true;
}

// The field that starts at `p`, for error messages.
std::string_view field_at(const char* p, char delim) {
  const char* e = p;
  while (*e != delim && *e != '\n' && *e != '\r') ++e;
  return {p, static_cast<std::size_t>(e - p)};
}

std::size_t count_fields(const char* line_start, char delim) {
  std::size_t n = 1;
  for (const char* p = line_start; *p != '\n'; ++p) n += *p == delim;
  return n;
}

std::string_view unquote(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

std::int32_t new_row(OlinkData& out, std::int32_t participant) {
  const std::int32_t r = out.values.add_row(kUnseen);
  out.row_of[static_cast<std::size_t>(participant)] = r;
  out.has_value.push_back(0);
  return r;
}

// Showcase long file: one value per line. Lines are parsed straight from the read buffer with from_chars
// (no per-field strings); the row of the last eid is cached because the file comes grouped by eid.
class LongParser {
 public:
  LongParser(const OlinkOptions& opt, char delim, const EidIndex& index, std::vector<std::int32_t> column_of_coding,
             OlinkData& out)
      : opt_(opt), delim_(delim), index_(index), column_of_coding_(std::move(column_of_coding)), out_(out) {}

  void parse(std::string_view block, std::int64_t line) {
    const char* p = block.data();
    const char* const end = p + block.size();
    OlinkCounts& c = out_.counts;
    for (; p < end; ++line) {
      const char* const start = p;
      if (*p == '\n' || (*p == '\r' && p[1] == '\n')) {
        p += *p == '\r' ? 2 : 1;
        continue;
      }
      std::int64_t eid = 0;
      int ins = 0;
      std::int32_t coding = 0;
      float v = 0.0F;
      if (!parse_int(p, end, eid) || *p++ != delim_) fail(start, line, 1, start, "eid is not an integer");
      const char* const ins_at = p;
      if (!parse_int(p, end, ins) || *p++ != delim_) fail(start, line, 2, ins_at, "ins_index is not an integer");
      const char* const coding_at = p;
      if (!parse_int(p, end, coding) || *p++ != delim_) fail(start, line, 3, coding_at, "protein_id is not an integer");
      const char* const value_at = p;
      const Value kind = parse_value(p, end, delim_, v);
      if (kind == Value::kBad || *p == delim_) fail(start, line, 4, value_at, "result is not a number");
      p += *p == '\r' ? 2 : 1;
      ++c.rows;
      if (coding < 0 || static_cast<std::size_t>(coding) >= column_of_coding_.size() ||
          column_of_coding_[static_cast<std::size_t>(coding)] < 0)
        throw InputError(where(opt_.path, line, 3, fmt::format("protein_id {} is not in the coding file {}", coding, opt_.coding)));
      if (ins != opt_.instance) {
        ++c.rows_other_instance;
        continue;
      }
      if (eid != last_eid_) {
        last_eid_ = eid;
        const std::int32_t participant = index_.find(eid);
        last_row_ = participant < 0 ? -1 : out_.row_of[static_cast<std::size_t>(participant)];
        if (participant >= 0 && last_row_ < 0) last_row_ = new_row(out_, participant);
      }
      if (last_row_ < 0) {
        ++c.rows_unknown_eid;
        continue;
      }
      float& cell = out_.values.row(last_row_)[column_of_coding_[static_cast<std::size_t>(coding)]];
      if (std::bit_cast<std::uint32_t>(cell) != kUnseenBits)
        throw InputError(where(opt_.path, line, 0, fmt::format("eid {} has protein_id {} a second time at ins_index {}", eid, coding, ins)));
      if (kind == Value::kFinite) {
        cell = v;
        out_.has_value[static_cast<std::size_t>(last_row_)] = 1;
      } else {
        cell = kNaN;
        ++(kind == Value::kMissing ? c.values_missing : c.values_nonfinite);
      }
    }
  }

 private:
  // Slow path: a wrong number of fields is reported as such, anything else at the field that failed.
  [[noreturn]] void fail(const char* line_start, std::int64_t line, std::int64_t column, const char* field,
                         const char* what) const {
    const std::size_t n = count_fields(line_start, delim_);
    if (n != 4) throw InputError(where(opt_.path, line, 0, fmt::format("{} fields, expected 4 (eid ins_index protein_id result)", n)));
    throw InputError(where(opt_.path, line, column, fmt::format("{}: '{}'", what, field_at(field, delim_))));
  }

  const OlinkOptions& opt_;
  char delim_;
  const EidIndex& index_;
  std::vector<std::int32_t> column_of_coding_;  // coding number -> protein column, -1 when not in the coding
  OlinkData& out_;
  std::int64_t last_eid_ = std::numeric_limits<std::int64_t>::min();
  std::int32_t last_row_ = -1;
};

// RAP wide file: one sample per line. Values go to a scratch row first because the eid need not come first.
class WideParser {
 public:
  WideParser(const OlinkOptions& opt, char delim, std::size_t eid_field, std::size_t n_fields, const EidIndex& index,
             OlinkData& out)
      : opt_(opt), delim_(delim), eid_field_(eid_field), n_fields_(n_fields), index_(index), out_(out),
        scratch_(n_fields - 1), line_of_participant_(out.row_of.size(), 0) {}

  void parse(std::string_view block, std::int64_t line) {
    const char* p = block.data();
    const char* const end = p + block.size();
    for (; p < end; ++line) {
      const char* const start = p;
      if (*p == '\n' || (*p == '\r' && p[1] == '\n')) {
        p += *p == '\r' ? 2 : 1;
        continue;
      }
      std::int64_t eid = 0;
      std::int64_t missing = 0, nonfinite = 0;
      bool any_finite = false;
      for (std::size_t j = 0, k = 0; j < n_fields_; ++j) {
        const char* const field = p;
        const auto column = static_cast<std::int64_t>(j) + 1;
        if (j == eid_field_) {
          if (!parse_int(p, end, eid) || !at_field_end(p, delim_)) fail(start, line, column, field, "eid is not an integer");
        } else {
          const Value kind = parse_value(p, end, delim_, scratch_[k]);
          if (kind == Value::kBad) fail(start, line, column, field, "value is not a number");
          any_finite = any_finite || kind == Value::kFinite;
          if (kind != Value::kFinite) scratch_[k] = kNaN;
          missing += kind == Value::kMissing;
          nonfinite += kind == Value::kNonFinite;
          ++k;
        }
        if (j + 1 < n_fields_) {
          if (*p++ != delim_) fail(start, line, column, field, "unexpected text");
        } else {
          p += *p == '\r' ? 1 : 0;
          if (*p++ != '\n') fail(start, line, column, field, "unexpected text");
        }
      }
      ++out_.counts.rows;
      const std::int32_t participant = index_.find(eid);
      if (participant < 0) {
        ++out_.counts.rows_unknown_eid;
        continue;
      }
      std::int64_t& first = line_of_participant_[static_cast<std::size_t>(participant)];
      if (first != 0)
        throw InputError(where(opt_.path, line, static_cast<std::int64_t>(eid_field_) + 1,
                               fmt::format("eid {} is repeated (first on line {})", eid, first)));
      first = line;
      out_.counts.values_missing += missing;
      out_.counts.values_nonfinite += nonfinite;
      if (!any_finite) continue;  // an all-empty row (RAP exports every participant) costs no memory
      const std::int32_t r = new_row(out_, participant);
      std::copy(scratch_.begin(), scratch_.end(), out_.values.row(r));
      out_.has_value[static_cast<std::size_t>(r)] = 1;
    }
  }

 private:
  [[noreturn]] void fail(const char* line_start, std::int64_t line, std::int64_t column, const char* field,
                         const char* what) const {
    const std::size_t n = count_fields(line_start, delim_);
    if (n != n_fields_) throw InputError(where(opt_.path, line, 0, fmt::format("{} fields, but the header has {}", n, n_fields_)));
    throw InputError(where(opt_.path, line, column, fmt::format("{}: '{}'", what, field_at(field, delim_))));
  }

  const OlinkOptions& opt_;
  char delim_;
  std::size_t eid_field_;
  std::size_t n_fields_;
  const EidIndex& index_;
  OlinkData& out_;
  std::vector<float> scratch_;                    // [n_proteins]
  std::vector<std::int64_t> line_of_participant_;  // [n_participants] line of its row, 0 before it is seen
};

std::vector<std::int32_t> setup_long(const OlinkOptions& opt, OlinkData& out) {
  if (opt.coding.empty())
    throw InputError(where(opt.path, 1, 0, "the long format needs the coding file (coding143.tsv) to name its protein_ids"));
  const std::vector<CodingEntry> coding = read_coding(opt.coding);
  std::vector<std::int32_t> column_of_coding(coding.empty() ? 0 : static_cast<std::size_t>(coding.back().coding) + 1, -1);
  for (const CodingEntry& e : coding) {
    column_of_coding[static_cast<std::size_t>(e.coding)] = static_cast<std::int32_t>(out.proteins.size());
    out.proteins.push_back({e.symbol, e.full_name, "", ""});
  }
  return column_of_coding;
}

// Wide column names are assay symbols in lower case, possibly prefixed by the table ("olink_instance_0.gdf15").
std::size_t setup_wide(const OlinkOptions& opt, const std::vector<std::string_view>& header, OlinkData& out) {
  std::unordered_map<std::string, std::string> full_name;
  if (!opt.coding.empty())
    for (CodingEntry& e : read_coding(opt.coding)) full_name.emplace(e.symbol, std::move(e.full_name));
  std::size_t eid_field = header.size();
  std::unordered_map<std::string, std::size_t> field_of;
  for (std::size_t j = 0; j < header.size(); ++j) {
    std::string_view name = unquote(header[j]);
    if (const std::size_t dot = name.rfind('.'); dot != std::string_view::npos) name.remove_prefix(dot + 1);
    const auto column = static_cast<std::int64_t>(j) + 1;
    if (name == "eid" && eid_field == header.size()) {
      eid_field = j;
      continue;
    }
    if (name.empty()) throw InputError(where(opt.path, 1, column, "header field is empty"));
    std::string symbol(name);
    std::transform(symbol.begin(), symbol.end(), symbol.begin(), [](unsigned char ch) { return std::toupper(ch); });
    const auto [it, fresh] = field_of.emplace(symbol, j + 1);
    if (!fresh)
      throw InputError(where(opt.path, 1, column, fmt::format("assay {} repeats header field {}", symbol, it->second)));
    auto known = full_name.find(symbol);
    if (known == full_name.end()) {
      std::string dashed = symbol;  // HLA_A in a column name is HLA-A in the coding
      std::replace(dashed.begin(), dashed.end(), '_', '-');
      known = full_name.find(dashed);
      if (known != full_name.end()) symbol = dashed;
    }
    out.proteins.push_back({symbol, known == full_name.end() ? std::string() : known->second, "", ""});
  }
  return eid_field;
}

template <class Parser>
void parse_blocks(TextReader& text, Parser& parser) {
  std::string_view block;
  std::int64_t first_line = text.line_number() + 1;
  while (text.next_block(block)) {
    parser.parse(block, first_line);
    first_line = text.line_number() + 1;
  }
}

}  // namespace

std::vector<CodingEntry> read_coding(const std::string& path) {
  RecordReader reader(path);
  std::vector<std::string_view> fields;
  if (!reader.next(fields)) throw InputError(where(path, 0, 0, "empty file: no header line"));
  std::size_t coding_field = fields.size(), meaning_field = fields.size();
  for (std::size_t j = 0; j < fields.size(); ++j) {
    if (trim(fields[j]) == "coding") coding_field = j;
    if (trim(fields[j]) == "meaning") meaning_field = j;
  }
  if (coding_field == fields.size() || meaning_field == fields.size())
    throw InputError(where(path, reader.line(), 0, "header needs the columns 'coding' and 'meaning'"));
  const std::size_t n_fields = fields.size();
  std::vector<CodingEntry> entries;
  std::unordered_map<std::int32_t, std::int64_t> line_of;
  while (reader.next(fields)) {
    const std::int64_t line = reader.line();
    if (fields.size() != n_fields)
      throw InputError(where(path, line, 0, fmt::format("{} fields, but the header has {}", fields.size(), n_fields)));
    const std::string_view text = trim(fields[coding_field]);
    CodingEntry e;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), e.coding);
    if (ec != std::errc() || p != text.data() + text.size() || e.coding < 0 || e.coding > kMaxCoding)
      throw InputError(where(path, line, static_cast<std::int64_t>(coding_field) + 1,
                             fmt::format("coding '{}' is not an integer in 0..{}", text, kMaxCoding)));
    const auto [it, fresh] = line_of.emplace(e.coding, line);
    if (!fresh)
      throw InputError(where(path, line, static_cast<std::int64_t>(coding_field) + 1,
                             fmt::format("coding {} is repeated (first on line {})", e.coding, it->second)));
    const std::string_view meaning = trim(fields[meaning_field]);
    const std::size_t semi = meaning.find(';');
    e.symbol = std::string(trim(meaning.substr(0, semi)));
    if (semi != std::string_view::npos) e.full_name = std::string(trim(meaning.substr(semi + 1)));
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(), [](const CodingEntry& a, const CodingEntry& b) { return a.coding < b.coding; });
  return entries;
}

OlinkData read_olink(const OlinkOptions& opt, const EidIndex& index, std::size_t n_participants) {
  TextReader text(opt.path);
  std::string_view header_line;
  if (!text.next_line(header_line)) throw InputError(where(opt.path, 0, 0, "empty file: no header line"));
  const char delim = detect_delimiter(header_line);
  std::vector<std::string_view> header;
  split_fields(header_line, delim, header);

  OlinkData out;
  out.row_of.assign(n_participants, -1);
  const std::vector<std::string_view> long_header{"eid", "ins_index", "protein_id", "result"};
  const bool is_long = header.size() == 4 && std::equal(header.begin(), header.end(), long_header.begin(),
                                                        [](std::string_view a, std::string_view b) { return unquote(a) == b; });
  if (is_long) {
    out.format = OlinkFormat::kLong;
    std::vector<std::int32_t> column_of_coding = setup_long(opt, out);
    out.values = RowStore(out.proteins.size());
    LongParser parser(opt, delim, index, std::move(column_of_coding), out);
    parse_blocks(text, parser);
  } else {
    const bool has_eid = std::any_of(header.begin(), header.end(), [](std::string_view h) {
      const std::string_view name = unquote(h);
      return name == "eid" || name.ends_with(".eid");
    });
    if (!has_eid)
      throw InputError(where(opt.path, 1, 0,
                             "header is neither the long format (eid ins_index protein_id result) nor the wide "
                             "format (eid and one column per assay)"));
    out.format = OlinkFormat::kWide;
    const std::size_t eid_field = setup_wide(opt, header, out);
    out.values = RowStore(out.proteins.size());
    WideParser parser(opt, delim, eid_field, header.size(), index, out);
    parse_blocks(text, parser);
  }
  out.counts.bytes = text.bytes_read();

  for (std::int32_t r = 0; r < out.values.n_rows(); ++r) {
    float* row = out.values.row(r);
    for (std::size_t j = 0; j < out.values.width(); ++j)
      if (std::bit_cast<std::uint32_t>(row[j]) == kUnseenBits) row[j] = kNaN;
  }
  return out;
}

}  // namespace pwas::io
