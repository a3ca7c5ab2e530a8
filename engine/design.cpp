#include "engine/design.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unordered_set>

#include <fmt/format.h>

#include "engine/prepare_cox.hpp"
#include "engine/survival_frame.hpp"
#include "kernels/assert.hpp"
#include "io/error.hpp"
#include "kernels/logistic.hpp"

namespace pwas::engine {

std::uint64_t next_plan_id() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}
namespace {

std::string where_of(const io::AnalysisConfig& a, const std::string& name) {
  auto it = a.where.find(name);
  return it != a.where.end() ? it->second : a.source;
}

const io::Column& require_column(const io::CohortMeta& meta, const io::AnalysisConfig& a, const std::string& name,
                                 const char* role) {
  const io::Column* c = meta.find_column(name);
  if (!c)
    throw InputError(fmt::format("{}: analysis '{}': {} '{}' is not a column of the cohort", where_of(a, name),
                                 a.name, role, name));
  return *c;
}

bool is_missing(const io::Column& c, std::size_t i) {
  return c.holds_numbers() ? std::isnan(c.numeric[i]) : c.codes[i] < 0;
}

double numeric_value(const io::Column& c, std::size_t i) {
  return c.holds_numbers() ? c.numeric[i] : static_cast<double>(c.codes[i]);
}

std::unordered_set<std::int64_t> read_eid_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open eid list", path));
  std::unordered_set<std::int64_t> out;
  std::string line;
  std::int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream fields(line);
    std::string first;
    if (!(fields >> first) || first == "eid" || first == "FID" || first == "IID" || first[0] == '#') continue;
    std::size_t used = 0;
    std::int64_t eid = 0;
    try {
      eid = std::stoll(first, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != first.size())
      throw InputError(where(path, line_no, 1, fmt::format("'{}' is not an integer eid", first)));
    out.insert(eid);
  }
  return out;
}

bool condition_holds(const io::Column& c, std::size_t i, const io::SampleCondition& cond, std::int32_t level) {
  if (is_missing(c, i)) return false;
  if (c.kind == io::ColumnKind::kCategorical) {
    const bool eq = c.codes[i] == level;
    return cond.op == "==" ? eq : !eq;
  }
  const double x = c.numeric[i];
  const double v = cond.number;
  if (cond.op == "==") return x == v;
  if (cond.op == "!=") return x != v;
  if (cond.op == "<") return x < v;
  if (cond.op == "<=") return x <= v;
  if (cond.op == ">") return x > v;
  return x >= v;
}

std::int64_t count(const std::vector<std::uint8_t>& keep) {
  return std::count(keep.begin(), keep.end(), std::uint8_t{1});
}

/// A covariate expanded into design columns: numeric -> itself; categorical -> one 0/1 column per non-reference level.
struct Expanded {
  std::vector<std::string> names;
  std::vector<Eigen::VectorXd> columns;   // each [n_rows]
  bool categorical = false;
  std::vector<std::int32_t> level_of_row; // [n_rows] when categorical: 0 = reference
};

Expanded expand_covariate(const io::Column& c, bool force_categorical, const std::vector<std::int64_t>& rows,
                          std::vector<std::string>& log) {
  Expanded e;
  const auto n = static_cast<Eigen::Index>(rows.size());
  if (c.holds_numbers() && !force_categorical) {
    Eigen::VectorXd v(n);
    for (Eigen::Index r = 0; r < n; ++r) v(r) = c.numeric[static_cast<std::size_t>(rows[static_cast<std::size_t>(r)])];
    if (n > 0 && (v.array() == v(0)).all()) {
      log.push_back(fmt::format("covariate '{}' is constant on the analysis samples: dropped", c.name));
      return e;
    }
    e.names.push_back(c.name);
    e.columns.push_back(std::move(v));
    return e;
  }
  // Levels present among the rows, in the column's level order (numeric-coded: ascending value).
  std::vector<double> values(static_cast<std::size_t>(n));
  for (Eigen::Index r = 0; r < n; ++r) values[static_cast<std::size_t>(r)] = numeric_value(c, static_cast<std::size_t>(rows[static_cast<std::size_t>(r)]));
  std::set<double> present(values.begin(), values.end());
  if (present.size() < 2) {
    log.push_back(fmt::format("covariate '{}' has one level on the analysis samples: dropped", c.name));
    return e;
  }
  auto label = [&](double v) {
    if (c.kind == io::ColumnKind::kCategorical) return c.levels[static_cast<std::size_t>(v)];
    return fmt::format("{}", v);
  };
  e.categorical = true;
  const std::vector<double> levels(present.begin(), present.end());
  e.level_of_row.resize(static_cast<std::size_t>(n));
  for (Eigen::Index r = 0; r < n; ++r)
    e.level_of_row[static_cast<std::size_t>(r)] = static_cast<std::int32_t>(
        std::lower_bound(levels.begin(), levels.end(), values[static_cast<std::size_t>(r)]) - levels.begin());
  auto it = present.begin();
  for (++it; it != present.end(); ++it) {
    Eigen::VectorXd d(n);
    for (Eigen::Index r = 0; r < n; ++r) d(r) = values[static_cast<std::size_t>(r)] == *it ? 1.0 : 0.0;
    e.names.push_back(fmt::format("{}={}", c.name, label(*it)));
    e.columns.push_back(std::move(d));
  }
  return e;
}

