#include "io/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "io/config_survival.hpp"
#include "io/config_toml.hpp"
#include "io/error.hpp"

namespace pwas::io {
namespace {

using toml_util::at;
using toml_util::check_keys;
using toml_util::fail;
using toml_util::get_names;
using toml_util::get_string;

SampleCondition parse_condition(const std::string& file, const toml::node& n) {
  const std::string text = get_string(file, n, "filter");
  static const char* kOps[] = {"==", "!=", "<=", ">=", "<", ">"};
  for (const char* op : kOps) {
    auto pos = text.find(op);
    if (pos == std::string::npos) continue;
    auto trim = [](std::string s) {
      const auto b = s.find_first_not_of(" \t");
      const auto e = s.find_last_not_of(" \t");
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    SampleCondition c;
    c.column = trim(text.substr(0, pos));
    c.op = op;
    c.text = trim(text.substr(pos + std::string(op).size()));
    c.source = at(file, n.source());
    if (c.text.size() >= 2 && (c.text.front() == '"' || c.text.front() == '\'') && c.text.back() == c.text.front())
      c.text = c.text.substr(1, c.text.size() - 2);
    else {
      const char* b = c.text.data();
      const char* e = b + c.text.size();
      auto [ptr, ec] = std::from_chars(b, e, c.number);
      c.is_number = ec == std::errc() && ptr == e;
    }
    if (c.column.empty() || c.text.empty())
      fail(file, n, fmt::format("filter '{}' must read `column OP value`", text));
    if (!c.is_number && c.op != "==" && c.op != "!=")
      fail(file, n, fmt::format("filter '{}': {} needs a number", text, c.op));
    return c;
  }
  fail(file, n, fmt::format("filter '{}' has no comparison (==, !=, <, <=, >, >=)", text));
}

std::string resolve(const std::string& base_dir, const std::string& p) {
  if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

std::int64_t get_count(const std::string& file, const toml::node& n, const char* key, std::int64_t max) {
  auto v = n.value<std::int64_t>();
  if (!v || *v < 0 || *v > max) fail(file, n, fmt::format("{} must be an integer from 0 to {}", key, max));
  return *v;
}

bool get_bool(const std::string& file, const toml::node& n, const char* key) {
  auto v = n.value<bool>();
  if (!v) fail(file, n, fmt::format("{} must be true or false", key));
  return *v;
}

ResamplingConfig parse_resampling(const std::string& file, const toml::table& t, const AnalysisConfig& a) {
  ResamplingConfig r;
  if (const toml::node* n = t.get("permutations")) r.permutations = get_count(file, *n, "permutations", 100'000'000);
  if (const toml::node* n = t.get("bootstrap")) r.bootstrap = get_count(file, *n, "bootstrap", 1'000'000);
  if (const toml::node* n = t.get("split_half")) r.split_half = get_count(file, *n, "split_half", 100'000);
  if (const toml::node* n = t.get("permutation_stop")) {
    r.permutation_stop = get_count(file, *n, "permutation_stop", 1'000'000);
    if (r.permutations == 0) fail(file, *n, "permutation_stop needs permutations > 0");
  }
  if (const toml::node* n = t.get("max_t")) {
    r.max_t = get_bool(file, *n, "max_t");
    if (r.max_t && r.permutations == 0) fail(file, *n, "max_t = true needs permutations > 0");
    if (r.max_t && r.permutation_stop > 0)
      fail(file, *n, "max_t = true cannot be combined with permutation_stop: max-T needs every protein's statistic "
                     "in every permutation");
  }
  if (const toml::node* n = t.get("bootstrap_ci")) {
    const std::string s = get_string(file, *n, "bootstrap_ci");
    if (s == "bca") r.bootstrap_bca = true;
    else if (s != "percentile") fail(file, *n, fmt::format("bootstrap_ci '{}' is not one of percentile, bca", s));
    if (r.bootstrap == 0) fail(file, *n, "bootstrap_ci needs bootstrap > 0");
  }
  if (r.any()) {
    const bool protein = a.outcomes == std::vector<std::string>{kProteinWord} ||
                         a.predictors == std::vector<std::string>{kProteinWord};
    const toml::node* key = t.get(r.permutations > 0 ? "permutations" : r.bootstrap > 0 ? "bootstrap" : "split_half");
    if (!protein) fail(file, *key, "resampling needs outcome or predictor = \"protein\"");
    if (a.model != ModelKind::kLinear && a.model != ModelKind::kLogistic)
      fail(file, *key, "resampling is available for linear and logistic models");
    if (a.report != ReportTerms::kPredictor) fail(file, *key, "resampling needs report = \"predictor\"");
  }
  return r;
}

AnalysisConfig parse_analysis(const std::string& file, const std::string& dir, const toml::table& t,
                              const std::map<std::string, std::vector<std::string>>& sets,
                              const std::vector<SurvivalDerivation>& survival) {
  check_keys(file, t,
             {"name", "model", "outcome", "predictor", "covariates", "categorical", "protein_transform",
              "bonferroni_tests", "protein_max_missing", "min_case_ct", "keep", "remove", "filter", "proteins",
              "report", "strata", "ties", "score_screen_p", "mediation_exposure", "mediation_bootstrap", "permutations", "max_t", "permutation_stop", "bootstrap",
              "bootstrap_ci", "split_half"},
             "[[analysis]]");
  AnalysisConfig a;
  a.source = at(file, t.source());
  const auto need = [&](const char* key) -> const toml::node& {
    const toml::node* n = t.get(key);
    if (!n) throw InputError(fmt::format("{}: [[analysis]] needs '{}'", a.source, key));
    return *n;
  };
  a.name = get_string(file, need("name"), "name");
  if (!toml_util::is_plain_name(a.name))
    fail(file, need("name"), fmt::format("analysis name '{}' may hold only letters, digits, _ - .", a.name));
  const std::string model = get_string(file, need("model"), "model");
  if (model == "linear") a.model = ModelKind::kLinear;
  else if (model == "logistic") a.model = ModelKind::kLogistic;
  else if (model == "cox") a.model = ModelKind::kCox;
  else fail(file, need("model"), fmt::format("model '{}' is not one of linear, logistic, cox", model));
  if (a.model == ModelKind::kCox) {
    a.survival = parse_survival_outcomes(file, need("outcome"), survival, a.where);
    for (const auto& o : a.survival) a.outcomes.push_back(o.name);
  } else {
    const toml::node& n = need("outcome");
    const auto* arr = n.as_array();
    if (n.is_table() || (arr && std::any_of(arr->begin(), arr->end(), [](const toml::node& x) { return x.is_table(); })))
      fail(file, n, "an outcome { time, event } needs model = \"cox\"");
    a.outcomes = get_names(file, n, "outcome", &a.where);
  }
  a.predictors = t.get("predictor") ? get_names(file, *t.get("predictor"), "predictor", &a.where)
                                    : std::vector<std::string>{kProteinWord};
  auto has_protein = [](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), std::string(kProteinWord)) != v.end();
  };
  if (has_protein(a.outcomes) && a.outcomes.size() > 1)
    fail(file, need("outcome"), "outcome 'protein' cannot be combined with other outcomes");
  if (has_protein(a.predictors) && a.predictors.size() > 1)
    fail(file, *t.get("predictor"), "predictor 'protein' cannot be combined with other predictors");
  if (has_protein(a.outcomes) && has_protein(a.predictors))
    fail(file, need("outcome"), "outcome and predictor cannot both be 'protein'");
  if (has_protein(a.outcomes) && a.model == ModelKind::kLogistic)
    fail(file, need("model"), "a protein outcome needs model = \"linear\"");
  if (const toml::node* n = t.get("covariates")) {
    if (auto s = n->value<std::string>()) {
      auto it = sets.find(*s);
      if (it == sets.end()) fail(file, *n, fmt::format("no covariate set named '{}' in [covariate_sets]", *s));
      a.covariates = it->second;
      for (const auto& c : a.covariates) a.where.emplace(c, at(file, n->source()));
    } else {
      a.covariates = get_names(file, *n, "covariates", &a.where);
    }
  }
  if (const toml::node* n = t.get("categorical")) a.categorical = get_names(file, *n, "categorical", &a.where);
  if (const toml::node* n = t.get("protein_transform")) {
    const std::string s = get_string(file, *n, "protein_transform");
    if (s == "rin") a.transform = ProteinTransform::kRin;
    else if (s == "zscore") a.transform = ProteinTransform::kZscore;
    else if (s == "none") a.transform = ProteinTransform::kNone;
    else fail(file, *n, fmt::format("protein_transform '{}' is not one of rin, zscore, none", s));
  }
  if (const toml::node* n = t.get("bonferroni_tests")) {
    auto v = n->value<double>();
    if (!v || *v < 1) fail(file, *n, "bonferroni_tests must be a number >= 1");
    a.bonferroni_tests = *v;
  }
  if (const toml::node* n = t.get("protein_max_missing")) {
    auto v = n->value<double>();
    if (!v || *v < 0 || *v > 1) fail(file, *n, "protein_max_missing must be a fraction in [0, 1]");
    a.protein_max_missing = *v;
  }
  if (const toml::node* n = t.get("min_case_ct")) {
    auto v = n->value<std::int64_t>();
    if (!v || *v < 1) fail(file, *n, "min_case_ct must be an integer >= 1");
    a.min_case_ct = static_cast<int>(*v);
  }
  if (const toml::node* n = t.get("keep")) a.keep_file = resolve(dir, get_string(file, *n, "keep"));
  if (const toml::node* n = t.get("remove")) a.remove_file = resolve(dir, get_string(file, *n, "remove"));
  if (const toml::node* n = t.get("filter")) {
    if (const auto* arr = n->as_array()) {
      for (const auto& item : *arr) a.filters.push_back(parse_condition(file, item));
    } else {
      a.filters.push_back(parse_condition(file, *n));
    }
    for (const auto& c : a.filters) a.where.emplace(c.column, c.source);
  }
  if (const toml::node* n = t.get("proteins")) a.proteins = get_names(file, *n, "proteins", nullptr);
  parse_cox_options(file, t, a);
  if (const toml::node* n = t.get("report")) {
    const std::string s = get_string(file, *n, "report");
    if (s == "predictor") a.report = ReportTerms::kPredictor;
    else if (s == "all") a.report = ReportTerms::kAll;
    else fail(file, *n, fmt::format("report '{}' is not one of predictor, all", s));
  }
  a.resampling = parse_resampling(file, t, a);
  return a;
}

}  // namespace

const char* to_string(ModelKind m) {
  switch (m) {
    case ModelKind::kLinear: return "linear";
    case ModelKind::kLogistic: return "logistic";
    case ModelKind::kCox: return "cox";
  }
  return "?";
}

const char* to_string(CoxTies t) { return t == CoxTies::kEfron ? "efron" : "breslow"; }

const char* to_string(ProteinTransform t) {
  switch (t) {
    case ProteinTransform::kRin: return "rin";
    case ProteinTransform::kZscore: return "zscore";
    case ProteinTransform::kNone: return "none";
  }
  return "?";
}

RunConfig load_config(const std::string& path) {
  if (!std::filesystem::exists(path)) throw InputError(fmt::format("{}: config file not found", path));
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("{}:{}:{}: {}", path, e.source().begin.line, e.source().begin.column,
                                 e.description()));
  }
  check_keys(path, root,
             {"cohort", "out", "seed", "threads", "block_proteins", "resample_block_proteins", "schedule", "covariate_sets",
              "survival", "analysis"},
             "the top level");
  const std::string dir = std::filesystem::path(path).parent_path().string();
  RunConfig cfg;
  cfg.path = path;
  const toml::node* cohort = root.get("cohort");
  if (!cohort) throw InputError(fmt::format("{}: the config needs 'cohort = \"FILE.h5\"'", path));
  cfg.cohort = resolve(dir, get_string(path, *cohort, "cohort"));
  if (const toml::node* n = root.get("out")) cfg.out = resolve(dir, get_string(path, *n, "out"));
  if (const toml::node* n = root.get("seed")) {
    auto v = n->value<std::int64_t>();
    if (!v || *v < 0) fail(path, *n, "seed must be a non-negative integer");
    cfg.seed = static_cast<std::uint64_t>(*v);
  }
  if (const toml::node* n = root.get("threads")) {
    auto v = n->value<std::int64_t>();
    if (!v || *v < 0) fail(path, *n, "threads must be a non-negative integer (0 = all cores)");
    cfg.threads = static_cast<int>(*v);
  }
  if (const toml::node* n = root.get("block_proteins")) {
    auto v = n->value<std::int64_t>();
    if (!v || *v < 1) fail(path, *n, "block_proteins must be a positive integer");
    cfg.block_proteins = static_cast<int>(*v);
  }
  if (const toml::node* n = root.get("schedule")) {
    const std::string v = get_string(path, *n, "schedule");
    if (v == "dynamic") cfg.schedule = Schedule::kDynamic;
    else if (v == "static") cfg.schedule = Schedule::kStatic;
    else fail(path, *n, fmt::format("schedule '{}' is not one of dynamic, static", v));
  }
  if (const toml::node* n = root.get("resample_block_proteins")) {
    auto v = n->value<std::int64_t>();
    if (!v || *v < 0) fail(path, *n, "resample_block_proteins must be a non-negative integer (0 = automatic)");
    cfg.resample_block_proteins = static_cast<int>(*v);
  }
  std::map<std::string, std::vector<std::string>> sets;
  if (const toml::node* n = root.get("covariate_sets")) {
    const auto* t = n->as_table();
    if (!t) fail(path, *n, "[covariate_sets] must be a table of name = [columns]");
    for (const auto& [k, v] : *t) sets[std::string(k.str())] = get_names(path, v, std::string(k.str()), nullptr);
  }
  cfg.survival = parse_survival_tables(path, root.get("survival"));
  const toml::node* analyses = root.get("analysis");
  const auto* arr = analyses ? analyses->as_array() : nullptr;
  if (!arr || arr->empty()) throw InputError(fmt::format("{}: the config needs at least one [[analysis]]", path));
  std::set<std::string> names;
  for (const auto& item : *arr) {
    const auto* t = item.as_table();
    if (!t) fail(path, item, "[[analysis]] entries must be tables");
    cfg.analyses.push_back(parse_analysis(path, dir, *t, sets, cfg.survival));
    if (!names.insert(cfg.analyses.back().name).second)
      fail(path, item, fmt::format("analysis name '{}' is used twice", cfg.analyses.back().name));
  }
  return cfg;
}

}  // namespace pwas::io
