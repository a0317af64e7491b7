// An allocator for the netblock table's big arrays. An allocation of 2 MiB or more
// gets a mapping of its own, aligned to 2 MiB and marked MADV_HUGEPAGE, so that
// the kernel can back it with transparent huge pages (where THP is "always" or
// "madvise"): a lookup's reads land anywhere in the table, and with 4 KiB pages
// each one also misses the TLB (a page walk, dearer still in a virtual machine);
// a million prefixes take ~12 huge pages instead of ~6,000 small ones. Smaller
// allocations use operator new. Where THP is off, nothing changes.
#pragma once

#include <cstddef>
#include <new>

namespace tlsgate::policy {

namespace huge_pages {
inline constexpr std::size_t kSize = std::size_t{2} << 20;
void* map(std::size_t bytes);  // throws std::bad_alloc
void unmap(void* p, std::size_t bytes) noexcept;
}  // namespace huge_pages

template <class T>
struct HugePageAllocator {
  using value_type = T;

  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < huge_pages::kSize) return static_cast<T*>(::operator new(bytes));
    return static_cast<T*>(huge_pages::map(bytes));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < huge_pages::kSize) {
      ::operator delete(p);
    } else {
      huge_pages::unmap(p, bytes);
    }
  }

  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }
};

}  // namespace tlsgate::policy
