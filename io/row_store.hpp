#pragma once
// Rows of floats of one width that grow without moving: the Olink matrix is built one sample row at a time and
// may reach 600,000 x 5,400 values, so growing by reallocation would briefly need twice that memory.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace pwas::io {

/// A growable [n_rows x width] float matrix, row-major, allocated in blocks of rows.
class RowStore {
 public:
  explicit RowStore(std::size_t width, std::size_t rows_per_block = 256)
      : width_(width), rows_per_block_(rows_per_block) {}

  /// Appends a row filled with `fill` and returns its index.
  std::int32_t add_row(float fill) {
    const std::size_t r = n_rows_;
    if (r / rows_per_block_ == blocks_.size())
      blocks_.push_back(std::make_unique_for_overwrite<float[]>(rows_per_block_ * width_));
    float* p = row(static_cast<std::int32_t>(r));
    for (std::size_t j = 0; j < width_; ++j) p[j] = fill;
    ++n_rows_;
    return static_cast<std::int32_t>(r);
  }
  /// Removes the last row (its block stays allocated for the next add_row).
  void pop_row() { --n_rows_; }

  /// Row `r` [width].
  float* row(std::int32_t r) {
    const auto i = static_cast<std::size_t>(r);
    return blocks_[i / rows_per_block_].get() + (i % rows_per_block_) * width_;
  }
  const float* row(std::int32_t r) const { return const_cast<RowStore*>(this)->row(r); }

  std::int32_t n_rows() const { return static_cast<std::int32_t>(n_rows_); }
  std::size_t width() const { return width_; }

 private:
  std::size_t width_;
  std::size_t rows_per_block_;
  std::size_t n_rows_ = 0;
  std::vector<std::unique_ptr<float[]>> blocks_;
};

}  // namespace pwas::io
