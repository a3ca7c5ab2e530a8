// guard_levels: the cached tally (the plan's all-row counts minus the dropped rows, groups that the dropped rows
// cannot change left at their all-row counts) decides exactly as counting the kept rows does.
#include <gtest/gtest.h>

#include <random>

#include "engine/level_guard.hpp"

namespace pwas::engine {
namespace {

// Two groups over n rows: one of 6 levels with a rare level 5 (8 rows), one of 2 levels; design columns 1..5 and 6.
FitPlan two_group_plan(std::size_t n, std::mt19937_64& gen) {
  FitPlan plan;
  LevelGroup a, b;
  a.column = {-1, 1, 2, 3, 4, 5};
  b.column = {-1, 6};
  std::uniform_int_distribution<int> five(0, 4), two(0, 1);
  for (std::size_t r = 0; r < n; ++r) {
    a.level_of_row.push_back(r % 125 == 7 ? 5 : five(gen));
    b.level_of_row.push_back(two(gen));
  }
  plan.groups = {a, b};
  return plan;
}

struct Guarded {
  std::vector<std::uint8_t> keep, active;
  bool changed = false;
};

Guarded guard(const FitPlan& plan, const Eigen::VectorXd* y, std::vector<std::uint8_t> keep, bool cached) {
  Guarded g{std::move(keep), std::vector<std::uint8_t>(7, 1), false};
  g.changed = guard_levels(plan, y, g.keep, g.active, false, cached);
  return g;
}

TEST(LevelGuard, CachedTallyDecidesAsCountingTheKeptRows) {
  std::mt19937_64 gen(5);
  const std::size_t n = 1000;
  const FitPlan plan = two_group_plan(n, gen);
  Eigen::VectorXd y(static_cast<Eigen::Index>(n));
  std::bernoulli_distribution case_draw(0.3);
  for (Eigen::Index r = 0; r < y.size(); ++r) y(r) = case_draw(gen) ? 1.0 : 0.0;
  std::bernoulli_distribution drop(0.05);
  for (int trial = 0; trial < 40; ++trial) {
    std::vector<std::uint8_t> keep(n, 1);
    for (auto& k : keep) k = drop(gen) ? 0 : 1;
    // Every other trial drops all of the rare level's rows (trial % 4 == 0) or all of its cases (trial % 4 == 2).
    for (std::size_t r = 0; r < n; ++r)
      if (plan.groups[0].level_of_row[r] == 5 && (trial % 4 == 0 || (trial % 4 == 2 && y(static_cast<Eigen::Index>(r)) == 1.0)))
        keep[r] = 0;
    const Eigen::VectorXd* no_outcome = nullptr;
    const Eigen::VectorXd* binary = &y;
    for (const Eigen::VectorXd* outcome : {no_outcome, binary}) {
      const Guarded counted = guard(plan, outcome, keep, false);
      const Guarded cached = guard(plan, outcome, keep, true);
      EXPECT_EQ(counted.keep, cached.keep) << trial;
      EXPECT_EQ(counted.active, cached.active) << trial;
      EXPECT_EQ(counted.changed, cached.changed) << trial;
      if (trial % 4 == 0) {
        EXPECT_EQ(cached.active[5], 0) << trial;  // the emptied level's column is out
      }
      if (trial % 4 == 2 && outcome != nullptr) {                    // the level without cases: its rows go
        for (std::size_t r = 0; r < n; ++r)
          if (plan.groups[0].level_of_row[r] == 5) {
            EXPECT_EQ(cached.keep[r], 0) << trial;
          }
        EXPECT_EQ(cached.active[5], 0) << trial;
      }
      if (trial % 4 == 1 && outcome == nullptr) {
        EXPECT_FALSE(cached.changed) << trial;  // few rows dropped: every level keeps rows
      }
    }
  }
}

}  // namespace
}  // namespace pwas::engine
