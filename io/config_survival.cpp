#include "io/config_survival.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "io/config_toml.hpp"
#include "io/date.hpp"
#include "io/error.hpp"

namespace pwas::io {
namespace {

using toml_util::at;
using toml_util::check_keys;
using toml_util::fail;
using toml_util::get_string;

std::string get_column(const std::string& file, const toml::node& n, const std::string& key,
                       std::map<std::string, std::string>& where) {
  std::string s = get_string(file, n, key);
  if (s.empty()) fail(file, n, fmt::format("'{}' must name a column", key));
  where.emplace(s, at(file, n.source()));
  return s;
}

SurvivalDerivation parse_derivation(const std::string& file, const toml::table& t) {
  check_keys(file, t,
             {"name", "baseline", "event_date", "death_date", "censor_date", "prevalent_flag", "exclude_years"},
             "[[survival]]");
  SurvivalDerivation d;
  d.source = at(file, t.source());
  const auto need = [&](const char* key) -> const toml::node& {
    const toml::node* n = t.get(key);
    if (!n) throw InputError(fmt::format("{}: [[survival]] needs '{}'", d.source, key));
    return *n;
  };
  d.name = get_string(file, need("name"), "name");
  if (!toml_util::is_plain_name(d.name))
    fail(file, need("name"), fmt::format("survival name '{}' may hold only letters, digits, _ - .", d.name));
  if (d.name == kProteinWord) fail(file, need("name"), "a survival outcome cannot be called 'protein'");
  d.baseline = get_column(file, need("baseline"), "baseline", d.where);
  d.event_date = get_column(file, need("event_date"), "event_date", d.where);
  if (const toml::node* n = t.get("death_date")) d.death_date = get_column(file, *n, "death_date", d.where);
  const toml::node& censor = need("censor_date");
  const std::string text = get_string(file, censor, "censor_date");
  const auto days = parse_iso_date(text);
  if (!days) fail(file, censor, fmt::format("censor_date '{}' is not a date YYYY-MM-DD", text));
  d.censor_date = *days;
  if (const toml::node* n = t.get("prevalent_flag")) d.prevalent_flag = get_column(file, *n, "prevalent_flag", d.where);
  if (const toml::node* n = t.get("exclude_years")) {
    const auto v = n->value<double>();
    if (!v || !std::isfinite(*v) || *v < 0) fail(file, *n, "exclude_years must be a number >= 0");
    d.exclude_years = *v;
  }
  return d;
}

SurvivalOutcome parse_time_event(const std::string& file, const toml::table& t,
                                 std::map<std::string, std::string>& where) {
  check_keys(file, t, {"time", "event"}, "an outcome { time, event }");
  SurvivalOutcome o;
  for (const char* key : {"time", "event"})
    if (!t.get(key)) fail(file, t, fmt::format("outcome {{ time, event }} needs '{}'", key));
  o.time = get_column(file, *t.get("time"), "time", where);
  o.event = get_column(file, *t.get("event"), "event", where);
  o.name = o.event;
  return o;
}

}  // namespace

std::vector<SurvivalDerivation> parse_survival_tables(const std::string& file, const toml::node* node) {
  std::vector<SurvivalDerivation> out;
  if (!node) return out;
  const auto* arr = node->as_array();
  if (!arr) fail(file, *node, "survival must be an array of tables: [[survival]]");
  for (const auto& item : *arr) {
    const auto* t = item.as_table();
    if (!t) fail(file, item, "[[survival]] entries must be tables");
    SurvivalDerivation d = parse_derivation(file, *t);
    if (std::any_of(out.begin(), out.end(), [&](const SurvivalDerivation& e) { return e.name == d.name; }))
      fail(file, item, fmt::format("survival name '{}' is used twice", d.name));
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<SurvivalOutcome> parse_survival_outcomes(const std::string& file, const toml::node& n,
                                                     const std::vector<SurvivalDerivation>& derivations,
                                                     std::map<std::string, std::string>& where) {
  std::vector<SurvivalOutcome> out;
  std::set<std::string> names;
  auto add = [&](const toml::node& item) {
    SurvivalOutcome o;
    if (const auto* t = item.as_table()) {
      o = parse_time_event(file, *t, where);
    } else if (const auto s = item.value<std::string>()) {
      const auto it = std::find_if(derivations.begin(), derivations.end(),
                                   [&](const SurvivalDerivation& d) { return d.name == *s; });
      if (it == derivations.end()) {
        std::vector<std::string> known;
        for (const auto& d : derivations) known.push_back(d.name);
        fail(file, item, fmt::format("a Cox outcome must name a [[survival]] entry or be {{ time = \"...\", event = "
                                     "\"...\" }}; '{}' is neither (survival entries: {})",
                                     *s, known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", "))));
      }
      o.name = it->name;
      o.derived = *it;
    } else {
      fail(file, item, "a Cox outcome is a [[survival]] name or { time = \"...\", event = \"...\" }");
    }
    if (!names.insert(o.name).second) fail(file, item, fmt::format("outcome '{}' is given twice", o.name));
    out.push_back(std::move(o));
  };
  if (const auto* arr = n.as_array()) {
    if (arr->empty()) fail(file, n, "outcome lists no outcome");
    for (const auto& item : *arr) add(item);
  } else {
    add(n);
  }
  return out;
}

void parse_cox_options(const std::string& file, const toml::table& t, AnalysisConfig& a) {
  const bool cox = a.model == ModelKind::kCox;
  for (const char* key : {"ties", "strata", "score_screen_p", "mediation_exposure", "mediation_bootstrap"})
    if (const toml::node* n = t.get(key); n && !cox)
      fail(file, *n, fmt::format("'{}' applies only to model = \"cox\"", key));
  if (const toml::node* n = t.get("ties")) {
    const std::string s = get_string(file, *n, "ties");
    if (s == "efron") a.ties = CoxTies::kEfron;
    else if (s == "breslow") a.ties = CoxTies::kBreslow;
    else fail(file, *n, fmt::format("ties '{}' is not one of efron, breslow", s));
  }
  if (const toml::node* n = t.get("strata")) {
    a.strata = toml_util::get_names(file, *n, "strata", &a.where);
    for (const auto& s : a.strata)
      if (std::find(a.covariates.begin(), a.covariates.end(), s) != a.covariates.end())
        fail(file, *n, fmt::format("'{}' is both a stratum and a covariate", s));
  }
  if (const toml::node* n = t.get("score_screen_p")) {
    const auto v = n->value<double>();
    if (!v || !(*v > 0.0 && *v <= 1.0)) fail(file, *n, "score_screen_p must be a p-value in (0, 1]");
    a.score_screen_p = *v;
  }
  if (const toml::node* n = t.get("mediation_exposure")) {
    a.mediation_exposure = get_string(file, *n, "mediation_exposure");
    if (a.predictors != std::vector<std::string>{kProteinWord})
      fail(file, *n, "mediation_exposure needs predictor = \"protein\" (the protein is the mediator)");
    if (std::find(a.covariates.begin(), a.covariates.end(), a.mediation_exposure) == a.covariates.end())
      fail(file, *n, fmt::format("mediation exposure '{}' must be one of the analysis' covariates", a.mediation_exposure));
    if (std::find(a.categorical.begin(), a.categorical.end(), a.mediation_exposure) != a.categorical.end())
      fail(file, *n, fmt::format("mediation exposure '{}' must be a numeric (e.g. 0/1) column, not categorical",
                                 a.mediation_exposure));
    if (a.score_screen_p) fail(file, *n, "mediation_exposure cannot be combined with score_screen_p");
  }
  if (const toml::node* n = t.get("mediation_bootstrap")) {
    const auto v = n->value<std::int64_t>();
    if (!v || *v < 0 || *v > 100000) fail(file, *n, "mediation_bootstrap must be an integer from 0 to 100000");
    if (a.mediation_exposure.empty()) fail(file, *n, "mediation_bootstrap needs mediation_exposure");
    a.mediation_bootstrap = static_cast<int>(*v);
  }
}

}  // namespace pwas::io
