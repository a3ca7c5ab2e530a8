// `pwas simulate --cohort FILE`: the simulated cohort written straight to the HDF5 cohort format, exactly what
// `pwas import --missing-codes -1,-3` makes of the delivery files (tested), without the text in between. At UK
// Biobank's announced scale (600,000 x 5,400) the Showcase long file alone would be ~70 GB of text.
#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <limits>
#include <chrono>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

#include "engine/simulate_model.hpp"
#include "io/cohort_h5.hpp"
#include "io/delivery_writer.hpp"
#include "pwas_version.hpp"

namespace pwas::engine::sim {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// The float `pwas import` parses from the 4-decimal text of v (NPX x 10^4): the correctly rounded float of
/// v / 10^4. Rounding the correctly rounded double to float is the same except within a double ulp of a float
/// rounding midpoint; those rare values go through the text, as the importer would.
float npx_float(std::int32_t v) {
  const double d = static_cast<double>(v) / 1e4;
  const float f = static_cast<float>(d);
  const double up = static_cast<double>(std::nextafter(f, std::numeric_limits<float>::infinity()));
  const double down = static_cast<double>(std::nextafter(f, -std::numeric_limits<float>::infinity()));
  const double fd = static_cast<double>(f);
  const double guard = 4 * std::abs(d) * std::numeric_limits<double>::epsilon();
  if (std::abs(d - (fd + up) / 2) > guard && std::abs(d - (fd + down) / 2) > guard) return f;
  char text[32];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, d, std::chars_format::fixed, 4);
  float parsed = 0.0f;
  std::from_chars(text, end, parsed);
  return parsed;
}

io::Column numeric(const std::string& name, const std::vector<std::int64_t>& rows,
                   const std::function<double(std::size_t)>& value) {
  io::Column c;
  c.name = name;
  c.numeric.reserve(rows.size());
  for (std::int64_t k : rows) c.numeric.push_back(value(static_cast<std::size_t>(k)));
  return c;
}

/// A string column as the importer types it: levels in byte order, only those present.
template <std::size_t N>
io::Column categorical(const std::string& name, const std::vector<std::int64_t>& rows,
                       const std::array<const char*, N>& labels, const std::function<int(std::size_t)>& index) {
  std::array<bool, N> present{};
  for (std::int64_t k : rows)
    if (const int i = index(static_cast<std::size_t>(k)); i >= 0) present[static_cast<std::size_t>(i)] = true;
  std::vector<std::pair<std::string, int>> order;
  for (std::size_t i = 0; i < N; ++i)
    if (present[i]) order.emplace_back(labels[i], static_cast<int>(i));
  std::sort(order.begin(), order.end());
  std::array<std::int32_t, N> code{};
  io::Column c;
  c.name = name;
  c.kind = io::ColumnKind::kCategorical;
  for (std::size_t l = 0; l < order.size(); ++l) {
    c.levels.push_back(order[l].first);
    code[static_cast<std::size_t>(order[l].second)] = static_cast<std::int32_t>(l);
  }
  for (std::int64_t k : rows) {
    const int i = index(static_cast<std::size_t>(k));
    c.codes.push_back(i < 0 ? -1 : code[static_cast<std::size_t>(i)]);
  }
  return c;
}

}  // namespace

