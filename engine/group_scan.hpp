#pragma once
// The scan of one block with resampling, in tasks of 16 consecutive proteins of one plan that share passes over the
// covariates: linear plans reporting the predictor are fitted by Frisch–Waugh–Lovell from the group's projections (fit_one is
// the fallback for anything not certified), other plans by fit_one; with resampling, the group's resampling
// columns are prepared from the same projections. See the top of group_scan.cpp.
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "engine/resample.hpp"
#include "engine/scan.hpp"

namespace pwas::engine {

/// Whether a block of this plan goes through scan_block_grouped (with resampling).
bool uses_group_scan(const FitSettings& s, const FitPlan& plan, bool resampling);

/// Like scan_block: `values` [n_samples x k] is the block as read, `ids`/`names` [k]; returns [plan][j], the same
/// for any thread count. `br` (may be null) receives the resampling columns.
std::vector<std::vector<ProteinRows>> scan_block_grouped(const std::vector<FitPlan>& plans, const FitSettings& s,
                                                         const io::ProteinBlock& values,
                                                         const std::vector<std::int64_t>& ids,
                                                         const std::vector<std::string>& names, int threads,
                                                         BlockResampling* br);

}  // namespace pwas::engine
