#include "engine/level_guard.hpp"

namespace pwas::engine {
namespace {

struct Tally {
  std::vector<std::int64_t> n, cases;
};

Tally tally(const LevelGroup& g, const Eigen::VectorXd* y, const std::vector<std::uint8_t>& keep) {
  Tally t{std::vector<std::int64_t>(g.column.size(), 0), std::vector<std::int64_t>(g.column.size(), 0)};
  for (std::size_t r = 0; r < keep.size(); ++r) {
    if (!keep[r]) continue;
    const auto l = static_cast<std::size_t>(g.level_of_row[r]);
    ++t.n[l];
    if (y && (*y)(static_cast<Eigen::Index>(r)) == 1.0) ++t.cases[l];
  }
  return t;
}

}  // namespace

bool guard_levels(const FitPlan& plan, const Eigen::VectorXd* y, std::vector<std::uint8_t>& keep,
                  std::vector<std::uint8_t>& active, bool events_only) {
  bool changed_any = false;
  if (y) {
    bool changed = true;
    while (changed) {
      changed = false;
      for (const LevelGroup& g : plan.groups) {
        const Tally t = tally(g, y, keep);
        for (std::size_t l = 0; l < g.column.size(); ++l) {
          if (t.n[l] == 0 || (t.cases[l] != 0 && (events_only || t.cases[l] != t.n[l]))) continue;
          for (std::size_t r = 0; r < keep.size(); ++r)
            if (keep[r] && g.level_of_row[r] == static_cast<std::int32_t>(l)) keep[r] = 0;
          changed = changed_any = true;
        }
      }
    }
  }
  for (const LevelGroup& g : plan.groups) {
    const Tally t = tally(g, nullptr, keep);
    bool need_reference = t.n[0] == 0;
    for (std::size_t l = 1; l < g.column.size(); ++l) {
      const auto col = static_cast<std::size_t>(g.column[l]);
      if (t.n[l] == 0 || need_reference) {
        if (active[col]) changed_any = true;
        active[col] = 0;
        if (t.n[l] > 0) need_reference = false;   // this level is the reference now
      }
    }
  }
  return changed_any;
}

}  // namespace pwas::engine