std::int64_t write_cohort(const std::string& path, const SimulateOptions& opt, const People& p,
                          const Outcomes& outcomes, const std::vector<Assay>& assays, const ProteinMatrix& m) {
  // Samples: participants (participants.csv order) with at least one value at instance 0, as the importer joins.
  std::vector<std::int64_t> row_of_person(static_cast<std::size_t>(p.size), -1);
  for (std::size_t r = 0; r < p.olink_rows.size(); ++r) row_of_person[static_cast<std::size_t>(p.olink_rows[r])] = static_cast<std::int64_t>(r);
  const auto n_assays = static_cast<std::int64_t>(assays.size());
  std::vector<std::int64_t> persons, matrix_rows;
  for (std::int64_t k : p.csv_order) {
    const std::int64_t r = row_of_person[static_cast<std::size_t>(k)];
    if (r < 0) continue;
    bool any = false;
    for (std::int64_t j = 0; j < n_assays && !any; ++j) any = m.values[static_cast<std::size_t>(j * m.n_rows + r)] != kMissingNpx;
    if (!any) continue;
    persons.push_back(k);
    matrix_rows.push_back(r);
  }

  io::CohortMeta meta;
  for (std::int64_t k : persons) meta.eids.push_back(p.eid[static_cast<std::size_t>(k)]);
  auto miss = [&](std::size_t k, std::uint16_t field) { return (p.missing[k] & field) != 0; };
  auto flag = [&](std::size_t k, std::uint16_t field, double v) { return miss(k, field) ? kNaN : v; };
  meta.columns.push_back(numeric("age", persons, [&](std::size_t k) { return double(p.age[k]); }));
  meta.columns.push_back(numeric("sex", persons, [&](std::size_t k) { return double(p.male[k]); }));
  meta.columns.push_back(numeric("centre", persons, [&](std::size_t k) { return double(kCentreCodes[p.centre[k]]); }));
  meta.columns.push_back(numeric("olink_batch", persons, [&](std::size_t k) { return double(p.batch[k] + 1); }));
  meta.columns.push_back(numeric("time_gap_days", persons, [&](std::size_t k) { return double(p.time_gap[k]); }));
  for (int c = 0; c < kNumPcs; ++c)
    meta.columns.push_back(numeric(fmt::format("pc{}", c + 1), persons, [&, c](std::size_t k) {
      return flag(k, kMissPcs, static_cast<double>(io::scale_round(p.pcs[k * kNumPcs + static_cast<std::size_t>(c)], 4)) / 1e4);
    }));
  meta.columns.push_back(categorical("ethnicity", persons, kEthnicityLabels,
                                     [&](std::size_t k) { return miss(k, kMissEthnicity) ? -1 : int(p.ethnicity[k]); }));
  meta.columns.push_back(categorical("education", persons, kEducationLabels,
                                     [&](std::size_t k) { return miss(k, kMissEducation) ? -1 : int(p.education[k]); }));
  meta.columns.push_back(categorical("income", persons, kIncomeLabels,
                                     [&](std::size_t k) { return miss(k, kMissIncome) ? -1 : int(p.income_low[k]); }));
  meta.columns.push_back(numeric("smoking", persons, [&](std::size_t k) { return flag(k, kMissSmoking, p.smoking[k]); }));
  meta.columns.push_back(numeric("alcohol", persons, [&](std::size_t k) { return flag(k, kMissAlcohol, p.alcohol[k]); }));
  meta.columns.push_back(numeric("bmi", persons, [&](std::size_t k) {
    return flag(k, kMissBmi, static_cast<double>(io::scale_round(p.bmi[k], 4)) / 1e4);
  }));
  meta.columns.push_back(numeric("isolation", persons, [&](std::size_t k) { return flag(k, kMissIsolation, p.isolated[k]); }));
  meta.columns.push_back(numeric("loneliness", persons, [&](std::size_t k) { return flag(k, kMissLoneliness, p.lonely[k]); }));
  meta.columns.push_back(numeric("isolation_score", persons,
                                 [&](std::size_t k) { return flag(k, kMissIsolation, p.isolation_score[k]); }));
  meta.columns.push_back(numeric("loneliness_score", persons,
                                 [&](std::size_t k) { return flag(k, kMissLoneliness, p.loneliness_score[k]); }));
  meta.columns.push_back(numeric("lonely_field_2020", persons, [&](std::size_t k) {
    const int v = p.lonely_field[k];
    return miss(k, kMissLonelyField) || v < 0 ? kNaN : double(v);   // -1/-3: missing codes
  }));
  auto date_column = [&](const std::string& name, const std::vector<std::int32_t>& days) {
    io::Column c = numeric(name, persons, [&](std::size_t k) { return days[k] == kNoDate ? kNaN : double(days[k]); });
    c.kind = io::ColumnKind::kDate;
    return c;
  };
  meta.columns.push_back(date_column("date_baseline", outcomes.baseline));
  for (int o = 0; o < kNumOutcomes; ++o)
    meta.columns.push_back(date_column(std::string("date_") + kOutcomeNames[o], outcomes.date[o]));
  for (const Assay& a : assays) meta.proteins.push_back({a.symbol, a.name, "", kPanelLabels[static_cast<std::size_t>(a.panel)]});
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char created[32];
  std::strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
  meta.provenance = {{"pwas_version", kVersion},
                     {"created", created},
                     {"source", fmt::format("pwas simulate --n {} --proteins {} --seed {}{}", opt.n, opt.proteins,
                                            opt.seed, opt.null_effects ? " --null" : "")},
                     {"instance", "0"},
                     {"missing_codes", "-1,-3"}};

  io::CohortWriter writer(path, meta);
  const std::int64_t k = std::max<std::int64_t>(1, writer.proteins_per_chunk());
  const auto n = static_cast<Eigen::Index>(matrix_rows.size());
  for (std::int64_t first = 0; first < n_assays; first += k) {
    const std::int64_t count = std::min(k, n_assays - first);
    Eigen::MatrixXf block(n, count);   // [n_samples x count]
    for (std::int64_t j = 0; j < count; ++j) {
      const std::int32_t* col = m.values.data() + (first + j) * m.n_rows;
      for (Eigen::Index i = 0; i < n; ++i) {
        const std::int32_t v = col[matrix_rows[static_cast<std::size_t>(i)]];
        block(i, j) = v == kMissingNpx ? std::numeric_limits<float>::quiet_NaN() : npx_float(v);
      }
    }
    writer.write_proteins(first, block);
  }
  writer.finish();
  return static_cast<std::int64_t>(n);
}

}  // namespace pwas::engine::sim
