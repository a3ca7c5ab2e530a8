#include "engine/level_guard.hpp"

#include <algorithm>
#include <cstring>

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

// Adds sign (+1 / -1) for each row r with keep[r] == want to its level in every group.
void count_rows(const FitPlan& plan, const Eigen::VectorXd* y, const std::vector<std::uint8_t>& keep,
                std::uint8_t want, std::int64_t sign, LevelTally& t) {
  const std::size_t n_groups = plan.groups.size();
  constexpr std::uint64_t kAllOnes = 0x0101010101010101ULL;  // 8 kept rows (keep is 0/1)
  for (std::size_t r = 0; r < keep.size(); ++r) {
    if (want == 0 && r % 8 == 0 && r + 8 <= keep.size()) {
      std::uint64_t word;
      std::memcpy(&word, keep.data() + r, sizeof word);
      if (word == kAllOnes) {
        r += 7;
        continue;
      }
    }
    if ((keep[r] != 0) != (want != 0)) continue;
    const bool is_case = y != nullptr && (*y)(static_cast<Eigen::Index>(r)) == 1.0;
    for (std::size_t g = 0; g < n_groups; ++g) {
      const auto l = static_cast<std::size_t>(plan.groups[g].level_of_row[r]);
      t.n[g][l] += sign;
      if (is_case) t.cases[g][l] += sign;
    }
  }
}

// Kept rows and cases per level: the thread's cached all-row tally minus the dropped rows, or a count of the kept
// rows.
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
    LevelTotals::Entry e{plan.id, y_kind, keep.size(), zero_tally(plan)};
    const std::vector<std::uint8_t> all(keep.size(), 1);
    count_rows(plan, y, all, 1, 1, e.all);
    entries.push_back(std::move(e));
    it = entries.end() - 1;
  }
  LevelTally t = it->all;
  count_rows(plan, y, keep, 0, -1, t);
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
