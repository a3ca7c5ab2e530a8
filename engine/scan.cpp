#include "engine/scan.hpp"

#include <algorithm>
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

std::vector<std::vector<ProteinRows>> scan_block(const std::vector<FitPlan>& plans, const io::ProteinBlock& block,
                                                 const std::vector<std::int64_t>& proteins,
                                                 const std::vector<std::string>& names, const FitSettings& s,
                                                 int n_threads) {
  const auto k = static_cast<std::int64_t>(block.cols());
  const auto n_plans = static_cast<std::int64_t>(plans.size());
  std::vector<std::vector<ProteinRows>> out(plans.size(), std::vector<ProteinRows>(static_cast<std::size_t>(k)));
  std::exception_ptr first_error;
  // One task = one plan and a batch of up to kLanes consecutive proteins (fit_batch: logistic, linear and Cox fits
  // share their passes over the design). Every task writes only its own slots, and a fit's result does not depend
  // on its batch, so the output is independent of the thread count and of how proteins fall into blocks and batches.
  const std::int64_t lanes = kernels::kLanes;
  const std::int64_t n_batches = (k + lanes - 1) / lanes;
#pragma omp parallel num_threads(n_threads)
  {
    std::vector<FitScratch> scratch(static_cast<std::size_t>(lanes));
    std::vector<io::ProteinColumn> values;
    std::vector<const std::string*> batch_names;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t task = 0; task < n_batches * n_plans; ++task) {
      const std::int64_t first = (task % n_batches) * lanes;
      const std::int64_t last = std::min(k, first + lanes);
      const std::int64_t p = task / n_batches;
      try {
        values.clear();
        batch_names.clear();
        for (std::int64_t j = first; j < last; ++j) {
          values.push_back(block.column(j));
          batch_names.push_back(&names[static_cast<std::size_t>(j)]);
        }
        auto rows = fit_batch(plans[static_cast<std::size_t>(p)], values, batch_names, s, scratch);
        for (std::int64_t j = first; j < last; ++j) {
          ProteinRows& slot = out[static_cast<std::size_t>(p)][static_cast<std::size_t>(j)];
          slot.protein = proteins[static_cast<std::size_t>(j)];
          slot.rows = std::move(rows[static_cast<std::size_t>(j - first)]);
        }
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
