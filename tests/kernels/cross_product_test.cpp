#include "kernels/cross_product.hpp"

#include <cmath>

#include <gtest/gtest.h>

#include "kernels/random_stream.hpp"

namespace pwas::kernels {
namespace {

using Eigen::Index;

// Packs column-major a [n x m] into replicate panels and b [n x k] into protein panels (zero padding).
void pack_rows(const Eigen::MatrixXd& a, PackedPanels& out) {
  const Index panels = (a.cols() + kCrossRows - 1) / kCrossRows;
  out.resize(a.rows(), panels, kCrossRows);
  for (Index r = 0; r < a.cols(); ++r)
    for (Index p = 0; p < a.rows(); ++p) out.panel(r / kCrossRows)[p * kCrossRows + r % kCrossRows] = a(p, r);
}
void pack_cols(const Eigen::MatrixXd& b, PackedPanels& out, Index first_column = 0) {
  const Index k = b.cols() + first_column;
  out.resize(b.rows(), (k + kCrossCols - 1) / kCrossCols, kCrossCols);
  for (Index j = 0; j < b.cols(); ++j) {
    const Index col = j + first_column;
    for (Index p = 0; p < b.rows(); ++p) out.panel(col / kCrossCols)[p * kCrossCols + col % kCrossCols] = b(p, j);
  }
}

Eigen::MatrixXd random_matrix(Index rows, Index cols, std::uint64_t id) {
  RandomStream rs(7, id);
  Eigen::MatrixXd m(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) m(i, j) = rs.normal();
  return m;
}

TEST(CrossProduct, EqualsTheSequentialFmaChainBitForBit) {
  const Index n = 1037, m = 21, k = 37;   // depth over several chunks, ragged panels on both sides
  const Eigen::MatrixXd a = random_matrix(n, m, 1), b = random_matrix(n, k, 2);
  PackedPanels pa, pb;
  pack_rows(a, pa);
  pack_cols(b, pb);
  const Index ldc = pb.panels * kCrossCols;
  std::vector<double> c(static_cast<std::size_t>(pa.panels * kCrossRows * ldc), 0.0);
  cross_product_add(pa, pb, c.data(), ldc);
  for (Index r = 0; r < m; ++r)
    for (Index j = 0; j < k; ++j) {
      double s = 0.0;
      for (Index p = 0; p < n; ++p) s = std::fma(a(p, r), b(p, j), s);
      ASSERT_EQ(c[static_cast<std::size_t>(r * ldc + j)], s) << r << " " << j;
    }
  // Close to the exact product, too.
  const Eigen::MatrixXd ref = a.transpose() * b;
  for (Index r = 0; r < m; ++r)
    for (Index j = 0; j < k; ++j) EXPECT_NEAR(c[static_cast<std::size_t>(r * ldc + j)], ref(r, j), 1e-10 * n);
}

TEST(CrossProduct, AColumnGivesTheSameBitsAtAnyPositionAndBlockSize) {
  const Index n = 700;
  const Eigen::MatrixXd a = random_matrix(n, 8, 3), b = random_matrix(n, 1, 4);
  PackedPanels pa, p1, p2;
  pack_rows(a, pa);
  pack_cols(b, p1, 0);
  pack_cols(b, p2, 149);    // column 149 of 10 panels
  std::vector<double> c1(static_cast<std::size_t>(8 * 16), 0.0), c2(static_cast<std::size_t>(8 * 160), 0.0);
  cross_product_add(pa, p1, c1.data(), 16);
  cross_product_add(pa, p2, c2.data(), 160);
  for (Index r = 0; r < 8; ++r) EXPECT_EQ(c1[static_cast<std::size_t>(r * 16)], c2[static_cast<std::size_t>(r * 160 + 149)]);
}

TEST(CrossProduct, AddsToWhatCHolds) {
  const Index n = 50;
  const Eigen::MatrixXd a = random_matrix(n, 8, 5), b = random_matrix(n, 16, 6);
  PackedPanels pa, pb;
  pack_rows(a, pa);
  pack_cols(b, pb);
  std::vector<double> c(8 * 16, 1.5);
  cross_product_add(pa, pb, c.data(), 16);
  const Eigen::MatrixXd ref = a.transpose() * b;
  EXPECT_NEAR(c[3 * 16 + 5], 1.5 + ref(3, 5), 1e-12);
}

}  // namespace
}  // namespace pwas::kernels