bool is_categorical(const io::AnalysisConfig& a, const io::Column& c) {
  return c.kind == io::ColumnKind::kCategorical ||
         std::find(a.categorical.begin(), a.categorical.end(), c.name) != a.categorical.end();
}

/// Removes the samples of every categorical-covariate level in which the binary outcome does not vary. Such a
/// level's dummy coefficient has no finite MLE (quasi-complete separation) and, in the limit R's glm approaches,
/// its samples are fitted exactly and carry no information on the other coefficients, so dropping them gives
/// the same estimates for the protein while keeping every fit finite. Repeats until no level is separated.
void drop_separated_levels(const io::AnalysisConfig& a, const std::vector<const io::Column*>& covs,
                           const io::Column& outcome, std::vector<std::uint8_t>& keep, std::vector<std::string>& log) {
  std::int64_t n = 0, cases = 0;
  for (std::size_t i = 0; i < keep.size(); ++i)
    if (keep[i]) {
      ++n;
      cases += numeric_value(outcome, i) == 1.0 ? 1 : 0;
    }
  if (cases == 0 || cases == n) return;   // the outcome does not vary at all: every fit reports TOO_FEW_CASES
  bool changed = true;
  while (changed) {
    changed = false;
    for (const io::Column* c : covs) {
      if (!is_categorical(a, *c)) continue;
      std::map<double, std::pair<std::int64_t, std::int64_t>> tally;   // level -> (samples, cases)
      for (std::size_t i = 0; i < keep.size(); ++i) {
        if (!keep[i]) continue;
        auto& t = tally[numeric_value(*c, i)];
        ++t.first;
        t.second += numeric_value(outcome, i) == 1.0 ? 1 : 0;
      }
      if (tally.size() < 2) continue;
      for (const auto& [level, t] : tally) {
        if (t.second != 0 && t.second != t.first) continue;
        for (std::size_t i = 0; i < keep.size(); ++i)
          if (keep[i] && numeric_value(*c, i) == level) keep[i] = 0;
        const std::string name = c->kind == io::ColumnKind::kCategorical ? c->levels[static_cast<std::size_t>(level)]
                                                                         : fmt::format("{}", level);
        log.push_back(fmt::format("level {}={} has {} of {} samples with {} = 1 (quasi-separation): its samples are "
                                  "dropped; now {}", c->name, name, t.second, t.first, outcome.name, count(keep)));
        changed = true;
      }
    }
  }
}

/// Whether the block c, each column scaled to unit norm (CS), is so well conditioned that the pivoted QR in
/// check_full_rank would find it of full rank: the Gram matrix G = S C'C S has kappa_2(G) = kappa_2(CS)^2, and its
/// Cholesky factor's condition estimate (Eigen's LLT::rcond, a 1-norm estimate that may err high by a small factor)
/// above 1e-6 bounds kappa_2(CS) by ~1e4 even with a 100x misestimate, while the QR's last pivot relative to its first
/// is at least 1 / kappa_2(CS) and it declares a column aliased below 1e-9. A Gram (one symmetric product, no copy of
/// c) costs ~1/5 of the QR at the study's 37,000 x 64.
bool clearly_full_rank(const Eigen::MatrixXd& c) {
  const Eigen::Index p = c.cols();
  Eigen::MatrixXd g = Eigen::MatrixXd::Zero(p, p);
  g.selfadjointView<Eigen::Lower>().rankUpdate(c.transpose());
  Eigen::VectorXd s(p);
  for (Eigen::Index j = 0; j < p; ++j) {
    if (!(g(j, j) > 0.0)) return false;  // a zero column: the QR names it
    s(j) = 1.0 / std::sqrt(g(j, j));
  }
  Eigen::MatrixXd full = g.selfadjointView<Eigen::Lower>();
  g = s.asDiagonal() * full * s.asDiagonal();
  const Eigen::LLT<Eigen::MatrixXd> llt(g);
  return llt.info() == Eigen::Success && llt.rcond() > 1e-6;
}

