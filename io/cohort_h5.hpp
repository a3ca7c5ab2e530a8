#pragma once
// The cohort HDF5 file (layout in docs/cohort-format.md). Serial HDF5: every rank opens it read-only
// and reads only its own block of protein columns (a hyperslab).
#include <cstdint>
#include <memory>
#include <string>

#include <Eigen/Dense>

#include "io/cohort.hpp"
#include "io/protein_block.hpp"

namespace pwas::io {

struct CohortWriteOptions {
  int deflate_level = 0;          // 0 = no compression; shuffle is on whenever deflate is
  std::int64_t chunk_bytes = 1 << 20;  // target chunk size; chunks span all samples x k proteins
};

/// Writes a cohort file to `path` via a temporary name and rename, so a crash never leaves a file that looks complete.
class CohortWriter {
 public:
  CohortWriter(const std::string& path, const CohortMeta& meta, const CohortWriteOptions& opt = {});
  ~CohortWriter();   // removes the temporary file unless finish() ran
  CohortWriter(const CohortWriter&) = delete;
  CohortWriter& operator=(const CohortWriter&) = delete;
  /// Proteins per HDF5 chunk: write blocks of this many (aligned to it) so each chunk is compressed once.
  std::int64_t proteins_per_chunk() const;
  /// Writes proteins [first, first + block.cols()) for all samples.
  void write_proteins(std::int64_t first, const Eigen::MatrixXf& block);  // [n_samples x k]
  /// Flushes, closes and renames into place.
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Read-only access to a cohort file; throws InputError (naming file and dataset) on a malformed file.
class CohortReader {
 public:
  /// map_proteins: map the protein matrix into memory where its layout allows (io/npx_map.hpp).
  explicit CohortReader(const std::string& path, bool map_proteins = true);
  ~CohortReader();
  CohortReader(const CohortReader&) = delete;
  CohortReader& operator=(const CohortReader&) = delete;
  const CohortMeta& meta() const;
  /// Proteins [first, first + count) for all samples, NaN = missing.
  Eigen::MatrixXf read_proteins(std::int64_t first, std::int64_t count) const;  // [n_samples x count]
  /// The same proteins as a block of columns: views into the mapped file where it is mapped, else read_proteins.
  ProteinBlock proteins(std::int64_t first, std::int64_t count) const;
  /// Whether the protein matrix is mapped into memory.
  bool mapped() const;
  /// Done with proteins [first, first + count) for now: where mapped, their pages leave this process (NpxMap::release).
  void release_proteins(std::int64_t first, std::int64_t count) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pwas::io
