#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace pwas::engine {

/// Deals items 0..costs.size()-1 to n_parts in chunks of at most `chunk` consecutive items, most expensive chunk
/// first, each to the part with the least total cost so far (ties to the lower part): every part gets many chunks
/// from all over the range, so costs that drift along it (modules, below-detection assays) even out. Each part's items are
/// returned in ascending order; the result depends only on the costs, n_parts and chunk.
std::vector<std::vector<std::int64_t>> deal_chunks(std::span<const double> costs, int n_parts, std::int64_t chunk);

}  // namespace pwas::engine
