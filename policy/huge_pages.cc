#include "policy/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>

namespace tlsgate::policy::huge_pages {
namespace {

std::size_t round_up(std::size_t bytes) { return (bytes + kSize - 1) / kSize * kSize; }

}  // namespace

void* map(std::size_t bytes) {
  const std::size_t size = round_up(bytes);
  // Map one huge page more than needed, then trim the ends to 2 MiB alignment.
  void* raw =
      mmap(nullptr, size + kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (start + kSize - 1) / kSize * kSize;
  if (aligned > start) munmap(raw, aligned - start);
  const std::uintptr_t end = start + size + kSize;
  if (end > aligned + size) munmap(reinterpret_cast<void*>(aligned + size), end - aligned - size);
  void* p = reinterpret_cast<void*>(aligned);
  madvise(p, size, MADV_HUGEPAGE);  // a hint: fails harmlessly where THP is unavailable
  return p;
}

void unmap(void* p, std::size_t bytes) noexcept { munmap(p, round_up(bytes)); }

}  // namespace tlsgate::policy::huge_pages
