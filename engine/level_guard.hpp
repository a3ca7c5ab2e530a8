#pragma once
// Per-fit care of categorical covariates: a protein's own complete cases can leave a dummy level empty, or (for a
// binary outcome) without cases or without controls, or (Cox) without events. Such a level has no finite estimate; it is taken out of the
// fit the way R's glm reaches in the limit, so the protein's estimate stays finite and equal to R's.
#include <cstdint>
#include <vector>

#include <Eigen/Dense>

#include "engine/design.hpp"

namespace pwas::engine {

/// Adjusts `keep` [n_rows] and `active` [n_cov] for one fit. For a binary outcome `y` (null otherwise), the rows of
/// every level whose kept outcomes are all 0 or all 1 are dropped (repeated until stable); with `events_only` (Cox:
/// y = the event indicator) only levels without events, whose coefficient runs to -infinity in the partial
/// likelihood while their rows' risk weights vanish, the limit R's coxph approaches. Then each level without
/// kept rows has its column deactivated; when the reference level is the empty one, the first level that still has
/// rows becomes the reference (its column is deactivated) so the intercept stays identifiable.
/// Returns true when anything changed. With `cached`, the tally of the kept rows is the plan's all-row tally (kept
/// per thread for the last few plans, keyed by FitPlan::id: the plan must not change once fits use it) minus the
/// dropped rows: a protein keeps most rows, and counting them all cost as much as the rest of the guard.
bool guard_levels(const FitPlan& plan, const Eigen::VectorXd* y, std::vector<std::uint8_t>& keep,
                  std::vector<std::uint8_t>& active, bool events_only = false, bool cached = false);

}  // namespace pwas::engine
