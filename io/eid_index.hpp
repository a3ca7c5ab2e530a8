#pragma once
// Participant lookup by eid, on the hot path of the Olink parsers (one lookup per eid change).
#include <algorithm>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace pwas::io {

/// Maps an eid to its row in the participants file: a direct table when the eids are dense (UK Biobank's are
/// 7-digit numbers, so 500,000 participants span ~5 million values), a hash map otherwise.
class EidIndex {
 public:
  explicit EidIndex(std::span<const std::int64_t> eids) {
    if (eids.empty()) return;
    std::int64_t lo = eids[0], hi = eids[0];
    for (const std::int64_t e : eids) {
      lo = std::min(lo, e);
      hi = std::max(hi, e);
    }
    const auto n = static_cast<std::uint64_t>(eids.size());
    const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
    if (span < std::max<std::uint64_t>(16 * n, std::uint64_t{1} << 22)) {
      base_ = lo;
      table_.assign(span + 1, -1);
      for (std::size_t i = 0; i < eids.size(); ++i) table_[static_cast<std::size_t>(eids[i] - lo)] = static_cast<std::int32_t>(i);
    } else {
      map_.reserve(eids.size());
      for (std::size_t i = 0; i < eids.size(); ++i) map_.emplace(eids[i], static_cast<std::int32_t>(i));
    }
  }

  /// Row of `eid` in the participants file, or -1.
  std::int32_t find(std::int64_t eid) const {
    if (!table_.empty()) {
      const std::uint64_t off = static_cast<std::uint64_t>(eid) - static_cast<std::uint64_t>(base_);
      return off < table_.size() ? table_[off] : -1;
    }
    const auto it = map_.find(eid);
    return it == map_.end() ? -1 : it->second;
  }

 private:
  std::int64_t base_ = 0;
  std::vector<std::int32_t> table_;
  std::unordered_map<std::int64_t, std::int32_t> map_;
};

}  // namespace pwas::io