/// Throws when the covariate block `scaled` (c, consumed) is rank-deficient, naming the aliased terms.
void check_full_rank(Eigen::MatrixXd scaled, const std::vector<std::string>& names, const io::AnalysisConfig& a) {
  for (Eigen::Index j = 0; j < scaled.cols(); ++j) {
    const double norm = scaled.col(j).norm();
    if (norm > 0) scaled.col(j) /= norm;
  }
  // The pivoted QR of R from a blocked Householder QR of the n x p block (X = QR: the same column norms at every
  // pivoting step, so the same rank and pivots up to rounding). Pivoted QR on the n rows directly is unblocked
  // (matrix-vector passes over all n rows per column): ~60 ms per plan at the study's 37,000 x 64.
  const Eigen::HouseholderQR<Eigen::MatrixXd> blocked(scaled);
  const Eigen::MatrixXd r = blocked.matrixQR().topRows(scaled.cols()).triangularView<Eigen::Upper>();
  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(r);
  qr.setThreshold(1e-9);
  if (qr.rank() == scaled.cols()) return;
  std::vector<std::string> aliased;
  for (Eigen::Index k = qr.rank(); k < scaled.cols(); ++k) aliased.push_back(names[static_cast<std::size_t>(qr.colsPermutation().indices()(k))]);
  throw InputError(fmt::format("{}: analysis '{}': covariates are collinear on the analysis samples ({} of {} "
                               "columns independent); aliased: {}",
                               a.source, a.name, qr.rank(), scaled.cols(), fmt::join(aliased, ", ")));
}

/// Copies the survival outcome onto the plan rows and numbers the strata present, in key order.
void fill_survival(FitPlan& p, const SurvivalFrame& surv, const std::vector<std::int64_t>& strata,
                   const std::string& outcome) {
  const auto n_rows = static_cast<Eigen::Index>(p.rows.size());
  p.surv_time.resize(n_rows);
  p.surv_event.resize(p.rows.size());
  p.stratum.assign(p.rows.size(), 0);
  std::int64_t events = 0;
  for (std::size_t r = 0; r < p.rows.size(); ++r) {
    const auto i = static_cast<std::size_t>(p.rows[r]);
    p.surv_time(static_cast<Eigen::Index>(r)) = surv.years[i];
    p.surv_event[r] = surv.event[i];
    events += surv.event[i];
  }
  p.n_strata = p.rows.empty() ? 0 : 1;
  if (!strata.empty()) {
    std::map<std::int64_t, std::int32_t> index;
    for (std::int64_t row : p.rows) index.emplace(strata[static_cast<std::size_t>(row)], 0);
    std::int32_t next = 0;
    for (auto& [key, id] : index) id = next++;
    for (std::size_t r = 0; r < p.rows.size(); ++r) p.stratum[r] = index.at(strata[static_cast<std::size_t>(p.rows[r])]);
    p.n_strata = next;
  }
  p.n_cases = events;
  p.log.push_back(fmt::format("events of {}: {} of {}; strata: {}", outcome, events, n_rows, p.n_strata));
}

}  // namespace

SampleSelection select_samples(const io::CohortMeta& meta, const io::AnalysisConfig& a) {
  SampleSelection s;
  const std::size_t n = meta.n_samples();
  s.keep.assign(n, 1);
  s.log.push_back(fmt::format("samples in cohort: {}", n));
  if (!a.keep_file.empty()) {
    const auto ids = read_eid_file(a.keep_file);
    for (std::size_t i = 0; i < n; ++i) s.keep[i] &= ids.count(meta.eids[i]) ? 1 : 0;
    s.log.push_back(fmt::format("after keep {}: {}", a.keep_file, count(s.keep)));
  }
  if (!a.remove_file.empty()) {
    const auto ids = read_eid_file(a.remove_file);
    for (std::size_t i = 0; i < n; ++i) s.keep[i] &= ids.count(meta.eids[i]) ? 0 : 1;
    s.log.push_back(fmt::format("after remove {}: {}", a.remove_file, count(s.keep)));
  }
  for (const auto& cond : a.filters) {
    const io::Column* c = meta.find_column(cond.column);
    if (!c) throw InputError(fmt::format("{}: filter column '{}' is not a column of the cohort", cond.source, cond.column));
    std::int32_t level = -1;
    if (c->kind == io::ColumnKind::kCategorical) {
      auto it = std::find(c->levels.begin(), c->levels.end(), cond.text);
      if (it == c->levels.end())
        throw InputError(fmt::format("{}: '{}' is not a level of '{}' (levels: {})", cond.source, cond.text,
                                     cond.column, fmt::join(c->levels, ", ")));
      level = static_cast<std::int32_t>(it - c->levels.begin());
    } else if (!cond.is_number) {
      throw InputError(fmt::format("{}: '{}' is numeric; compare it with a number", cond.source, cond.column));
    }
    for (std::size_t i = 0; i < n; ++i) s.keep[i] &= condition_holds(*c, i, cond, level) ? 1 : 0;
    s.log.push_back(fmt::format("after filter {} {} {}: {}", cond.column, cond.op, cond.text, count(s.keep)));
  }
  return s;
}

