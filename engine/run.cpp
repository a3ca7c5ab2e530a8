#include "engine/run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/design.hpp"
#include "engine/partition.hpp"
#include "engine/plots.hpp"
#include "engine/reducer.hpp"
#include "engine/run_log.hpp"
#include "engine/scan.hpp"
#include "io/cohort_h5.hpp"
#include "io/config.hpp"
#include "io/error.hpp"
#include "io/results.hpp"
#include "kernels/multiple_testing.hpp"
#include "pwas_version.hpp"

namespace pwas::engine {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void prepare_out_dir(const std::string& out, bool force) {
  namespace fs = std::filesystem;
  if (fs::exists(out)) {
    if (!fs::is_directory(out)) throw InputError(fmt::format("{}: output path exists and is not a folder", out));
    if (!fs::is_empty(out) && !force)
      throw InputError(fmt::format("{}: output folder already holds results; use --force to replace them", out));
  }
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw InputError(fmt::format("{}: cannot create output folder: {}", out, ec.message()));
}

std::string describe_analysis(const io::AnalysisConfig& a) {
  std::string s = fmt::format("analysis {} ({}): model={} outcome=[{}] predictor=[{}] covariates=[{}]", a.name,
                              a.source, io::to_string(a.model), fmt::join(a.outcomes, ","),
                              fmt::join(a.predictors, ","), fmt::join(a.covariates, ","));
  s += fmt::format(" categorical=[{}] protein_transform={} protein_max_missing={} min_case_ct={}",
                   fmt::join(a.categorical, ","), io::to_string(a.transform), a.protein_max_missing, a.min_case_ct);
  if (a.bonferroni_tests) s += fmt::format(" bonferroni_tests={}", *a.bonferroni_tests);
  if (!a.keep_file.empty()) s += fmt::format(" keep={}", a.keep_file);
  if (!a.remove_file.empty()) s += fmt::format(" remove={}", a.remove_file);
  for (const auto& f : a.filters) s += fmt::format(" filter=[{} {} {}]", f.column, f.op, f.text);
  if (!a.proteins.empty()) s += fmt::format(" proteins=[{}]", fmt::join(a.proteins, ","));
  if (a.report == io::ReportTerms::kAll) s += " report=all";
  return s;
}

/// The proteins an analysis covers, as cohort indices in ascending order.
std::vector<std::int64_t> analysis_proteins(const io::CohortMeta& meta, const io::AnalysisConfig& a) {
  std::vector<std::int64_t> out;
  if (a.proteins.empty()) {
    for (std::size_t i = 0; i < meta.n_proteins(); ++i) out.push_back(static_cast<std::int64_t>(i));
    return out;
  }
  std::map<std::string, std::int64_t> index;
  for (std::size_t i = 0; i < meta.n_proteins(); ++i) index[meta.proteins[i].name] = static_cast<std::int64_t>(i);
  for (const auto& name : a.proteins) {
    auto it = index.find(name);
    if (it == index.end())
      throw InputError(fmt::format("{}: analysis '{}': protein '{}' is not in the cohort", a.source, a.name, name));
    out.push_back(it->second);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

/// Relative cost of each protein's fits, for balancing ranks: a logistic fit costs ~ its observed rows (each Newton
/// pass is rows × columns²); a linear fit costs ~ rows × columns plus dropped rows × columns² (the Gram downdate).
std::vector<double> protein_costs(const io::CohortMeta& meta, const std::vector<std::int64_t>& proteins,
                                  const io::AnalysisConfig& a, Eigen::Index n_cov) {
  const auto n = static_cast<double>(meta.n_samples());
  std::vector<double> costs;
  costs.reserve(proteins.size());
  for (std::int64_t i : proteins) {
    const std::int64_t obs = meta.proteins[static_cast<std::size_t>(i)].n_observed;
    const double observed = obs < 0 ? n : static_cast<double>(obs);
    costs.push_back(a.model == io::ModelKind::kLogistic
                        ? observed * static_cast<double>(n_cov)
                        : n + (n - observed) * static_cast<double>(n_cov));
  }
  return costs;
}

/// Fits this rank's share of the proteins, reading them in blocks of consecutive cohort columns.
RankOutput scan_rank(const io::CohortReader& reader, const std::vector<FitPlan>& plans,
                     const std::vector<std::int64_t>& proteins, Range mine, const io::AnalysisConfig& a,
                     const FitSettings& settings, int threads, int block_proteins) {
  RankOutput out;
  out.per_plan.resize(plans.size());
  const auto& meta = reader.meta();
  double read_s = 0, fit_s = 0;
  std::int64_t i = mine.begin;
  while (i < mine.end) {
    // A run of consecutive cohort indices, at most block_proteins long.
    std::int64_t j = i + 1;
    while (j < mine.end && j - i < block_proteins &&
           proteins[static_cast<std::size_t>(j)] == proteins[static_cast<std::size_t>(j - 1)] + 1)
      ++j;
    const std::int64_t first = proteins[static_cast<std::size_t>(i)];
    auto t0 = Clock::now();
    Eigen::MatrixXf block = reader.read_proteins(first, j - i);   // [n_samples x (j - i)]
    read_s += seconds_since(t0);
    std::vector<std::int64_t> ids;
    std::vector<std::string> names;
    std::vector<Eigen::Index> cols;
    for (Eigen::Index c = 0; c < block.cols(); ++c) {
      // Normally QC ran before partitioning (from /proteins/n_observed); older cohort files are checked here.
      const double missing = block.col(c).array().isNaN().cast<double>().sum() / std::max<Eigen::Index>(1, block.rows());
      if (meta.proteins[static_cast<std::size_t>(first + c)].n_observed < 0 && missing > a.protein_max_missing) {
        out.qc_dropped.push_back(first + c);
        continue;
      }
      cols.push_back(c);
      ids.push_back(first + c);
      names.push_back(meta.proteins[static_cast<std::size_t>(first + c)].name);
    }
    if (!cols.empty()) {
      Eigen::MatrixXf kept(block.rows(), static_cast<Eigen::Index>(cols.size()));
      for (std::size_t c = 0; c < cols.size(); ++c) kept.col(static_cast<Eigen::Index>(c)) = block.col(cols[c]);
      t0 = Clock::now();
      auto rows = scan_block(plans, kept, ids, names, settings, threads);
      fit_s += seconds_since(t0);
      for (std::size_t p = 0; p < plans.size(); ++p)
        for (auto& pr : rows[p]) out.per_plan[p].push_back(std::move(pr));
    }
    i = j;
  }
  out.timings = {read_s, fit_s};
  return out;
}

/// Bonferroni and BH across every reported row of the analysis that has a p-value.
void adjust(io::ResultTable& t, const io::AnalysisConfig& a, RunLog* log) {
  std::vector<double> p;
  p.reserve(t.rows.size());
  for (const auto& r : t.rows) p.push_back(r.p);
  const auto tested = static_cast<double>(std::count_if(p.begin(), p.end(), [](double x) { return !std::isnan(x); }));
  const double n_tests = a.bonferroni_tests.value_or(std::max(1.0, tested));
  const auto bonf = kernels::bonferroni(p, n_tests);
  const auto q = kernels::benjamini_hochberg(p);
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    t.rows[i].p_bonf = bonf[i];
    t.rows[i].q_fdr = q[i];
  }
  if (log) (*log)("analysis {}: {} tests with a p-value; Bonferroni over {} tests (P < {:.3g})", a.name, tested, n_tests, 0.05 / n_tests);
}

void log_outcome_summary(const io::ResultTable& t, const io::AnalysisConfig& a, RunLog& log) {
  std::map<std::string, std::map<std::string, std::int64_t>> status;
  std::map<std::string, std::int64_t> bonf_hits, fdr_hits;
  for (const auto& r : t.rows) {
    const std::string key = a.outcomes.size() > 1 || a.predictors.size() > 1 ? r.outcome + " ~ " + r.predictor : r.outcome;
    const std::string k = r.protein.empty() ? key : (a.outcomes[0] == io::kProteinWord ? r.predictor : r.outcome);
    ++status[k][r.errcode];
    if (r.p_bonf < 0.05) ++bonf_hits[k];
    if (r.q_fdr < 0.05) ++fdr_hits[k];
  }
  for (const auto& [k, counts] : status) {
    std::string s;
    for (const auto& [code, n] : counts) s += fmt::format(" {}={}", code, n);
    log("analysis {} / {}: hits P_BONF<0.05: {}, Q_FDR<0.05: {}; fits:{}", a.name, k, bonf_hits[k], fdr_hits[k], s);
  }
}

}  // namespace

void run_config(const RunOptions& opt, Comm& comm) {
  const auto t_start = Clock::now();
  io::RunConfig cfg = io::load_config(opt.config);
  if (!opt.out.empty()) cfg.out = opt.out;
  if (!opt.cohort.empty()) cfg.cohort = opt.cohort;
  if (cfg.out.empty()) throw InputError(fmt::format("{}: no output folder: set 'out' in the config or pass --out", opt.config));
  const int threads = resolve_threads(opt.threads > 0 ? opt.threads : cfg.threads);
  const bool root = comm.rank() == 0;

  if (root) prepare_out_dir(cfg.out, opt.force);
  comm.barrier();
  std::unique_ptr<RunLog> log_holder = root ? std::make_unique<RunLog>((std::filesystem::path(cfg.out) / "run.log").string(), !opt.quiet) : nullptr;
  RunLog* log = log_holder.get();
  if (log) {
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    (*log)("pwas {} run", kVersion);
    (*log)("command: {}", opt.command_line);
    (*log)("config: {}  cohort: {}  out: {}  seed: {}  force: {}", cfg.path, cfg.cohort, cfg.out, cfg.seed, opt.force);
    (*log)("ranks: {}  threads per rank: {}  host: {}  communicator: {}", comm.size(), threads, host, comm.describe());
    (*log)("block_proteins: {}", cfg.block_proteins);
    for (const auto& a : cfg.analyses) (*log)("{}", describe_analysis(a));
  }

  io::CohortReader reader(cfg.cohort);
  const io::CohortMeta& meta = reader.meta();
  if (log) (*log)("cohort {}: {} samples x {} proteins, {} participant columns", cfg.cohort, meta.n_samples(),
                  meta.n_proteins(), meta.columns.size());

  // Every analysis' plans are built before any fit, so a config error stops the run before anything is written.
  std::vector<std::vector<FitPlan>> all_plans;
  for (const auto& a : cfg.analyses) {
    const SampleSelection sel = select_samples(meta, a);
    if (log) for (const auto& l : sel.log) (*log)("analysis {}: {}", a.name, l);
    auto& plans = all_plans.emplace_back();
    for (const auto& o : a.outcomes)
      for (const auto& p : a.predictors) {
        plans.push_back(build_plan(meta, a, sel, o, p));
        if (log)
          for (const auto& l : plans.back().log) (*log)("analysis {} [{} ~ {}]: {}", a.name, o, p, l);
        if (log) (*log)("analysis {} [{} ~ {}]: design {} rows x {} columns", a.name, o, p, plans.back().rows.size(),
                        plans.back().terms.size());
      }
    analysis_proteins(meta, a);   // validates the protein list
  }

  std::vector<io::ResultTable> tables;
  for (std::size_t ai = 0; ai < cfg.analyses.size(); ++ai) {
    const auto& a = cfg.analyses[ai];
    const auto& plans = all_plans[ai];
    const auto t_analysis = Clock::now();
    FitSettings settings{a.model, a.transform, a.report, a.min_case_ct};
    const bool uses_proteins = plans.front().protein_outcome || plans.front().protein_predictor;

    io::ResultTable table;
    table.analysis = a.name;
    table.model = io::to_string(a.model);
    std::vector<std::int64_t> dropped;
    if (uses_proteins) {
      std::vector<std::int64_t> proteins;
      std::vector<std::int64_t> qc_dropped;
      for (std::int64_t i : analysis_proteins(meta, a)) {
        const std::int64_t observed = meta.proteins[static_cast<std::size_t>(i)].n_observed;
        const double missing = observed < 0 ? 0.0 : 1.0 - static_cast<double>(observed) / static_cast<double>(meta.n_samples());
        (missing > a.protein_max_missing ? qc_dropped : proteins).push_back(i);
      }
      const std::vector<double> costs = protein_costs(meta, proteins, a, plans.front().design.n_cov());
      const auto parts = partition_by_cost(costs, comm.size());
      RankOutput mine = scan_rank(reader, plans, proteins, parts[static_cast<std::size_t>(comm.rank())], a, settings,
                                  threads, cfg.block_proteins);
      const auto t_wait = Clock::now();
      comm.barrier();
      mine.timings.push_back(seconds_since(t_wait));
      Gathered g = gather_outputs(comm, mine, plans.size());
      if (root) {
        for (auto& plan : g.per_plan)
          for (auto& pr : plan)
            for (auto& r : pr.rows) table.rows.push_back(std::move(r));
        dropped = std::move(qc_dropped);
        dropped.insert(dropped.end(), g.qc_dropped.begin(), g.qc_dropped.end());
        std::sort(dropped.begin(), dropped.end());
        for (std::size_t r = 0; r < g.timings.size(); ++r)
          (*log)("analysis {}: rank {} read {:.2f} s, fit {:.2f} s, wait {:.2f} s", a.name, r, g.timings[r][0],
                 g.timings[r][1], g.timings[r].size() > 2 ? g.timings[r][2] : 0.0);
      }
    } else if (root) {
      FitScratch scratch;
      for (const auto& plan : plans)
        for (auto& r : fit_one(plan, nullptr, "", settings, scratch)) table.rows.push_back(std::move(r));
    }
    if (!root) continue;
    if (!dropped.empty()) {
      std::vector<std::string> names;
      for (auto i : dropped) names.push_back(meta.proteins[static_cast<std::size_t>(i)].name);
      (*log)("analysis {}: QC dropped {} proteins missing in > {:.0f}% of samples: {}", a.name, dropped.size(),
             100 * a.protein_max_missing, fmt::join(names, " "));
    }
    adjust(table, a, log);
    log_outcome_summary(table, a, *log);
    const std::filesystem::path out(cfg.out);
    io::write_results_tsv((out / (a.name + ".tsv")).string(), table);
    const double n_tests = a.bonferroni_tests.value_or(static_cast<double>(std::count_if(
        table.rows.begin(), table.rows.end(), [](const io::ResultRow& r) { return !std::isnan(r.p); })));
    io::write_text_atomic((out / (a.name + ".volcano.svg")).string(), volcano_svg(table, 0.05 / std::max(1.0, n_tests)));
    io::write_text_atomic((out / (a.name + ".qq.svg")).string(), qq_svg(table));
    (*log)("analysis {}: wrote {} rows to {} in {:.2f} s", a.name, table.rows.size(), (out / (a.name + ".tsv")).string(),
           seconds_since(t_analysis));
    tables.push_back(std::move(table));
  }
  if (root) {
    io::write_results_h5((std::filesystem::path(cfg.out) / "results.h5").string(), tables,
                         {{"pwas_version", kVersion}, {"config", cfg.path}, {"cohort", cfg.cohort}});
    (*log)("done in {:.2f} s", seconds_since(t_start));
  }
  comm.barrier();
}

}  // namespace pwas::engine
