#pragma once
#include <cstdint>
#include <span>

#include <Eigen/Dense>

namespace pwas::kernels {

/// Rank-based inverse normal transform in place on the kept entries: qnorm((r - 3/8) / (n + 1/4)) (Blom),
/// r = average rank among the n kept values (ties averaged, as R's rank()). Other entries are left as they are.
void rank_inverse_normal(Eigen::Ref<Eigen::VectorXd> x, std::span<const std::uint8_t> keep);

/// Standardises the kept entries in place to mean 0 and sample SD 1 (divisor n - 1). Other entries untouched.
void zscore(Eigen::Ref<Eigen::VectorXd> x, std::span<const std::uint8_t> keep);

}  // namespace pwas::kernels
