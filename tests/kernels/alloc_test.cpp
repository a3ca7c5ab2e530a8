// After one warm-up fit, a fit allocates nothing but its two result vectors (beta, se): counted by
// interposing malloc (glibc), which both operator new and Eigen's aligned allocator go through.
#include <gtest/gtest.h>

#include <cstddef>

#include "kernels/linear.hpp"
#include "kernels/logistic.hpp"
#include "tests/kernels/simulate.hpp"

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
  fit_linear(d, c.v, c.y_cont, c.keep, lws);  // warm-up
  const long linear = count_mallocs([&] {
    const LinearFit f = fit_linear(d, c.v, c.y_cont, other, lws);
    EXPECT_EQ(f.status, FitStatus::kOk);
  });
  EXPECT_LE(linear, 2);

  LogisticWorkspace gws;
  fit_logistic(d, c.v, c.y_bin, c.keep, nullptr, gws);  // warm-up
  const long logistic = count_mallocs([&] {
    const LogisticFit f = fit_logistic(d, c.v, c.y_bin, other, nullptr, gws);
    EXPECT_EQ(f.status, FitStatus::kOk);
  });
  EXPECT_LE(logistic, 2);
  std::printf("[alloc] mallocs per fit after warm-up: linear %ld, logistic %ld\n", linear, logistic);
}

}  // namespace
}  // namespace pwas::kernels
