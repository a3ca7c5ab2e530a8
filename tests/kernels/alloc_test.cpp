// After one warm-up fit, a fit allocates nothing but its two result vectors (beta, se): counted by
// interposing malloc (glibc), which both operator new and Eigen's aligned allocator go through.
#include <gtest/gtest.h>

#include <cstddef>

#include "kernels/cox.hpp"
#include "kernels/linear.hpp"
#include "kernels/logistic.hpp"
#include "kernels/rank_normal.hpp"
#include "tests/kernels/simulate.hpp"
#include "tests/kernels/simulate_survival.hpp"

#if defined(__GLIBC__)
namespace {
bool g_counting = false;
long g_mallocs = 0;
}  // namespace

extern "C" void* __libc_malloc(std::size_t size);
extern "C" void* malloc(std::size_t size) {
  if (g_counting) ++g_mallocs;
  return __libc_malloc(size);
}
#endif

namespace pwas::kernels {
namespace {

template <class Fit>
long count_mallocs(Fit&& fit) {
#if defined(__GLIBC__)
  g_mallocs = 0;
  g_counting = true;
  fit();
  g_counting = false;
  return g_mallocs;
#else
  fit();
  return -1;
#endif
}

TEST(Allocation, LinearAndLogisticFitsReuseTheWorkspace) {
#if !defined(__GLIBC__)
  GTEST_SKIP() << "malloc interposition needs glibc";
#endif
  const auto c = testing::simulate_cohort(3000, 10, 0.2, 31);
  const SharedDesign d = make_shared_design(c.raw);
  std::vector<std::uint8_t> other = c.keep;
  for (std::size_t i = 0; i < other.size(); i += 7) other[i] = 0;

  LinearWorkspace lws;
  fit_linear(d, c.v, c.y_cont, c.keep, {}, lws);  // warm-up
  const long linear = count_mallocs([&] {
    const LinearFit f = fit_linear(d, c.v, c.y_cont, other, {}, lws);
    EXPECT_EQ(f.status, FitStatus::kOk);
  });
  EXPECT_LE(linear, 2);

  LogisticWorkspace gws;
  fit_logistic(d, nullptr, c.v, c.y_bin, c.keep, {}, gws);  // warm-up
  const long logistic = count_mallocs([&] {
    const LogisticFit f = fit_logistic(d, nullptr, c.v, c.y_bin, other, {}, gws);
    EXPECT_EQ(f.status, FitStatus::kOk);
  });
  EXPECT_LE(logistic, 2);

  // The chord path, with the null model on all rows where the outcome is observed.
  const auto s = testing::simulate_protein_study(3000, 10, 6, 3, 0.2, 0.15, 32);
  const SharedDesign ds = make_shared_design(s.raw);
  LogisticWorkspace cws;
  const LogisticNull null = make_logistic_null(ds, s.y, s.all, cws);
  std::vector<std::uint8_t> other_s = s.keep;
  for (std::size_t i = 0; i < other_s.size(); i += 7) other_s[i] = 0;
  fit_logistic(ds, &null, s.v, s.y, s.keep, {}, cws);  // warm-up
  const long chord = count_mallocs([&] {
    const LogisticFit f = fit_logistic(ds, &null, s.v, s.y, other_s, {}, cws);
    EXPECT_EQ(f.status, FitStatus::kOk);
    EXPECT_TRUE(f.used_chord);
  });
  EXPECT_LE(chord, 2);

  RankWorkspace rws;
  Eigen::VectorXd x = s.v;
  rank_inverse_normal(x, s.keep, rws);  // warm-up
  x = s.v;
  const long rin = count_mallocs([&] { rank_inverse_normal(x, other_s, rws); });
  EXPECT_EQ(rin, 0);
  std::printf("[alloc] mallocs per fit after warm-up: linear %ld, logistic %ld, logistic chord %ld, RIN %ld\n", linear,
              logistic, chord, rin);
}

TEST(Allocation, CoxFitsReuseTheWorkspace) {
#if !defined(__GLIBC__)
  GTEST_SKIP() << "malloc interposition needs glibc";
#endif
  const auto s = testing::simulate_protein_study(3000, 10, 6, 3, 0.2, 0.0, 33);
  const auto o = testing::simulate_survival(s, 0.15, 0.2, 2, 34);
  const SharedDesign d = make_shared_design(s.raw);
  const CoxSurvival surv = make_cox_survival(o.time, o.event, o.stratum);
  CoxWorkspace ws;
  const CoxNull null = make_cox_null(d, surv, s.all, {}, {}, ws);
  std::vector<std::uint8_t> other = s.keep;
  for (std::size_t i = 0; i < other.size(); i += 7) other[i] = 0;
  fit_cox(d, surv, &null, s.v, s.keep, {}, {}, ws);  // warm-up
  // A protein with other missing rows: the covariates-only refit, the chord, the Newton check and cox.zph.
  const long cox = count_mallocs([&] {
    const CoxFit f = fit_cox(d, surv, &null, s.v, other, {}, {}, ws);
    EXPECT_EQ(f.status, FitStatus::kOk);
  });
  EXPECT_LE(cox, 2);
  cox_score_screen(d, null, s.v, s.keep, ws);  // warm-up
  const long screen = count_mallocs([&] { cox_score_screen(d, null, s.v, other, ws); });
  EXPECT_EQ(screen, 0);
  std::printf("[alloc] mallocs per Cox fit after warm-up: %ld; per score screen: %ld\n", cox, screen);
}

}  // namespace
}  // namespace pwas::kernels
