#pragma once
// Independent reference fits for the kernel tests: textbook algorithms on the complete-case design with
// every column explicit (no centring, no downdate, no blocking), in long double.
#include <cmath>

#include <Eigen/Dense>

namespace pwas::kernels::testing {

using MatrixL = Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>;
using VectorL = Eigen::Matrix<long double, Eigen::Dynamic, 1>;

struct ReferenceFit {
  Eigen::VectorXd beta, se;
  double scale = 0.0;  // OLS: residual variance; logistic: deviance
};

/// OLS by column-pivoted Householder QR: beta = R^{-1} Q'y, Cov = sigma2 (R'R)^{-1}.
inline ReferenceFit reference_ols(const Eigen::MatrixXd& x,   // [n x p] intercept included
                                  const Eigen::VectorXd& y) { // [n]
  const MatrixL xl = x.cast<long double>();
  const VectorL yl = y.cast<long double>();
  Eigen::ColPivHouseholderQR<MatrixL> qr(xl);
  const VectorL b = qr.solve(yl);
  const long double rss = (yl - xl * b).squaredNorm();
  const long double sigma2 = rss / static_cast<long double>(x.rows() - x.cols());
  const MatrixL cov = (xl.transpose() * xl).inverse() * sigma2;
  ReferenceFit f;
  f.beta = b.cast<double>();
  f.se = cov.diagonal().cwiseSqrt().cast<double>();
  f.scale = static_cast<double>(sigma2);
  return f;
}

/// Logistic regression by undamped Newton to a step below 1e-15; SE from (X'WX)^{-1} at the estimate.
inline ReferenceFit reference_logistic(const Eigen::MatrixXd& x,   // [n x p] intercept included
                                       const Eigen::VectorXd& y) { // [n] 0/1
  const MatrixL xl = x.cast<long double>();
  const VectorL yl = y.cast<long double>();
  VectorL b = VectorL::Zero(x.cols());
  MatrixL info;
  for (int it = 0; it < 200; ++it) {
    const VectorL eta = xl * b;
    const VectorL mu = eta.unaryExpr([](long double e) { return 1.0L / (1.0L + std::exp(-e)); });
    const VectorL w = mu.cwiseProduct(VectorL::Ones(mu.size()) - mu);
    info = xl.transpose() * w.asDiagonal() * xl;
    const VectorL step = info.ldlt().solve(xl.transpose() * (yl - mu));
    b += step;
    if (step.cwiseAbs().maxCoeff() < 1e-15L * (1.0L + b.cwiseAbs().maxCoeff())) break;
  }
  const VectorL eta = xl * b;
  long double dev = 0.0L;
  MatrixL xw = xl;
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    const long double mu = 1.0L / (1.0L + std::exp(-eta(i)));
    dev += -2.0L * (yl(i) * std::log(mu) + (1.0L - yl(i)) * std::log(1.0L - mu));
    xw.row(i) *= std::sqrt(mu * (1.0L - mu));
  }
  const MatrixL cov = (xw.transpose() * xw).inverse();
  ReferenceFit f;
  f.beta = b.cast<double>();
  f.se = cov.diagonal().cwiseSqrt().cast<double>();
  f.scale = static_cast<double>(dev);
  return f;
}

/// Largest |a - b| / |b| over the entries.
inline double max_rel_diff(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  return ((a - b).array().abs() / b.array().abs()).maxCoeff();
}

}  // namespace pwas::kernels::testing
