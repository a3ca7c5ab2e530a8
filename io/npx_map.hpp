#pragma once
// The cohort's protein matrix (/proteins/npx) mapped read-only into memory, where the file stores it so that its
// bytes are the floats themselves: a rank then reads its proteins straight from the page cache, with no copy
// through HDF5 and no transposition (a chunk holds all samples of a few proteins, sample-major).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <hdf5.h>

#include "io/protein_block.hpp"

namespace pwas::io {

class NpxMap {
 public:
  /// Maps `path`'s dataset `npx` [n_samples x n_proteins] if it is stored unfiltered, as native floats, either
  /// contiguous or in allocated chunks that span all samples, with no user block, and a few of its values read
  /// through HDF5 agree with the mapped bytes; nullptr otherwise (the caller reads through HDF5).
  static std::shared_ptr<const NpxMap> open(const std::string& path, hid_t npx, std::int64_t n_samples,
                                            std::int64_t n_proteins);
  ~NpxMap();
  NpxMap(const NpxMap&) = delete;
  NpxMap& operator=(const NpxMap&) = delete;

  /// Protein j's values, sample i at column(j)[i].
  ProteinColumn column(std::int64_t j) const;

  /// Unmaps the pages of every chunk whose last protein is in [first, first + count) (madvise MADV_DONTNEED: the
  /// data stays in the page cache, a later read faults it back in), so that the process does not keep the whole
  /// matrix mapped (resident) by the end of a scan. Nothing for a contiguous matrix, whose rows mix all proteins.
  void release(std::int64_t first, std::int64_t count) const;

 private:
  NpxMap() = default;
  void* base_ = nullptr;
  std::size_t length_ = 0;
  std::int64_t n_ = 0, p_ = 0;
  std::int64_t width_ = 1;             // proteins per chunk (contiguous: all of them): the stride of a column
  std::vector<std::uint64_t> offset_;  // [chunks] file offset of each chunk (contiguous: one)
};

}  // namespace pwas::io
