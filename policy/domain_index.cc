#include "policy/domain_index.h"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <tuple>

namespace tlsgate::policy {

void DomainIndex::Builder::add(const DomainPattern& pattern, std::uint32_t partner) {
  items_.push_back({pattern.domain, pattern.subdomains, partner});
}

std::uint64_t DomainIndex::hash(std::string_view domain) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::size_t i = domain.size(); i-- > 0;) {
    h = (h ^ static_cast<unsigned char>(domain[i])) * 0x100000001b3ULL;
  }
  return finish(h);
}

DomainIndex DomainIndex::Builder::build() && {
  std::sort(items_.begin(), items_.end(), [](const Item& a, const Item& b) {
    return std::tie(a.domain, a.subdomains, a.partner) <
           std::tie(b.domain, b.subdomains, b.partner);
  });
  DomainIndex index;
  if (items_.size() >= UINT32_MAX / 2) throw std::length_error("too many partner domains");
  index.partners_.reserve(items_.size());
  for (std::size_t i = 0; i < items_.size();) {
    const std::string& domain = items_[i].domain;
    Entry e{};
    e.name_offset = static_cast<std::uint32_t>(index.names_.size());
    e.name_size = static_cast<std::uint32_t>(domain.size());
    index.names_ += domain;
    // Exact patterns sort before "*." ones of the same domain.
    for (const bool subdomains : {false, true}) {
      const auto begin = static_cast<std::uint32_t>(index.partners_.size());
      for (; i < items_.size() && items_[i].domain == domain && items_[i].subdomains == subdomains;
           ++i) {
        if (index.partners_.size() == begin || index.partners_.back() != items_[i].partner) {
          index.partners_.push_back(items_[i].partner);
        }
      }
      const auto end = static_cast<std::uint32_t>(index.partners_.size());
      (subdomains ? e.subdomains_begin : e.exact_begin) = begin;
      (subdomains ? e.subdomains_end : e.exact_end) = end;
    }
    index.entries_.push_back(e);
  }
  items_.clear();
  items_.shrink_to_fit();

  if (index.entries_.empty()) return index;
  index.slots_.assign(std::bit_ceil(index.entries_.size() * 2), Slot{0, 0});
  const std::size_t mask = index.slots_.size() - 1;
  for (std::uint32_t n = 0; n < index.entries_.size(); ++n) {
    const Entry& e = index.entries_[n];
    const std::uint64_t h = hash(std::string_view(index.names_).substr(e.name_offset, e.name_size));
    std::size_t slot = h & mask;
    while (index.slots_[slot].entry != 0) slot = (slot + 1) & mask;
    index.slots_[slot] = {static_cast<std::uint32_t>(h >> 32), n + 1};
  }
  return index;
}

std::size_t DomainIndex::memory_bytes() const {
  return slots_.capacity() * sizeof(Slot) + entries_.capacity() * sizeof(Entry) +
         partners_.capacity() * sizeof(std::uint32_t) + names_.capacity();
}

}  // namespace tlsgate::policy
