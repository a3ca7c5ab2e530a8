// This machine's ceilings for bench/study_pwas.sh: OpenBLAS DGEMM GFLOP/s and a STREAM-triad-like bandwidth,
// each at the given thread count. Prints one CSV line per measurement: metric,threads,value,unit.
//
//   ceilings THREADS [DGEMM_N=4000] [TRIAD_MB=256]     g++ -O3 -march=native -fopenmp ceilings.cpp -lopenblas
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

extern "C" void openblas_set_num_threads(int);

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const int n = argc > 2 ? std::atoi(argv[2]) : 4000;
  const std::size_t triad_mb = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 256;

  // DGEMM n^3: best of 3 after one warm-up (2 n^3 flops each).
  openblas_set_num_threads(threads);
  std::vector<double> a(static_cast<std::size_t>(n) * n), b(a.size()), c(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = 1.0 + static_cast<double>(i % 97) * 1e-3;
    b[i] = 1.0 - static_cast<double>(i % 89) * 1e-3;
  }
  double best = 1e30;
  for (int rep = 0; rep < 4; ++rep) {
    const double t0 = now();
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a.data(), n, b.data(), n, 0.0, c.data(), n);
    if (rep > 0) best = std::min(best, now() - t0);
  }
  std::printf("dgemm_%d,%d,%.1f,GFLOP/s\n", n, threads, 2.0 * n * static_cast<double>(n) * n / best * 1e-9);

  // Triad x = y + s z over three arrays of triad_mb MB each; bytes counted 3 per element x 8 (no write-allocate).
  const std::size_t m = triad_mb * 1000000 / sizeof(double);
  std::vector<double> x(m), y(m), z(m);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::size_t i = 0; i < m; ++i) {
    x[i] = 0.0;
    y[i] = 1.0;
    z[i] = 2.0;
  }
  best = 1e30;
  for (int rep = 0; rep < 6; ++rep) {
    const double t0 = now();
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::size_t i = 0; i < m; ++i) x[i] = y[i] + 3.0 * z[i];
    if (rep > 0) best = std::min(best, now() - t0);
  }
  std::printf("triad,%d,%.1f,GB/s\n", threads, 3.0 * sizeof(double) * static_cast<double>(m) / best * 1e-9);
  return x[m / 2] == 7.0 ? 0 : 1;
}
