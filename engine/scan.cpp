#include "engine/scan.hpp"

#include <exception>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace pwas::engine {

int resolve_threads(int requested) {
  if (requested > 0) return requested;
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

std::vector<std::vector<ProteinRows>> scan_block(const std::vector<FitPlan>& plans, const Eigen::MatrixXf& block,
                                                 const std::vector<std::int64_t>& proteins,
                                                 const std::vector<std::string>& names, const FitSettings& s,
                                                 int n_threads) {
  const auto k = static_cast<std::int64_t>(block.cols());
  const auto n_plans = static_cast<std::int64_t>(plans.size());
  std::vector<std::vector<ProteinRows>> out(plans.size(), std::vector<ProteinRows>(static_cast<std::size_t>(k)));
  std::exception_ptr first_error;
  // One task = one (plan, protein); every task writes only its own slot, so the result is thread-count independent.
#pragma omp parallel num_threads(n_threads)
  {
    FitScratch scratch;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t task = 0; task < k * n_plans; ++task) {
      const std::int64_t j = task % k;
      const std::int64_t p = task / k;
      try {
        ProteinRows& slot = out[static_cast<std::size_t>(p)][static_cast<std::size_t>(j)];
        slot.protein = proteins[static_cast<std::size_t>(j)];
        slot.rows = fit_one(plans[static_cast<std::size_t>(p)], block.col(j).data(),
                            names[static_cast<std::size_t>(j)], s, scratch);
      } catch (...) {
#pragma omp critical(pwas_scan_error)
        if (!first_error) first_error = std::current_exception();
      }
    }
  }
  if (first_error) std::rethrow_exception(first_error);
  return out;
}

}  // namespace pwas::engine
