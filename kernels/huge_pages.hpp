#pragma once
// A hint to back large arrays that fits read in scattered order with 2 MB pages (Linux transparent huge pages in
// "madvise" mode): a protein's missing rows are gathered from all over the design, and with 4 KB pages nearly every
// such row costs a TLB miss. Only a hint: results never depend on it.
#include <cstddef>

namespace pwas::kernels {

/// Advises the whole 2 MB pages inside [p, p + bytes) to be huge pages; call it before the memory is first written,
/// so that its page faults map huge pages at once. A no-op where the system has no such hint.
void advise_huge_pages(void* p, std::size_t bytes);

}  // namespace pwas::kernels
