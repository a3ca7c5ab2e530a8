#include "engine/rank_scan.hpp"

#include <chrono>
#include <cmath>

#include "engine/group_scan.hpp"
#include "engine/scan.hpp"
#include "engine/stop_signal.hpp"

namespace pwas::engine {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

std::int64_t scan_block_size(const std::vector<FitPlan>& plans, const io::AnalysisConfig& a,
                             const FitSettings& settings, int block_proteins, int resample_block) {
  if (!a.resampling.any()) return block_proteins;
  // 1 GiB of resampling columns per rank: large blocks amortise generating each replicate over more proteins.
  if (resample_block > 0) return resample_block;
  return std::max<std::int64_t>(block_proteins, resample_block_proteins(plans, a.resampling,
                                                                        settings.model == io::ModelKind::kLogistic,
                                                                        1024.0 * 1024 * 1024));
}

RankScanResult scan_rank(const io::CohortReader& reader, const std::vector<FitPlan>& plans, const ChunkSource& next,
                         const io::AnalysisConfig& a, const FitSettings& settings, int threads,
                         std::int64_t block_size, const CheckpointStore& store,
                         const std::vector<ResampleShared>* shared, std::uint64_t seed) {
  RankScanResult result;
  RankOutput& out = result.output;
  out.per_plan.resize(plans.size());
  const auto& meta = reader.meta();
  double read_s = 0, resample_s = 0, replicate_s = 0;   // resample_s: fits (+ resampling columns)
  const io::ResamplingConfig& rc = a.resampling;
  const bool resampling = shared != nullptr && rc.any();
  if (resampling && rc.max_t) out.replicate_max.assign(static_cast<std::size_t>(rc.permutations), 0.0);
  std::vector<std::int64_t> proteins;
  while (!result.stopped) {
    proteins = next();
    if (proteins.empty()) break;
    const auto n = static_cast<std::int64_t>(proteins.size());
    std::int64_t i = 0;
    while (i < n) {
      if (stop_requested()) {
        result.stopped = true;
        break;
      }
      // A run of consecutive cohort indices, at most block_proteins long: one hyperslab read.
      std::int64_t j = i + 1;
      while (j < n && j - i < block_size &&
             proteins[static_cast<std::size_t>(j)] == proteins[static_cast<std::size_t>(j - 1)] + 1)
        ++j;
      const std::int64_t first = proteins[static_cast<std::size_t>(i)];
      auto t0 = Clock::now();
      const io::ProteinBlock block = reader.proteins(first, j - i);   // [n_samples x (j - i)]
      read_s += seconds_since(t0);
      std::vector<std::int64_t> ids, dropped;
      std::vector<std::string> names;
      std::vector<std::int64_t> cols;
      for (std::int64_t c = 0; c < block.cols(); ++c) {
        // Normally QC ran before partitioning (from /proteins/n_observed); older cohort files are checked here.
        const auto missing = [&] {
          const io::ProteinColumn x = block.column(c);
          std::int64_t nan = 0;
          for (std::int64_t r = 0; r < block.rows(); ++r) nan += std::isnan(x[r]) ? 1 : 0;
          return static_cast<double>(nan) / static_cast<double>(std::max<std::int64_t>(1, block.rows()));
        };
        if (meta.proteins[static_cast<std::size_t>(first + c)].n_observed < 0 && missing() > a.protein_max_missing) {
          dropped.push_back(first + c);
          continue;
        }
        cols.push_back(c);
        ids.push_back(first + c);
        names.push_back(meta.proteins[static_cast<std::size_t>(first + c)].name);
      }
      std::vector<std::vector<ProteinRows>> rows(plans.size());
      std::vector<double> block_max;
      if (!cols.empty()) {
        // [n_samples x kept]: views of the proteins QC kept.
        const io::ProteinBlock kept = block.select(cols);
        BlockResampling br;
        if (resampling) {
          br.shared = shared;
          br.config = &rc;
          br.blocks.resize(plans.size());
          for (std::size_t p = 0; p < plans.size(); ++p)
            br.blocks[p].resize(static_cast<Eigen::Index>(plans[p].rows.size()), kept.cols(), rc,
                                settings.model == io::ModelKind::kLogistic);
        }
        t0 = Clock::now();
        rows = uses_group_scan(settings, plans.front(), resampling)
                   ? scan_block_grouped(plans, settings, kept, ids, names, threads, resampling ? &br : nullptr)
                   : scan_block(plans, kept, ids, names, settings, threads);
        resample_s += seconds_since(t0);   // fits and resampling columns
        if (resampling) {
          t0 = Clock::now();
          if (rc.max_t) block_max.assign(static_cast<std::size_t>(rc.permutations), 0.0);
          for (std::size_t p = 0; p < plans.size(); ++p)
            result.resample_flops += run_replicates(plans[p], (*shared)[p], br.blocks[p], rc, seed, threads, rows[p], block_max);
          replicate_s += seconds_since(t0);
        }
      }
      reader.release_proteins(first, j - i);
      store.save_block(rows, ids, dropped, block_max);
      merge_replicate_max(out.replicate_max, block_max);
      for (std::size_t p = 0; p < plans.size(); ++p)
        for (auto& pr : rows[p]) out.per_plan[p].push_back(std::move(pr));
      out.qc_dropped.insert(out.qc_dropped.end(), dropped.begin(), dropped.end());
      i = j;
    }
  }
  out.timings = {read_s, resample_s + replicate_s};
  result.resample_seconds = replicate_s;
  return result;
}

}  // namespace pwas::engine
