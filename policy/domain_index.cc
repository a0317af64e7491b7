#include "policy/domain_index.h"

#include <algorithm>
#include <bit>
#include <cstring>
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
  std::vector<std::uint32_t> offsets;  // each record's
  std::vector<std::uint32_t> exact, subdomains;
  for (std::size_t i = 0; i < items_.size();) {
    const std::string_view domain = items_[i].domain;
    exact.clear();
    subdomains.clear();
    // Exact patterns sort before "*." ones of the same domain; a partner once each.
    for (; i < items_.size() && items_[i].domain == domain; ++i) {
      auto& ids = items_[i].subdomains ? subdomains : exact;
      if (ids.empty() || ids.back() != items_[i].partner) ids.push_back(items_[i].partner);
    }
    const std::size_t at = index.records_.size();
    const std::size_t words =
        kHeaderWords + exact.size() + subdomains.size() + (domain.size() + 3) / 4;
    if (at + words >= UINT32_MAX) throw std::length_error("too many partner domains");
    offsets.push_back(static_cast<std::uint32_t>(at));
    index.records_.resize(at + words, 0);
    const Header head{static_cast<std::uint32_t>(domain.size()),
                      static_cast<std::uint32_t>(exact.size()),
                      static_cast<std::uint32_t>(subdomains.size())};
    std::uint32_t* record = &index.records_[at];
    std::memcpy(record, &head, sizeof head);
    std::copy(exact.begin(), exact.end(), record + kHeaderWords);
    std::copy(subdomains.begin(), subdomains.end(), record + kHeaderWords + exact.size());
    std::memcpy(record + kHeaderWords + exact.size() + subdomains.size(), domain.data(),
                domain.size());
  }
  items_.clear();
  items_.shrink_to_fit();
  index.domains_ = offsets.size();
  if (offsets.empty()) return index;

  index.slots_.assign(std::bit_ceil(offsets.size() * 2), Slot{0, 0});
  const std::size_t mask = index.slots_.size() - 1;
  for (const std::uint32_t offset : offsets) {
    const std::uint32_t* record = &index.records_[offset];
    const Header head = header_of(record);
    const auto* text =
        reinterpret_cast<const char*>(record + kHeaderWords + head.exact + head.subdomains);
    const std::uint64_t h = hash(std::string_view(text, head.name_size));
    std::size_t slot = h & mask;
    while (index.slots_[slot].record != 0) slot = (slot + 1) & mask;
    index.slots_[slot] = {static_cast<std::uint32_t>(h >> 32), offset + 1};
  }
  return index;
}

std::size_t DomainIndex::memory_bytes() const {
  return slots_.capacity() * sizeof(Slot) + records_.capacity() * sizeof(std::uint32_t);
}

}  // namespace tlsgate::policy
