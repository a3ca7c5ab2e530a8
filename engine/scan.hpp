#pragma once
// The per-protein loop of one rank: OpenMP threads over the proteins of a block, a batch of up to kernels::kLanes
// proteins of one plan per thread at a time (logistic and linear fits share their passes over the design).
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "engine/fit_one.hpp"

namespace pwas::engine {

/// Rows of one protein under one plan.
struct ProteinRows {
  std::int64_t protein = -1;           // index in the cohort
  std::vector<io::ResultRow> rows;
  std::vector<double> split;           // split half: per split, the one-step shift of BETA in half A (empty if off)
};

/// Fits every plan for each protein column of `block` [n_samples x k]; `proteins` [k] holds their cohort indices
/// and `names` [k] their names. Returns [plan][j] in block order, independent of the thread count.
std::vector<std::vector<ProteinRows>> scan_block(const std::vector<FitPlan>& plans, const io::ProteinBlock& block,
                                                 const std::vector<std::int64_t>& proteins,
                                                 const std::vector<std::string>& names, const FitSettings& s,
                                                 int n_threads);

/// Threads the engine will use: `requested` if > 0, else OMP_NUM_THREADS / all cores (1 without OpenMP).
int resolve_threads(int requested);

}  // namespace pwas::engine
