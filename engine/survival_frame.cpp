#include "engine/survival_frame.hpp"

#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "engine/survival_outcome.hpp"
#include "io/error.hpp"

namespace pwas::engine {
namespace {

std::string where_of(const io::AnalysisConfig& a, const std::map<std::string, std::string>& where,
                     const std::string& name) {
  auto it = where.find(name);
  return it != where.end() ? it->second : a.source;
}

const io::Column& column_of(const io::CohortMeta& meta, const io::AnalysisConfig& a,
                            const std::map<std::string, std::string>& where, const std::string& name,
                            const char* role) {
  const io::Column* c = meta.find_column(name);
  if (!c)
    throw InputError(fmt::format("{}: analysis '{}': {} '{}' is not a column of the cohort",
                                 where_of(a, where, name), a.name, role, name));
  return *c;
}

std::span<const double> dates(const io::CohortMeta& meta, const io::AnalysisConfig& a,
                              const io::SurvivalDerivation& d, const std::string& name, const char* role) {
  if (name.empty()) return {};
  const io::Column& c = column_of(meta, a, d.where, name, role);
  if (c.kind != io::ColumnKind::kDate)
    throw InputError(fmt::format("{}: survival '{}': {} '{}' is a {} column, not a date column (YYYY-MM-DD in the "
                                 "participants file)", where_of(a, d.where, name), d.name, role, name,
                                 io::to_string(c.kind)));
  return c.numeric;
}

SurvivalFrame derived_frame(const io::CohortMeta& meta, const io::AnalysisConfig& a, const io::SurvivalDerivation& d,
                            const std::vector<std::uint8_t>& keep) {
  SurvivalDates in;
  in.baseline = dates(meta, a, d, d.baseline, "baseline");
  in.event_date = dates(meta, a, d, d.event_date, "event_date");
  in.death_date = dates(meta, a, d, d.death_date, "death_date");
  if (!d.prevalent_flag.empty()) {
    const io::Column& c = column_of(meta, a, d.where, d.prevalent_flag, "prevalent_flag");
    if (c.kind != io::ColumnKind::kNumeric)
      throw InputError(fmt::format("{}: survival '{}': prevalent_flag '{}' must be a numeric 0/1 column",
                                   where_of(a, d.where, d.prevalent_flag), d.name, d.prevalent_flag));
    in.prevalent = c.numeric;
  }
  const SurvivalRule rule{d.censor_date, d.exclude_years};
  const DerivedSurvival derived = derive_survival(rule, in);
  SurvivalFrame f;
  f.usable.resize(keep.size());
  for (std::size_t i = 0; i < keep.size(); ++i) f.usable[i] = derived.status[i] == SurvivalExclusion::kEligible;
  f.years = derived.years;
  f.event = derived.event;
  f.log = describe_survival(d.name, rule, count_survival(derived, keep));
  return f;
}

SurvivalFrame column_frame(const io::CohortMeta& meta, const io::AnalysisConfig& a, const io::SurvivalOutcome& o,
                           const std::vector<std::uint8_t>& keep) {
  const io::Column& time = column_of(meta, a, a.where, o.time, "time");
  const io::Column& event = column_of(meta, a, a.where, o.event, "event");
  for (const io::Column* c : {&time, &event})
    if (c->kind != io::ColumnKind::kNumeric)
      throw InputError(fmt::format("{}: analysis '{}': survival column '{}' must be numeric (time in years, event "
                                   "0/1), not {}", where_of(a, a.where, c->name), a.name, c->name,
                                   io::to_string(c->kind)));
  SurvivalFrame f;
  const std::size_t n = keep.size();
  f.usable.assign(n, 0);
  f.years.assign(n, std::numeric_limits<double>::quiet_NaN());
  f.event.assign(n, 0);
  std::int64_t kept = 0, usable = 0, events = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double t = time.numeric[i];
    const double e = event.numeric[i];
    if (!keep[i]) continue;
    ++kept;
    if (std::isnan(t) || std::isnan(e)) continue;
    if (e != 0.0 && e != 1.0)
      throw InputError(fmt::format("{}: analysis '{}': event column '{}' must be 0/1 (sample {} has {})",
                                   where_of(a, a.where, o.event), a.name, o.event, meta.eids[i], e));
    if (t < 0.0)
      throw InputError(fmt::format("{}: analysis '{}': time column '{}' has a negative follow-up ({} for eid {})",
                                   where_of(a, a.where, o.time), a.name, o.time, t, meta.eids[i]));
    f.usable[i] = 1;
    f.years[i] = t;
    f.event[i] = e == 1.0 ? 1 : 0;
    ++usable;
    events += f.event[i];
  }
  f.log.push_back(fmt::format("survival {}: time {} and event {} observed for {} of {}; events {}", o.name, o.time,
                              o.event, usable, kept, events));
  return f;
}

}  // namespace

SurvivalFrame survival_frame(const io::CohortMeta& meta, const io::AnalysisConfig& a, const io::SurvivalOutcome& o,
                             const std::vector<std::uint8_t>& keep) {
  return o.derived ? derived_frame(meta, a, *o.derived, keep) : column_frame(meta, a, o, keep);
}

std::vector<std::int64_t> strata_keys(const io::CohortMeta& meta, const io::AnalysisConfig& a) {
  const std::size_t n = meta.n_samples();
  std::vector<std::int64_t> key(n, 0);
  std::int64_t space = 1;   // number of possible keys so far
  for (const std::string& name : a.strata) {
    const io::Column& c = column_of(meta, a, a.where, name, "stratum");
    if (c.kind == io::ColumnKind::kDate)
      throw InputError(fmt::format("{}: analysis '{}': stratum '{}' is a date column", where_of(a, a.where, name),
                                   a.name, name));
    // Codes of this column: categorical codes, or integer values shifted to start at 0.
    std::vector<std::int64_t> code(n, -1);
    std::int64_t lo = 0, hi = -1;
    if (c.kind == io::ColumnKind::kCategorical) {
      for (std::size_t i = 0; i < n; ++i) code[i] = c.codes[i];
      hi = static_cast<std::int64_t>(c.levels.size()) - 1;
    } else {
      bool first = true;
      for (std::size_t i = 0; i < n; ++i) {
        const double v = c.numeric[i];
        if (std::isnan(v)) continue;
        if (v != std::floor(v) || std::fabs(v) > 1e9)
          throw InputError(fmt::format("{}: analysis '{}': stratum '{}' must be categorical or integer (eid {} has "
                                       "{})", where_of(a, a.where, name), a.name, name, meta.eids[i], v));
        const auto x = static_cast<std::int64_t>(v);
        lo = first ? x : std::min(lo, x);
        hi = first ? x : std::max(hi, x);
        first = false;
      }
      for (std::size_t i = 0; i < n; ++i)
        if (!std::isnan(c.numeric[i])) code[i] = static_cast<std::int64_t>(c.numeric[i]) - lo;
      hi -= lo;
    }
    const std::int64_t radix = std::max<std::int64_t>(hi + 1, 1);
    if (space > std::numeric_limits<std::int64_t>::max() / radix)
      throw InputError(fmt::format("{}: analysis '{}': the strata columns have too many combinations", a.source,
                                   a.name));
    space *= radix;
    for (std::size_t i = 0; i < n; ++i) key[i] = key[i] < 0 || code[i] < 0 ? -1 : key[i] * radix + code[i];
  }
  return key;
}

}  // namespace pwas::engine
