#include "engine/level_guard.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "kernels/row_list.hpp"

namespace pwas::engine {
namespace {

// Kept rows and kept cases (y == 1; none without y) per level of every group.
struct LevelTally {
  std::vector<std::vector<std::int64_t>> n, cases;  // [group][level]
};

// The all-row tallies of this thread's last few plans.
struct LevelTotals {
  struct Entry {
    std::uint64_t plan_id = 0;  // FitPlan::id (copies of a plan share it)
    int y_kind = 0;             // y: none, the plan's cox_events, another of its columns
    std::size_t n_rows = 0;
    LevelTally all;
    // [group][level] the smallest nonzero count of its rows, cases or non-cases (with y): dropping fewer rows than
    // this cannot empty it of any, so its all-row tally decides as its kept-row tally would.
    std::vector<std::vector<std::int64_t>> floor;
  };
  static constexpr std::size_t kEntries = 8;
  std::vector<Entry> entries;   // most recently added last
};

LevelTally zero_tally(const FitPlan& plan) {
  LevelTally t;
  for (const LevelGroup& g : plan.groups) {
    t.n.emplace_back(g.column.size(), 0);
    t.cases.emplace_back(g.column.size(), 0);
  }
  return t;
}

// Adds sign (+1 / -1) for each row r with keep[r] == want to its level in every group; with `only` [group][level],
// only rows at levels it marks. The rows are listed first (kernels::list_rows: a protein's missing rows are
// scattered, and a branch per row mispredicts), then each group's counts run over the list.
void count_rows(const FitPlan& plan, const Eigen::VectorXd* y, const std::vector<std::uint8_t>& keep,
                std::uint8_t want, std::int64_t sign, LevelTally& t,
                const std::vector<std::vector<std::uint8_t>>* only = nullptr) {
  thread_local std::vector<std::uint32_t> rows;
  if (rows.size() < keep.size()) rows.resize(keep.size());
  const std::size_t m = kernels::list_rows(std::span<const std::uint8_t>(keep), want != 0, rows.data());
  for (std::size_t g = 0; g < plan.groups.size(); ++g) {
    const std::int32_t* level = plan.groups[g].level_of_row.data();
    std::int64_t* n = t.n[g].data();
    std::int64_t* cases = t.cases[g].data();
    if (only != nullptr) {
      // A few rare levels: a branch that is mostly not taken, and no chain of updates through the common levels.
      const std::uint8_t* counted = (*only)[g].data();
      if (std::find((*only)[g].begin(), (*only)[g].end(), 1) == (*only)[g].end()) continue;
      for (std::size_t j = 0; j < m; ++j) {
        const auto l = level[rows[j]];
        if (counted[l] == 0) continue;
        n[l] += sign;
        if (y != nullptr && (*y)(static_cast<Eigen::Index>(rows[j])) == 1.0) cases[l] += sign;
      }
      continue;
    }
    for (std::size_t j = 0; j < m; ++j) n[level[rows[j]]] += sign;
    if (y == nullptr) continue;
    for (std::size_t j = 0; j < m; ++j)
      cases[level[rows[j]]] += (*y)(static_cast<Eigen::Index>(rows[j])) == 1.0 ? sign : 0;
  }
}

// Kept rows and cases per level: the thread's cached all-row tally minus the dropped rows, or a count of the kept
// rows. Cached, only the levels with at most as many rows, cases or non-cases (counting those it has) as there are
// dropped rows are counted; the others keep their all-row tallies. None of those can be emptied of rows, cases or
// non-cases, so guard_levels decides the same from either.
LevelTally tally(const FitPlan& plan, const Eigen::VectorXd* y, const std::vector<std::uint8_t>& keep, bool cached) {
  if (!cached) {
    LevelTally t = zero_tally(plan);
    count_rows(plan, y, keep, 1, 1, t);
    return t;
  }
  thread_local LevelTotals totals;
  const int y_kind = y == nullptr ? 0 : y == &plan.cox_events ? 1 : 2;
  auto& entries = totals.entries;
  auto it = std::find_if(entries.begin(), entries.end(), [&](const LevelTotals::Entry& e) {
    return e.plan_id == plan.id && e.y_kind == y_kind && e.n_rows == keep.size();
  });
  if (it == entries.end()) {
    if (entries.size() == LevelTotals::kEntries) entries.erase(entries.begin());
    LevelTotals::Entry e{plan.id, y_kind, keep.size(), zero_tally(plan), {}};
    const std::vector<std::uint8_t> all(keep.size(), 1);
    count_rows(plan, y, all, 1, 1, e.all);
    for (std::size_t g = 0; g < plan.groups.size(); ++g) {
      e.floor.emplace_back();
      for (std::size_t l = 0; l < e.all.n[g].size(); ++l) {
        const std::int64_t n = e.all.n[g][l], cases = e.all.cases[g][l];
        std::int64_t lowest = std::numeric_limits<std::int64_t>::max();
        for (const std::int64_t c : {n, y != nullptr ? cases : 0, y != nullptr ? n - cases : 0})
          if (c > 0) lowest = std::min(lowest, c);
        e.floor.back().push_back(lowest);
      }
    }
    entries.push_back(std::move(e));
    it = entries.end() - 1;
  }
  std::int64_t n_dropped = 0;
  for (const std::uint8_t k : keep) n_dropped += k == 0 ? 1 : 0;
  thread_local std::vector<std::vector<std::uint8_t>> only;
  only.resize(plan.groups.size());
  bool any = false;
  for (std::size_t g = 0; g < plan.groups.size(); ++g) {
    only[g].resize(it->floor[g].size());
    for (std::size_t l = 0; l < only[g].size(); ++l) {
      only[g][l] = it->floor[g][l] <= n_dropped ? 1 : 0;
      any = any || only[g][l] != 0;
    }
  }
  LevelTally t = it->all;
  if (any) count_rows(plan, y, keep, 0, -1, t, &only);
  return t;
}

}  // namespace

bool guard_levels(const FitPlan& plan, const Eigen::VectorXd* y, std::vector<std::uint8_t>& keep,
                  std::vector<std::uint8_t>& active, bool events_only, bool cached) {
  bool changed_any = false;
  LevelTally t = tally(plan, y, keep, cached);
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
      if (changed) t = tally(plan, y, keep, cached);
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
