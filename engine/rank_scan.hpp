#pragma once
// One rank's share of an analysis: read its proteins block by block (one hyperslab each), fit them with the
// OpenMP scan, checkpoint each finished block, and stop early when a stop signal arrives.
#include <cstdint>
#include <vector>

#include "engine/checkpoint.hpp"
#include "engine/fit_one.hpp"
#include "engine/reducer.hpp"
#include "engine/resample.hpp"
#include "io/cohort_h5.hpp"
#include "io/config.hpp"

namespace pwas::engine {

struct RankScanResult {
  RankOutput output;      // rows of the proteins this rank fitted, timings {read, fit}
  bool stopped = false;   // a stop signal ended the scan before its last block
  double resample_seconds = 0.0;   // of the fit time: running replicates
  double resample_flops = 0.0;     // floating-point operations of the replicates' matrix products
};

/// Fits `proteins` (cohort indices, ascending) in blocks of at most `block_proteins` consecutive columns.
/// With resampling enabled (`shared`: one ResampleShared per plan), blocks hold `resample_block_proteins` proteins
/// (0: engine::resample_block_proteins with 1 GiB) and
/// each block's replicates run after its fits; `seed` keys the replicate streams.
RankScanResult scan_rank(const io::CohortReader& reader, const std::vector<FitPlan>& plans,
                         const std::vector<std::int64_t>& proteins, const io::AnalysisConfig& a,
                         const FitSettings& settings, int threads, int block_proteins, const CheckpointStore& store,
                         const std::vector<ResampleShared>* shared = nullptr, std::uint64_t seed = 0,
                         int resample_block_proteins = 0);

}  // namespace pwas::engine
