#include "engine/run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <map>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/design.hpp"
#include "engine/partition.hpp"
#include "engine/plots.hpp"
#include "engine/progress.hpp"
#include "engine/rank_scan.hpp"
#include "engine/reducer.hpp"
#include "engine/prepare_cox.hpp"
#include "engine/resample.hpp"
#include "engine/stop_signal.hpp"
#include "engine/run_log.hpp"
#include "engine/scan.hpp"
#include "io/cohort_h5.hpp"
#include "io/config.hpp"
#include "io/error.hpp"
#include "io/results.hpp"
#include "kernels/lanes.hpp"
#include "kernels/multiple_testing.hpp"
#include "pwas_version.hpp"

namespace pwas::engine {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// True when the folder holds anything but the run lock.
bool holds_files(const std::string& out) {
  for (const auto& e : std::filesystem::directory_iterator(out))
    if (e.path().filename() != ".pwas-lock") return true;
  return false;
}

void prepare_out_dir(const std::string& out, bool force, bool resume) {
  namespace fs = std::filesystem;
  if (fs::exists(out)) {
    if (resume && !fs::exists(checkpoint_root(out)) && holds_files(out))
      throw InputError(fmt::format("{}: nothing to resume (no checkpoint in this folder)", out));
    if (holds_files(out) && !force && !resume)
      throw InputError(fmt::format("{}: output folder already holds results; use --force to replace them or "
                                   "--resume to complete an interrupted run", out));
    if (force && !resume) fs::remove_all(checkpoint_root(out));
  }
  std::error_code ec;
  fs::create_directories(checkpoint_root(out), ec);
  if (ec) throw InputError(fmt::format("{}: cannot create output folder: {}", out, ec.message()));
}

/// What a checkpoint belongs to: the config text and the cohort. A resume against anything else is refused.
std::string fingerprint(const io::RunConfig& cfg, const io::CohortMeta& meta) {
  std::ifstream in(cfg.path);
  std::stringstream text;
  text << in.rdbuf();
  return fmt::format("pwas checkpoint\ncohort {}\nsamples {} proteins {}\nconfig {}\n{}", cfg.cohort,
                     meta.n_samples(), meta.n_proteins(), cfg.path, text.str());
}

void check_fingerprint(const std::string& out, const std::string& expected, bool resume) {
  const std::string path = (std::filesystem::path(checkpoint_root(out)) / "fingerprint").string();
  if (resume && std::filesystem::exists(path)) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    if (text.str() != expected)
      throw InputError(fmt::format("{}: the checkpoint belongs to another config or cohort; run without --resume "
                                   "(with --force) to start again", path));
    return;
  }
  io::write_text_atomic(path, expected);
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
  if (a.model == io::ModelKind::kCox) {
    s += fmt::format(" ties={} strata=[{}]", io::to_string(a.ties), fmt::join(a.strata, ","));
    if (a.score_screen_p) s += fmt::format(" score_screen_p={}", *a.score_screen_p);
  }
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

/// Relative cost of each protein's fits, for balancing ranks: a logistic or Cox fit costs ~ its observed rows (each
/// Newton pass is rows × columns²); a linear fit costs ~ rows × columns plus dropped rows × columns² (the Gram
/// downdate).
std::vector<double> protein_costs(const io::CohortMeta& meta, const std::vector<std::int64_t>& proteins,
                                  const io::AnalysisConfig& a, Eigen::Index n_cov) {
  const auto n = static_cast<double>(meta.n_samples());
  std::vector<double> costs;
  costs.reserve(proteins.size());
  for (std::int64_t i : proteins) {
    const std::int64_t obs = meta.proteins[static_cast<std::size_t>(i)].n_observed;
    const double observed = obs < 0 ? n : static_cast<double>(obs);
    costs.push_back(a.model != io::ModelKind::kLinear
                        ? observed * static_cast<double>(n_cov)
                        : n + (n - observed) * static_cast<double>(n_cov));
  }
  return costs;
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

int run_config(const RunOptions& opt, Comm& comm) {
  const auto t_start = Clock::now();
  io::RunConfig cfg = io::load_config(opt.config);
  if (!opt.out.empty()) cfg.out = opt.out;
  if (!opt.cohort.empty()) cfg.cohort = opt.cohort;
  if (cfg.out.empty()) throw InputError(fmt::format("{}: no output folder: set 'out' in the config or pass --out", opt.config));
  const int threads = resolve_threads(opt.threads > 0 ? opt.threads : cfg.threads);
  const bool root = comm.rank() == 0;

  install_stop_handlers();
  // Rank 0 waits until no process of an earlier attempt (a rank still finishing its block after a launcher's
  // SIGTERM) is left, then every rank holds the folder for this run.
  std::unique_ptr<RunLock> lock;
  if (root) {
    std::error_code ec;
    if (std::filesystem::exists(cfg.out) && !std::filesystem::is_directory(cfg.out))
      throw InputError(fmt::format("{}: output path exists and is not a folder", cfg.out));
    std::filesystem::create_directories(cfg.out, ec);
    if (ec) throw InputError(fmt::format("{}: cannot create output folder: {}", cfg.out, ec.message()));
    lock = std::make_unique<RunLock>(cfg.out, true, 60.0);
    prepare_out_dir(cfg.out, opt.force, opt.resume);
  }
  comm.barrier();
  if (!root) lock = std::make_unique<RunLock>(cfg.out, false, 0.0);
  std::unique_ptr<RunLog> log_holder =
      root ? std::make_unique<RunLog>((std::filesystem::path(cfg.out) / "run.log").string(), !opt.quiet, opt.resume)
           : nullptr;
  RunLog* log = log_holder.get();
  if (log) {
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    (*log)("pwas {} run", kVersion);
    (*log)("command: {}", opt.command_line);
    (*log)("config: {}  cohort: {}  out: {}  seed: {}  force: {}  resume: {}", cfg.path, cfg.cohort, cfg.out, cfg.seed,
           opt.force, opt.resume);
    (*log)("ranks: {}  threads per rank: {}  host: {}  communicator: {}", comm.size(), threads, host, comm.describe());
    // A build for another CPU runs the same fits slower (an AVX2 build: 8.9 -> 11.4 s on 16 AVX-512 cores).
    (*log)("build: {} vectors, {} fits per batch", kernels::kVectorIsa, kernels::kLanes);
    for (const auto& a : cfg.analyses) (*log)("{}", describe_analysis(a));
  }

  io::CohortReader reader(cfg.cohort);
  const io::CohortMeta& meta = reader.meta();
  if (log) (*log)("cohort {}: {} samples x {} proteins, {} participant columns; protein matrix {}", cfg.cohort,
                  meta.n_samples(), meta.n_proteins(), meta.columns.size(),
                  reader.mapped() ? "mapped into memory" : "read through HDF5 (compressed or chunked across samples)");
  // Blocks of a mapped matrix cost no memory: larger ones mean fewer points where the threads wait for each other.
  const int block_proteins = cfg.block_proteins > 0 ? cfg.block_proteins : reader.mapped() ? 256 : 64;
  if (log) (*log)("block_proteins: {}{}", block_proteins, cfg.block_proteins > 0 ? "" : " (automatic)");
  if (root) check_fingerprint(cfg.out, fingerprint(cfg, meta), opt.resume);
  comm.barrier();
  ProgressReporter progress(log, root && !opt.quiet && isatty(2), 10.0);

  // Every analysis' plans are built before any fit, so a config error stops the run before anything is written.
  std::vector<std::vector<FitPlan>> all_plans;
  for (const auto& a : cfg.analyses) {
    const SampleSelection sel = select_samples(meta, a);
    if (log) for (const auto& l : sel.log) (*log)("analysis {}: {}", a.name, l);
    auto& plans = all_plans.emplace_back();
    for (const auto& o : a.outcomes)
      for (const auto& p : a.predictors) {
        plans.push_back(build_plan(meta, a, sel, o, p, threads));
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
    FitSettings settings{a.model,    a.transform,          a.report,
                         a.min_case_ct, a.ties,           a.score_screen_p,
                         a.mediation_exposure, a.mediation_bootstrap, cfg.seed};
    const bool uses_proteins = plans.front().protein_outcome || plans.front().protein_predictor;

    io::ResultTable table;
    table.analysis = a.name;
    table.model = io::to_string(a.model);
    if (a.resampling.any()) table.extra_columns = resample_columns(a.resampling);
    if (a.model == io::ModelKind::kCox) table.extra_columns = cox_columns(a.mediation_exposure);   // config: no resampling with Cox
    std::vector<std::int64_t> dropped;
    if (uses_proteins) {
      std::vector<std::int64_t> proteins;
      std::vector<std::int64_t> qc_dropped;
      for (std::int64_t i : analysis_proteins(meta, a)) {
        const std::int64_t observed = meta.proteins[static_cast<std::size_t>(i)].n_observed;
        const double missing = observed < 0 ? 0.0 : 1.0 - static_cast<double>(observed) / static_cast<double>(meta.n_samples());
        (missing > a.protein_max_missing ? qc_dropped : proteins).push_back(i);
      }
      // Proteins fitted before an interruption are taken from the checkpoint (every rank reads which).
      const CheckpointStore store(cfg.out, a.name);
      std::set<std::int64_t> done;
      RankOutput saved = opt.resume ? store.load(plans.size(), done) : RankOutput{};
      saved.per_plan.resize(plans.size());
      comm.barrier();   // every rank has read the checkpoint before any rank adds blocks to it
      std::vector<std::int64_t> todo;
      for (std::int64_t i : proteins)
        if (!done.count(i)) todo.push_back(i);
      if (log && opt.resume) (*log)("analysis {}: {} proteins from the checkpoint, {} to fit", a.name, done.size(), todo.size());
      if (root) progress.begin(a.name, static_cast<std::int64_t>(proteins.size()), static_cast<std::int64_t>(done.size()), &store);
      std::vector<ResampleShared> shared;
      if (a.resampling.any())
        for (const auto& plan : plans) shared.push_back(make_resample_shared(plan, settings));
      const std::int64_t block = scan_block_size(plans, a, settings, block_proteins, cfg.resample_block_proteins);
      // Dynamic scheduling: ranks take chunks of the proteins from a counter on rank 0 as they finish the last, so
      // a misjudged cost never leaves ranks waiting. Static: one contiguous range per rank, balanced by estimated cost.
      std::unique_ptr<SharedCounter> counter;
      ChunkSource next;
      std::vector<std::int64_t> mine_ids;
      bool handed_out = false;
      const auto total = static_cast<std::int64_t>(todo.size());
      std::int64_t chunk = 0;
      if (cfg.schedule == io::Schedule::kDynamic && comm.size() > 1) {
        // About 16 chunks per rank (the last ones even out the ranks), or 2 with resampling, whose blocks amortise
        // generating every replicate; never more than one block.
        const std::int64_t per_rank = a.resampling.any() ? 2 : 16;
        chunk = std::clamp<std::int64_t>((total + per_rank * comm.size() - 1) / (per_rank * comm.size()), 1, block);
        counter = comm.make_counter();
        next = [&]() {
          const std::int64_t first = counter->fetch_add(1) * chunk;
          if (first >= total) return std::vector<std::int64_t>{};
          return std::vector<std::int64_t>(todo.begin() + first, todo.begin() + std::min(total, first + chunk));
        };
      } else {
        const std::vector<double> costs = protein_costs(meta, todo, a, plans.front().design.n_cov());
        const auto parts = partition_by_cost(costs, comm.size());
        const Range r = parts[static_cast<std::size_t>(comm.rank())];
        mine_ids.assign(todo.begin() + r.begin, todo.begin() + r.end);
        next = [&]() {
          if (handed_out) return std::vector<std::int64_t>{};
          handed_out = true;
          return mine_ids;
        };
      }
      if (log)
        (*log)("analysis {}: {} scheduling{}, blocks of up to {} proteins", a.name,
               chunk > 0 ? "dynamic" : "static", chunk > 0 ? fmt::format(" in chunks of {} proteins", chunk) : "",
               block);
      RankScanResult scanned = scan_rank(reader, plans, next, a, settings, threads, block, store,
                                         a.resampling.any() ? &shared : nullptr, cfg.seed);
      counter.reset();   // collective: every rank returns from its scan (a failure aborts the job instead)
      if (root) progress.end();
      // Stop together: a rank that saw the signal has checkpointed its blocks; the others finished theirs.
      double stopped = scanned.stopped ? 1.0 : 0.0;
      const auto t_wait = Clock::now();
      comm.allreduce_max(std::span<double>(&stopped, 1));
      if (stopped > 0) {
        if (log) (*log)("stop signal {}: completed proteins are in {}; exit {} (rerun with --resume)",
                        stop_signal_number(), checkpoint_root(cfg.out), kExitCheckpointed);
        return kExitCheckpointed;
      }
      RankOutput& mine = scanned.output;
      // Max-T: every permutation's maximum over the whole proteome (all ranks, and blocks from the checkpoint).
      std::vector<double> replicate_max;
      if (a.resampling.max_t) {
        replicate_max.assign(static_cast<std::size_t>(a.resampling.permutations), 0.0);
        merge_replicate_max(replicate_max, mine.replicate_max);
        merge_replicate_max(replicate_max, saved.replicate_max);
        comm.allreduce_max(std::span<double>(replicate_max));
      }
      mine.timings.push_back(seconds_since(t_wait));
      Gathered g = gather_outputs(comm, mine, plans.size());
      if (root) {
        for (std::size_t p = 0; p < plans.size(); ++p) {
          for (auto& pr : saved.per_plan[p]) g.per_plan[p].push_back(std::move(pr));
          std::sort(g.per_plan[p].begin(), g.per_plan[p].end(),
                    [](const ProteinRows& x, const ProteinRows& y) { return x.protein < y.protein; });
        }
        if (a.resampling.split_half > 0) {
          std::int64_t tested = 0;
          for (const auto& plan : g.per_plan)
            for (const auto& pr : plan)
              for (const auto& row : pr.rows) tested += std::isnan(row.p) ? 0 : 1;
          const double n_tests = a.bonferroni_tests.value_or(std::max<double>(1.0, static_cast<double>(tested)));
          std::string line;
          const std::string tsv = split_half_table(plans, g.per_plan, a.resampling, 0.05 / n_tests, line);
          io::write_text_atomic((std::filesystem::path(cfg.out) / (a.name + ".split_half.tsv")).string(), tsv);
          (*log)("analysis {}: split half ({} splits, one-step half estimates, hits at P < {:.3g}): {}", a.name,
                 a.resampling.split_half, 0.05 / n_tests, line);
        }
        for (auto& plan : g.per_plan)
          for (auto& pr : plan)
            for (auto& row : pr.rows) table.rows.push_back(std::move(row));
        fill_max_t(a.resampling, replicate_max, table.rows);
        if (a.resampling.any())
          (*log)("analysis {}: resampling with seed {}: {} permutations{}{}, {} bootstrap replicates ({}); "
                 "rank 0 spent {:.2f} s on replicates ({:.1f} GFLOP of products, {:.1f} GFLOP/s)", a.name, cfg.seed, a.resampling.permutations,
                 a.resampling.max_t ? " with max-T" : "",
                 a.resampling.permutation_stop > 0 ? fmt::format(" (Besag-Clifford stop at {} exceedances)",
                                                                 a.resampling.permutation_stop) : std::string(),
                 a.resampling.bootstrap, a.resampling.bootstrap_bca ? "BCa" : "percentile", scanned.resample_seconds,
                 scanned.resample_flops * 1e-9, scanned.resample_flops * 1e-9 / std::max(1e-9, scanned.resample_seconds));
        dropped = std::move(qc_dropped);
        dropped.insert(dropped.end(), g.qc_dropped.begin(), g.qc_dropped.end());
        dropped.insert(dropped.end(), saved.qc_dropped.begin(), saved.qc_dropped.end());
        std::sort(dropped.begin(), dropped.end());
        for (std::size_t k = 0; k < g.timings.size(); ++k)
          (*log)("analysis {}: rank {} read {:.2f} s, fit {:.2f} s, wait {:.2f} s", a.name, k, g.timings[k][0],
                 g.timings[k][1], g.timings[k].size() > 2 ? g.timings[k][2] : 0.0);
      }
    } else if (root) {
      FitScratch scratch;
      for (const auto& plan : plans)
        for (auto& r : fit_one(plan, {}, "", settings, scratch)) table.rows.push_back(std::move(r));
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
    std::error_code ec;
    std::filesystem::remove_all(checkpoint_root(cfg.out), ec);
    (*log)("done in {:.2f} s", seconds_since(t_start));
  }
  comm.barrier();
  return 0;
}

}  // namespace pwas::engine
