#pragma once
// A block of protein columns as the engine consumes them: protein j's value of sample i is column(j)[i]. The
// columns are views, either into the cohort file mapped into memory (io/npx_map.hpp: a chunk stores its samples'
// values of a few proteins interleaved, so a column is strided) or into a matrix HDF5 read; the block keeps its
// storage alive.
#include <cstdint>
#include <memory>
#include <vector>

#include <Eigen/Dense>

namespace pwas::io {

/// One protein's values in cohort sample order, NaN = missing; data == nullptr: no protein.
struct ProteinColumn {
  const float* data = nullptr;
  std::int64_t stride = 1;  // floats between consecutive samples
  float operator[](std::int64_t i) const { return data[i * stride]; }
  explicit operator bool() const { return data != nullptr; }
};

class ProteinBlock {
 public:
  ProteinBlock() = default;
  /// Columns over storage that `owner` keeps alive.
  ProteinBlock(std::int64_t n_samples, std::vector<ProteinColumn> columns, std::shared_ptr<const void> owner)
      : n_samples_(n_samples), columns_(std::move(columns)), owner_(std::move(owner)) {}
  /// The columns of `m` [n_samples x k] (moved into the block).
  static ProteinBlock from_matrix(Eigen::MatrixXf m) {
    auto owned = std::make_shared<const Eigen::MatrixXf>(std::move(m));
    std::vector<ProteinColumn> columns;
    for (Eigen::Index j = 0; j < owned->cols(); ++j) columns.push_back({owned->col(j).data(), 1});
    return {owned->rows(), std::move(columns), owned};
  }

  std::int64_t rows() const { return n_samples_; }
  std::int64_t cols() const { return static_cast<std::int64_t>(columns_.size()); }
  ProteinColumn column(std::int64_t j) const { return columns_[static_cast<std::size_t>(j)]; }
  float operator()(std::int64_t i, std::int64_t j) const { return column(j)[i]; }

  /// The columns `which` (indices into this block) over the same storage.
  template <class Index>
  ProteinBlock select(const std::vector<Index>& which) const {
    std::vector<ProteinColumn> columns;
    columns.reserve(which.size());
    for (const Index j : which) columns.push_back(column(static_cast<std::int64_t>(j)));
    return {n_samples_, std::move(columns), owner_};
  }

 private:
  std::int64_t n_samples_ = 0;
  std::vector<ProteinColumn> columns_;
  std::shared_ptr<const void> owner_;
};

}  // namespace pwas::io
