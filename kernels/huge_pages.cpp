#include "kernels/huge_pages.hpp"

#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace pwas::kernels {

void advise_huge_pages(void* p, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t kHuge = std::uintptr_t{1} << 21;
  const auto first = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t lo = (first + kHuge - 1) & ~(kHuge - 1);
  const std::uintptr_t hi = (first + bytes) & ~(kHuge - 1);
  if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);  // a hint: failure changes nothing
#else
  (void)p;
  (void)bytes;
#endif
}

}  // namespace pwas::kernels
