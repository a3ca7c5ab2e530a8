#include "io/import.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "io/cohort_h5.hpp"
#include "io/eid_index.hpp"
#include "io/error.hpp"
#include "io/olink.hpp"
#include "io/participants.hpp"
#include "pwas_version.hpp"

namespace pwas::io {
namespace {

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string absolute(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

// Keeps the participant rows `keep` of a column; a factor keeps only the levels still present (R's droplevels),
// since a level without samples would give the engine an all-zero dummy column.
Column subset(Column c, const std::vector<std::int32_t>& keep) {
  if (c.holds_numbers()) {
    std::vector<double> v(keep.size());
    for (std::size_t i = 0; i < keep.size(); ++i) v[i] = c.numeric[static_cast<std::size_t>(keep[i])];
    c.numeric = std::move(v);
    return c;
  }
  std::vector<std::int32_t> codes(keep.size());
  std::vector<std::int32_t> recode(c.levels.size(), -1);
  for (std::size_t i = 0; i < keep.size(); ++i) {
    codes[i] = c.codes[static_cast<std::size_t>(keep[i])];
    if (codes[i] >= 0) recode[static_cast<std::size_t>(codes[i])] = 0;
  }
  std::vector<std::string> levels;
  for (std::size_t l = 0; l < c.levels.size(); ++l) {
    if (recode[l] < 0) continue;
    recode[l] = static_cast<std::int32_t>(levels.size());
    levels.push_back(std::move(c.levels[l]));
  }
  for (std::int32_t& x : codes)
    if (x >= 0) x = recode[static_cast<std::size_t>(x)];
  c.codes = std::move(codes);
  c.levels = std::move(levels);
  return c;
}

std::map<std::string, std::string> provenance(const ImportOptions& opt, const OlinkData& olink) {
  return {
      {"pwas_version", kVersion},
      {"created", utc_now()},
      {"source_participants", absolute(opt.participants)},
      {"source_olink", absolute(opt.olink)},
      {"source_coding", absolute(opt.coding)},
      {"olink_format", olink.format == OlinkFormat::kLong ? "long" : "wide"},
      {"instance", std::to_string(opt.instance)},
      {"missing_codes", fmt::format("{}", fmt::join(opt.missing_codes, ","))},
      {"force_categorical", fmt::format("{}", fmt::join(opt.force_categorical, ","))},
      {"missing_values", "empty, NA, NaN; Olink Inf also set missing"},
  };
}

// Writes the protein matrix in blocks of whole HDF5 chunks, gathering each block from the sample rows.
void write_matrix(CohortWriter& writer, const OlinkData& olink, const std::vector<std::int32_t>& rows) {
  const auto n = static_cast<Eigen::Index>(rows.size());
  const auto p = static_cast<std::int64_t>(olink.proteins.size());
  const std::int64_t k = std::max<std::int64_t>(1, writer.proteins_per_chunk());
  for (std::int64_t first = 0; first < p; first += k) {
    const std::int64_t count = std::min(k, p - first);
    Eigen::MatrixXf block(n, count);  // [n_samples x count]
    for (Eigen::Index i = 0; i < n; ++i) {
      const float* row = olink.values.row(rows[static_cast<std::size_t>(i)]) + first;
      for (std::int64_t j = 0; j < count; ++j) block(i, j) = row[j];
    }
    writer.write_proteins(first, block);
  }
}

}  // namespace

std::vector<std::string> ImportReport::lines() const {
  const double mb = static_cast<double>(olink_bytes) / 1e6;
  return {
      fmt::format("olink file: {} format, {} {}, {:.1f} MB", olink_format, olink_rows,
                  olink_format == "long" ? "rows" : "sample rows", mb),
      fmt::format("olink rows at another instance (skipped): {}", rows_other_instance),
      fmt::format("olink rows whose eid is not in the participants file (skipped): {}", rows_unknown_eid),
      fmt::format("olink values missing (empty, NA, NaN): {}", values_missing),
      fmt::format("olink values not finite (Inf; set missing): {}", values_nonfinite),
      fmt::format("participants: {} rows, {} without an Olink value at the instance (dropped)", participants_rows,
                  participants_without_olink),
      fmt::format("participant columns: {} numeric, {} categorical, {} date", n_numeric_columns,
                  n_categorical_columns, n_date_columns),
      fmt::format("cohort: {} samples x {} proteins", n_samples, n_proteins),
      fmt::format("import time: {:.2f} s ({:.0f} MB/s of Olink text)", seconds, seconds > 0 ? mb / seconds : 0.0),
  };
}

ImportReport import_cohort(const ImportOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  if (opt.participants.empty() || opt.olink.empty() || opt.out.empty())
    throw InputError("import: the participants file, the Olink file and the output file must all be given");

  ParticipantTable participants = read_participants(opt.participants, {opt.missing_codes, opt.force_categorical});
  if (participants.eids.empty()) throw InputError(where(opt.participants, 0, 0, "no data rows"));
  const EidIndex index(participants.eids);
  const OlinkData olink = read_olink({opt.olink, opt.coding, opt.instance}, index, participants.eids.size());

  // Samples: participants (in participants-file order) with at least one Olink value at the instance.
  std::vector<std::int32_t> keep;   // participant rows kept
  std::vector<std::int32_t> rows;   // their rows in olink.values
  for (std::size_t i = 0; i < participants.eids.size(); ++i) {
    const std::int32_t r = olink.row_of[i];
    if (r >= 0 && olink.has_value[static_cast<std::size_t>(r)] != 0) {
      keep.push_back(static_cast<std::int32_t>(i));
      rows.push_back(r);
    }
  }
  if (keep.empty())
    throw InputError(where(opt.olink, 0, 0,
                           fmt::format("no participant of {} has an Olink value at instance {}", opt.participants, opt.instance)));

  CohortMeta meta;
  meta.eids.reserve(keep.size());
  for (const std::int32_t i : keep) meta.eids.push_back(participants.eids[static_cast<std::size_t>(i)]);
  ImportReport report;
  for (Column& c : participants.columns) {
    ++(c.kind == ColumnKind::kNumeric       ? report.n_numeric_columns
       : c.kind == ColumnKind::kCategorical ? report.n_categorical_columns
                                            : report.n_date_columns);
    meta.columns.push_back(subset(std::move(c), keep));
  }
  meta.proteins = olink.proteins;
  meta.provenance = provenance(opt, olink);

  CohortWriter writer(opt.out, meta, {.deflate_level = opt.deflate_level});
  write_matrix(writer, olink, rows);
  writer.finish();

  const OlinkCounts& c = olink.counts;
  report.olink_format = olink.format == OlinkFormat::kLong ? "long" : "wide";
  report.participants_rows = static_cast<std::int64_t>(participants.eids.size());
  report.olink_rows = c.rows;
  report.olink_bytes = c.bytes;
  report.rows_other_instance = c.rows_other_instance;
  report.rows_unknown_eid = c.rows_unknown_eid;
  report.values_missing = c.values_missing;
  report.values_nonfinite = c.values_nonfinite;
  report.participants_without_olink = report.participants_rows - static_cast<std::int64_t>(keep.size());
  report.n_samples = static_cast<std::int64_t>(keep.size());
  report.n_proteins = static_cast<std::int64_t>(olink.proteins.size());
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace pwas::io
