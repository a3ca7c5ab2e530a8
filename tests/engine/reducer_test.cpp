#include "engine/reducer.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace pwas::engine {
namespace {

TEST(Reducer, PackUnpackRoundTrip) {
  RankOutput o;
  o.per_plan.resize(2);
  ProteinRows pr;
  pr.protein = 17;
  io::ResultRow r;
  r.outcome = "isolation";
  r.predictor = "GDF15";
  r.protein = "GDF15";
  r.obs_ct = 41000;
  r.case_ct = 3900;
  r.beta = 0.2;
  r.se = std::numeric_limits<double>::quiet_NaN();
  r.errcode = "SEPARATION";
  r.extra = {12.0, std::numeric_limits<double>::quiet_NaN()};
  pr.rows = {r, r};
  o.per_plan[1].push_back(pr);
  o.qc_dropped = {3, 9};
  o.timings = {1.5, 2.5};
  const RankOutput back = unpack(pack(o), 2);
  ASSERT_EQ(back.per_plan[1].size(), 1u);
  EXPECT_TRUE(back.per_plan[0].empty());
  const auto& b = back.per_plan[1][0];
  EXPECT_EQ(b.protein, 17);
  ASSERT_EQ(b.rows.size(), 2u);
  EXPECT_EQ(b.rows[1].outcome, "isolation");
  EXPECT_EQ(b.rows[1].errcode, "SEPARATION");
  EXPECT_EQ(b.rows[1].case_ct, 3900);
  EXPECT_EQ(b.rows[1].beta, 0.2);
  EXPECT_TRUE(std::isnan(b.rows[1].se));
  ASSERT_EQ(b.rows[1].extra.size(), 2u);
  EXPECT_EQ(b.rows[1].extra[0], 12.0);
  EXPECT_TRUE(std::isnan(b.rows[1].extra[1]));
  EXPECT_EQ(back.qc_dropped, (std::vector<std::int64_t>{3, 9}));
  EXPECT_EQ(back.timings, (std::vector<double>{1.5, 2.5}));
}

TEST(Reducer, SerialGatherOrdersByProtein) {
  auto comm = make_serial_comm();
  RankOutput o;
  o.per_plan.resize(1);
  for (std::int64_t p : {5, 2, 9}) {
    ProteinRows pr;
    pr.protein = p;
    o.per_plan[0].push_back(pr);
  }
  const Gathered g = gather_outputs(*comm, o, 1);
  ASSERT_EQ(g.per_plan[0].size(), 3u);
  EXPECT_EQ(g.per_plan[0][0].protein, 2);
  EXPECT_EQ(g.per_plan[0][2].protein, 9);
  EXPECT_EQ(g.timings.size(), 1u);
}

}  // namespace
}  // namespace pwas::engine
