#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Dense>

namespace pwas::kernels {

/// One value to rank: an order-preserving bit pattern of the value and its position in x.
struct RankEntry {
  std::uint64_t key;
  std::uint32_t index;
};

/// Caller-owned scratch for rank_inverse_normal (no allocation per call once warm).
struct RankWorkspace {
  std::vector<std::uint64_t> packed, packed_tmp;  // [n kept] float32-exact values: key << 32 | index
  std::vector<RankEntry> entries, entries_tmp;    // [n kept] other values
  std::vector<double> p;                          // [runs] Blom probabilities, then scores, of the runs in order
};

/// Rank-based inverse normal transform in place on the kept entries: qnorm((r - 3/8) / (n + 1/4)) (Blom),
/// r = average rank among the n kept values (ties averaged, as R's rank()). Other entries are left as they are.
void rank_inverse_normal(Eigen::Ref<Eigen::VectorXd> x, std::span<const std::uint8_t> keep, RankWorkspace& ws);

/// As above for x that holds the float32 values `values` [x.size()] on its kept entries (the cohort's proteins): they
/// are ranked from `values` directly, by their 32-bit patterns.
void rank_inverse_normal(Eigen::Ref<Eigen::VectorXd> x, std::span<const float> values, std::span<const std::uint8_t> keep,
                         RankWorkspace& ws);

/// As above with a workspace of its own (allocates).
void rank_inverse_normal(Eigen::Ref<Eigen::VectorXd> x, std::span<const std::uint8_t> keep);

/// Standardises the kept entries in place to mean 0 and sample SD 1 (divisor n - 1). Other entries untouched.
void zscore(Eigen::Ref<Eigen::VectorXd> x, std::span<const std::uint8_t> keep);

}  // namespace pwas::kernels
