// Domain -> partners: which [partner NAME] sections list a pattern that matches a
// domain, built once, immutable. A lookup hashes each label suffix of the domain
// (a.b.bank.example, b.bank.example, bank.example, example) in one pass from the
// right and probes an open-addressing table once per suffix: the whole domain for
// exact patterns, each parent for "*." patterns. No scan of the patterns, no
// allocation; the probes are independent, so their cache misses overlap.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "policy/domain.h"
#include "policy/huge_pages.h"

namespace tlsgate::policy {

class DomainIndex {
 public:
  // Collects the patterns, then build() makes the table. The patterns are not
  // copied: they must outlive build() (a policy's partner rules hold them).
  class Builder {
   public:
    void add(const DomainPattern& pattern, std::uint32_t partner);
    DomainIndex build() &&;

   private:
    struct Item {
      std::string_view domain;
      bool subdomains;
      std::uint32_t partner;
    };
    std::vector<Item> items_;
  };

  // Calls on_match(partner) for each partner with a pattern that matches `domain`
  // (canonical, as envelope_domain gives it): partners in increasing order per
  // pattern kind; a partner with two matching patterns comes twice.
  template <class OnMatch>
  void for_each_match(std::string_view domain, OnMatch&& on_match) const;

  std::size_t domain_count() const { return domains_; }
  std::size_t memory_bytes() const;

 private:
  // One distinct domain, a record in records_: its name's size, how many partners
  // name it exactly and how many by "*.", those partners (exact ones first), then
  // the name, padded to 4 bytes. A domain found costs one read more than its slot.
  struct Header {
    std::uint32_t name_size;
    std::uint32_t exact;
    std::uint32_t subdomains;
  };
  static constexpr std::size_t kHeaderWords = sizeof(Header) / sizeof(std::uint32_t);
  // A slot: the high half of the domain's hash and 1 + its record's offset in
  // records_ (0: empty).
  struct Slot {
    std::uint32_t tag;
    std::uint32_t record;
  };
  static constexpr std::size_t kMaxLabels = kMaxDomain / 2 + 1;

  static std::uint64_t finish(std::uint64_t h);
  static std::uint64_t hash(std::string_view domain);
  static Header header_of(const std::uint32_t* record) {
    Header h;
    std::memcpy(&h, record, sizeof h);
    return h;
  }
  // The record of a domain given its hash, or nullptr.
  const std::uint32_t* find(std::string_view name, std::uint64_t hash) const;

  std::vector<Slot, HugePageAllocator<Slot>> slots_;  // a power of two, at most half full
  std::vector<std::uint32_t, HugePageAllocator<std::uint32_t>> records_;
  std::size_t domains_ = 0;
};

// FNV-1a over the bytes from the last to the first, so that one pass from the right
// gives every suffix's hash on the way; finish() mixes the bits (murmur3's final
// step) so that the table index and the tag both depend on all of them.
inline std::uint64_t DomainIndex::finish(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

inline const std::uint32_t* DomainIndex::find(std::string_view name, std::uint64_t h) const {
  const std::size_t mask = slots_.size() - 1;
  const auto tag = static_cast<std::uint32_t>(h >> 32);
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot s = slots_[i];
    if (s.record == 0) return nullptr;
    if (s.tag != tag) continue;
    const std::uint32_t* record = records_.data() + (s.record - 1);
    const Header head = header_of(record);
    const auto* text =
        reinterpret_cast<const char*>(record + kHeaderWords + head.exact + head.subdomains);
    if (std::string_view(text, head.name_size) == name) return record;
  }
}

template <class OnMatch>
void DomainIndex::for_each_match(std::string_view domain, OnMatch&& on_match) const {
  if (slots_.empty() || domain.empty() || domain.size() > kMaxDomain) return;
  // Where each suffix starts and its hash: [0] is the whole domain.
  std::array<std::uint32_t, kMaxLabels> starts;
  std::array<std::uint64_t, kMaxLabels> hashes;
  std::size_t suffixes = 0;
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::size_t i = domain.size(); i-- > 0;) {
    h = (h ^ static_cast<unsigned char>(domain[i])) * 0x100000001b3ULL;
    if (i == 0 || domain[i - 1] == '.') {
      if (suffixes == kMaxLabels) return;  // empty labels: not a canonical domain
      starts[suffixes] = static_cast<std::uint32_t>(i);
      hashes[suffixes] = finish(h);
      __builtin_prefetch(&slots_[hashes[suffixes] & (slots_.size() - 1)]);
      ++suffixes;
    }
  }
  // Found right to left: the last one is the whole domain.
  for (std::size_t k = 0; k < suffixes; ++k) {
    const std::uint32_t* record = find(domain.substr(starts[k]), hashes[k]);
    if (record == nullptr) continue;
    const Header head = header_of(record);
    const bool whole = starts[k] == 0;
    const std::uint32_t* first = record + kHeaderWords + (whole ? 0 : head.exact);
    const std::uint32_t count = whole ? head.exact : head.subdomains;
    for (std::uint32_t p = 0; p < count; ++p) on_match(first[p]);
  }
}

}  // namespace tlsgate::policy
