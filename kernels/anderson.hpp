#pragma once
// Anderson mixing (type II, Walker & Ni 2011) of a fixed-point iteration x_{k+1} = x_k + s_k, shared by the chord
// iterations of the logistic and Cox kernels: from the last m differences of iterates, steps and scores kept in
// ring buffers, the least-squares combination gamma = argmin |u - dU gamma| in the metric of the steps, then
// theta -= sum_i gamma_i (dX_i + dS_i). Small fixed-capacity matrices: no heap.
#include <Eigen/Dense>

namespace pwas::kernels {

inline constexpr int kMaxAndersonDepth = 8;

/// One mixing step after step k with history depth m >= 1: hist_x, hist_s, hist_u [p x slots] hold the iterates,
/// steps and scores of the last steps at columns slot(k), slot(k - 1), ...; u [p] is the current score; theta [p]
/// (already advanced by the plain step) is corrected in place. A singular or non-finite system leaves theta as is.
template <class Slot>
void anderson_mix(const Eigen::MatrixXd& hist_x, const Eigen::MatrixXd& hist_s, const Eigen::MatrixXd& hist_u, int k,
                  int m, Slot slot, const Eigen::VectorXd& u, Eigen::VectorXd& theta) {
  using AndersonMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, 0, kMaxAndersonDepth, kMaxAndersonDepth>;
  using AndersonVector = Eigen::Matrix<double, Eigen::Dynamic, 1, 0, kMaxAndersonDepth, 1>;
  AndersonMatrix gram(m, m);
  AndersonVector rhs(m);
  for (int i = 0; i < m; ++i) {
    const auto ds_i = hist_s.col(slot(k - i)) - hist_s.col(slot(k - i - 1));
    rhs(i) = ds_i.dot(u);
    for (int j = 0; j <= i; ++j) {
      const auto du_j = hist_u.col(slot(k - j)) - hist_u.col(slot(k - j - 1));
      const auto ds_j = hist_s.col(slot(k - j)) - hist_s.col(slot(k - j - 1));
      const auto du_i = hist_u.col(slot(k - i)) - hist_u.col(slot(k - i - 1));
      gram(i, j) = gram(j, i) = 0.5 * (ds_i.dot(du_j) + ds_j.dot(du_i));
    }
  }
  // A relative ridge keeps nearly dependent differences (late, tiny steps) from producing huge gammas.
  gram.diagonal().array() *= 1.0 + 1e-10;
  const Eigen::LDLT<AndersonMatrix> ldlt(gram);
  const AndersonVector gamma = ldlt.solve(rhs);
  if (ldlt.info() == Eigen::Success && gamma.allFinite())
    for (int i = 0; i < m; ++i)
      theta -= gamma(i) * (hist_x.col(slot(k - i)) - hist_x.col(slot(k - i - 1)) + hist_s.col(slot(k - i)) -
                           hist_s.col(slot(k - i - 1)));
}

}  // namespace pwas::kernels
