#pragma once
// One rank's share of an analysis: read its proteins block by block (one hyperslab each), fit them with the
// OpenMP scan, checkpoint each finished block, and stop early when a stop signal arrives.
#include <cstdint>
#include <functional>
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

/// Where a rank's proteins come from: each call returns the next chunk (cohort indices, ascending; empty when there
/// is no more work). Static scheduling hands a rank its whole range once; dynamic scheduling takes chunks from a
/// counter shared by all ranks (engine/run.cpp).
using ChunkSource = std::function<std::vector<std::int64_t>()>;

/// Proteins per block: `block_proteins`, or with resampling `resample_block` (0: engine::resample_block_proteins
/// with 1 GiB, at least block_proteins).
std::int64_t scan_block_size(const std::vector<FitPlan>& plans, const io::AnalysisConfig& a,
                             const FitSettings& settings, int block_proteins, int resample_block);

/// Fits the chunks `next` yields, each in blocks of at most `block_size` consecutive cohort indices (one hyperslab
/// read each), checkpointing every block. With resampling (`shared`: one ResampleShared per plan) each block's
/// replicates run after its fits; `seed` keys the replicate streams.
RankScanResult scan_rank(const io::CohortReader& reader, const std::vector<FitPlan>& plans, const ChunkSource& next,
                         const io::AnalysisConfig& a, const FitSettings& settings, int threads,
                         std::int64_t block_size, const CheckpointStore& store,
                         const std::vector<ResampleShared>* shared = nullptr, std::uint64_t seed = 0);

}  // namespace pwas::engine
