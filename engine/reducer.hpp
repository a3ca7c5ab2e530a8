#pragma once
// Gathering per-protein rows from every rank to rank 0 and assembling them in a fixed order.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/comm.hpp"
#include "engine/scan.hpp"

namespace pwas::engine {

/// What one rank produced for one analysis.
struct RankOutput {
  std::vector<std::vector<ProteinRows>> per_plan;    // [plan][protein in any order]
  std::vector<std::int64_t> qc_dropped;              // cohort indices of proteins failing QC
  std::vector<double> timings;                       // read, fit seconds
  /// Max-T: per permutation, the largest |statistic| over these proteins and every plan (empty without max_t).
  std::vector<double> replicate_max;
};

/// Raises `into` elementwise to `from` (sizes them alike first when `into` is empty).
void merge_replicate_max(std::vector<double>& into, const std::vector<double>& from);

/// Serialises a rank's output for gathering.
std::vector<std::byte> pack(const RankOutput& out);
/// Inverse of pack.
RankOutput unpack(const std::vector<std::byte>& bytes, std::size_t n_plans);

/// Gathers every rank's output on rank 0 and merges them: per plan ordered by protein index, QC list sorted,
/// timings as [rank][read, fit]. Other ranks get an empty result.
struct Gathered {
  std::vector<std::vector<ProteinRows>> per_plan;
  std::vector<std::int64_t> qc_dropped;
  std::vector<std::vector<double>> timings;
};
Gathered gather_outputs(Comm& comm, const RankOutput& mine, std::size_t n_plans);

}  // namespace pwas::engine
