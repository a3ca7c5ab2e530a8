#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/assert.hpp"
#include "kernels/cox.hpp"

namespace pwas::kernels {

CoxSurvival make_cox_survival(Eigen::Ref<const Eigen::VectorXd> time, std::span<const std::uint8_t> event,
                              std::span<const std::int32_t> stratum) {
  using Eigen::Index;
  const Index n = time.size();
  PWAS_ASSERT(static_cast<Index>(event.size()) == n);
  PWAS_ASSERT(stratum.empty() || static_cast<Index>(stratum.size()) == n);
  for (Index i = 0; i < n; ++i) PWAS_ASSERT(std::isfinite(time(i)) && event[i] <= 1);
  auto stratum_of = [&](Index i) { return stratum.empty() ? std::int32_t{0} : stratum[i]; };

  CoxSurvival s;
  s.time = time;
  s.event.assign(event.begin(), event.end());
  s.order.resize(static_cast<std::size_t>(n));
  std::iota(s.order.begin(), s.order.end(), Index{0});
  // Stable, so tied rows keep their input order: results do not depend on the sort's tie-breaking anyway
  // (a tie group enters the risk set as a whole), but reproducible sums are easier to debug.
  std::stable_sort(s.order.begin(), s.order.end(), [&](Index a, Index b) {
    const auto sa = stratum_of(a), sb = stratum_of(b);
    if (sa != sb) return sa < sb;
    return time(a) > time(b);
  });
  for (Index k = 0; k < n; ++k) {
    const Index i = s.order[static_cast<std::size_t>(k)];
    const bool new_stratum = k == 0 || stratum_of(i) != stratum_of(s.order[static_cast<std::size_t>(k - 1)]);
    if (new_stratum || time(i) != time(s.order[static_cast<std::size_t>(k - 1)])) {
      s.group_start.push_back(k);
      s.stratum_first.push_back(new_stratum ? 1 : 0);
    }
  }
  s.group_start.push_back(n);
  s.position.resize(static_cast<std::size_t>(n));
  for (Index k = 0; k < n; ++k) s.position[static_cast<std::size_t>(s.order[static_cast<std::size_t>(k)])] = k;
  s.time_order.resize(static_cast<std::size_t>(n));
  std::iota(s.time_order.begin(), s.time_order.end(), Index{0});
  std::stable_sort(s.time_order.begin(), s.time_order.end(), [&](Index a, Index b) { return time(a) > time(b); });
  return s;
}

}  // namespace pwas::kernels