FitPlan build_plan(const io::CohortMeta& meta, const io::AnalysisConfig& a, const SampleSelection& sel,
                   const std::string& outcome, const std::string& predictor, int threads) {
  FitPlan p;
  p.outcome = outcome;
  p.predictor = predictor;
  p.protein_outcome = outcome == io::kProteinWord;
  p.protein_predictor = predictor == io::kProteinWord;
  const std::size_t n = meta.n_samples();
  std::vector<std::uint8_t> keep = sel.keep;

  std::vector<const io::Column*> covs;
  for (const auto& name : a.covariates) {
    const io::Column& c = require_column(meta, a, name, "covariate");
    covs.push_back(&c);
    for (std::size_t i = 0; i < n; ++i)
      if (keep[i] && is_missing(c, i)) keep[i] = 0;
  }
  p.log.push_back(fmt::format("with complete covariates: {}", count(keep)));
  for (const auto& name : a.categorical)
    if (std::find(a.covariates.begin(), a.covariates.end(), name) == a.covariates.end())
      throw InputError(fmt::format("{}: categorical '{}' is not among the covariates", where_of(a, name), name));

  const bool cox = a.model == io::ModelKind::kCox;
  SurvivalFrame surv;
  std::vector<std::int64_t> strata;
  if (cox) {
    const auto o = std::find_if(a.survival.begin(), a.survival.end(),
                                [&](const io::SurvivalOutcome& s) { return s.name == outcome; });
    PWAS_ASSERT(o != a.survival.end());
    if (!a.strata.empty()) {
      strata = strata_keys(meta, a);
      for (std::size_t i = 0; i < n; ++i)
        if (keep[i] && strata[i] < 0) keep[i] = 0;
      p.log.push_back(fmt::format("with strata observed: {}", count(keep)));
    }
    surv = survival_frame(meta, a, *o, keep);
    p.log.insert(p.log.end(), surv.log.begin(), surv.log.end());
    for (std::size_t i = 0; i < n; ++i)
      if (keep[i] && !surv.usable[i]) keep[i] = 0;
    p.log.push_back(fmt::format("with survival outcome {}: {}", outcome, count(keep)));
  }
  const io::Column* out_col =
      p.protein_outcome || cox ? nullptr : &require_column(meta, a, outcome, "outcome");
  const io::Column* pred_col = p.protein_predictor ? nullptr : &require_column(meta, a, predictor, "predictor");
  if (out_col) {
    for (std::size_t i = 0; i < n; ++i)
      if (keep[i] && is_missing(*out_col, i)) keep[i] = 0;
    p.log.push_back(fmt::format("with outcome {} observed: {}", outcome, count(keep)));
  }
  if (pred_col) {
    if (pred_col->kind == io::ColumnKind::kCategorical && pred_col->levels.size() != 2)
      throw InputError(fmt::format("{}: predictor '{}' is categorical with {} levels; a predictor must be numeric "
                                   "or binary", where_of(a, predictor), predictor, pred_col->levels.size()));
    for (std::size_t i = 0; i < n; ++i)
      if (keep[i] && is_missing(*pred_col, i)) keep[i] = 0;
    p.log.push_back(fmt::format("with predictor {} observed: {}", predictor, count(keep)));
  }
  if (a.model == io::ModelKind::kLogistic && out_col) drop_separated_levels(a, covs, *out_col, keep, p.log);
  for (std::size_t i = 0; i < n; ++i)
    if (keep[i]) p.rows.push_back(static_cast<std::int64_t>(i));
  const auto n_rows = static_cast<Eigen::Index>(p.rows.size());

  // Covariate block: intercept + expanded covariates.
  std::vector<std::string> names = {"(Intercept)"};
  std::vector<Eigen::VectorXd> cols = {Eigen::VectorXd::Ones(n_rows)};
  for (const io::Column* c : covs) {
    const bool forced = std::find(a.categorical.begin(), a.categorical.end(), c->name) != a.categorical.end();
    Expanded e = expand_covariate(*c, forced, p.rows, p.log);
    if (e.categorical) {
      LevelGroup g;
      g.name = c->name;
      g.level_of_row = std::move(e.level_of_row);
      g.column.push_back(-1);
      for (std::size_t l = 0; l < e.names.size(); ++l) g.column.push_back(static_cast<Eigen::Index>(names.size() + l));
      p.groups.push_back(std::move(g));
    }
    names.insert(names.end(), e.names.begin(), e.names.end());
    for (auto& col : e.columns) cols.push_back(std::move(col));
  }
  if (n_rows <= static_cast<Eigen::Index>(cols.size()))
    throw InputError(fmt::format("{}: analysis '{}' [{} ~ {}]: {} samples left after filters and complete cases, "
                                 "not more than the {} design columns", a.source, a.name, outcome, predictor, n_rows,
                                 cols.size()));
  Eigen::MatrixXd c(n_rows, static_cast<Eigen::Index>(cols.size()));
  for (std::size_t j = 0; j < cols.size(); ++j) {
    c.col(static_cast<Eigen::Index>(j)) = cols[j];
    cols[j] = Eigen::VectorXd();
  }
  // The rank check (a QR of a copy of the block) and the shared design are independent: with two threads they run
  // side by side (~50 and ~45 ms at the study's 37,000 x 64). A rank error still comes before any later one.
  std::exception_ptr rank_error;
  kernels::SharedDesign design;
#pragma omp parallel sections num_threads(threads > 1 ? 2 : 1)
  {
#pragma omp section
    {
      try {
        if (n_rows > c.cols() && !clearly_full_rank(c)) check_full_rank(c, names, a);
      } catch (...) {
        rank_error = std::current_exception();
      }
    }
#pragma omp section
    design = kernels::make_shared_design(c, cox || a.resampling.any());
  }
  if (rank_error) std::rethrow_exception(rank_error);
  c = Eigen::MatrixXd();

  auto gather = [&](const io::Column& col) {
    Eigen::VectorXd v(n_rows);
    for (Eigen::Index r = 0; r < n_rows; ++r) v(r) = numeric_value(col, static_cast<std::size_t>(p.rows[static_cast<std::size_t>(r)]));
    return v;
  };
  if (out_col) {
    p.outcome_values = gather(*out_col);
    if (a.model == io::ModelKind::kLogistic) {
      const bool binary = (p.outcome_values.array() == 0.0 || p.outcome_values.array() == 1.0).all() &&
                          (out_col->holds_numbers() || out_col->levels.size() == 2);
      if (!binary)
        throw InputError(fmt::format("{}: analysis '{}': logistic outcome '{}' must be coded 0/1 or have two "
                                     "levels", where_of(a, outcome), a.name, outcome));
      p.n_cases = static_cast<std::int64_t>(p.outcome_values.sum());
      p.log.push_back(fmt::format("cases of {}: {} of {}", outcome, p.n_cases, n_rows));
    }
  }
  if (pred_col) p.predictor_values = gather(*pred_col);
  if (cox) fill_survival(p, surv, strata, outcome);
  p.terms = names;
  p.terms.push_back(p.protein_predictor ? std::string(io::kProteinWord) : predictor);
  p.design = std::move(design);

  if (cox) prepare_cox(p, a.ties);
  if (a.model == io::ModelKind::kLogistic && n_rows > p.design.n_cov() && p.n_cases > 0 && p.n_cases < n_rows) {
    kernels::LogisticWorkspace ws;
    std::vector<std::uint8_t> all(static_cast<std::size_t>(n_rows), 1);
    p.null_model = kernels::make_logistic_null(p.design, p.outcome_values, all, ws);
    const kernels::LogisticFit& null = p.null_model.fit;
    if (null.status == kernels::FitStatus::kOk) {
      p.null_start = Eigen::VectorXd::Zero(p.design.n_cov() + 1);
      p.null_start.head(p.design.n_cov()) = null.beta;
    }
  }
  return p;
}

}  // namespace pwas::engine
