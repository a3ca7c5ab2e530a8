#include "engine/level_guard.hpp"

namespace pwas::engine {
namespace {

// Kept rows and kept cases (y == 1; none without y) per level of every group, in one pass over the rows.
struct Tally {
  std::vector<std::vector<std::int64_t>> n, cases;  // [group][level]
};

Tally tally(const FitPlan& plan, const Eigen::VectorXd* y, const std::vector<std::uint8_t>& keep) {
  Tally t;
  for (const LevelGroup& g : plan.groups) {
    t.n.emplace_back(g.column.size(), 0);
    t.cases.emplace_back(g.column.size(), 0);
  }
  const std::size_t n_groups = plan.groups.size();
  for (std::size_t r = 0; r < keep.size(); ++r) {
    if (!keep[r]) continue;
    const bool is_case = y != nullptr && (*y)(static_cast<Eigen::Index>(r)) == 1.0;
    for (std::size_t g = 0; g < n_groups; ++g) {
      const auto l = static_cast<std::size_t>(plan.groups[g].level_of_row[r]);
      ++t.n[g][l];
      if (is_case) ++t.cases[g][l];
    }
  }
  return t;
}

}  // namespace

bool guard_levels(const FitPlan& plan, const Eigen::VectorXd* y, std::vector<std::uint8_t>& keep,
                  std::vector<std::uint8_t>& active, bool events_only) {
  bool changed_any = false;
  Tally t = tally(plan, y, keep);
  if (y) {
    bool changed = true;
    while (changed) {
      changed = false;
      for (std::size_t gi = 0; gi < plan.groups.size(); ++gi) {
        const LevelGroup& g = plan.groups[gi];
        for (std::size_t l = 0; l < g.column.size(); ++l) {
          const std::int64_t n = t.n[gi][l], cases = t.cases[gi][l];
          if (n == 0 || (cases != 0 && (events_only || cases != n))) continue;
          for (std::size_t r = 0; r < keep.size(); ++r)
            if (keep[r] && g.level_of_row[r] == static_cast<std::int32_t>(l)) keep[r] = 0;
          changed = changed_any = true;
        }
        if (changed) break;  // the other groups' tallies are stale
      }
      if (changed) t = tally(plan, y, keep);
    }
  }
  for (std::size_t gi = 0; gi < plan.groups.size(); ++gi) {
    const LevelGroup& g = plan.groups[gi];
    const std::vector<std::int64_t>& n = t.n[gi];
    bool need_reference = n[0] == 0;
    for (std::size_t l = 1; l < g.column.size(); ++l) {
      const auto col = static_cast<std::size_t>(g.column[l]);
      if (n[l] == 0 || need_reference) {
        if (active[col]) changed_any = true;
        active[col] = 0;
        if (n[l] > 0) need_reference = false;   // this level is the reference now
      }
    }
  }
  return changed_any;
}

}  // namespace pwas::engine
