#include "kernels/level_gram.hpp"

namespace pwas::kernels {

using Eigen::Index;

void complete_level_sums(const SharedDesign& d, Index nz, const Eigen::MatrixXd& dense, RowMatrixXd& level_sums) {
  // S_skip = sum w z - sum over the group's other codes of S_c.
  for (const DummyGroup& g : d.groups) {
    const auto n_codes = static_cast<Index>(g.cols.size()) + 1;
    for (Index a = 0; a < nz; ++a) {
      double rest = 0.0;
      for (Index c = 0; c < n_codes; ++c)
        if (c != g.skip) rest += level_sums(g.offset + c, a);
      level_sums(g.offset + g.skip, a) = dense(a, 0) - rest;
    }
  }
}

}  // namespace pwas::kernels
