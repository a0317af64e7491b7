// Longest-prefix match over IPv4 and IPv6 netblocks, built once, immutable.
//
// The prefixes are flattened into disjoint address ranges, each carrying the value
// of the most specific prefix that covers it. A lookup is a 16-bit bucket index
// followed by a binary search inside the bucket: no allocation, no string work,
// memory linear in the number of prefixes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "policy/address.h"
#include "policy/prefix.h"

namespace tlsgate::policy {

class NetblockTable {
 public:
  static constexpr std::uint32_t kNone = UINT32_MAX;
  using Key6 = unsigned __int128;

  struct Entry {
    Prefix prefix;
    std::uint32_t payload;
  };
  // Gives the value stored for an entry, from its payload and the value of the
  // nearest enclosing entry (kNone if there is none).
  using Combine = std::function<std::uint32_t(std::uint32_t payload, std::uint32_t parent)>;
  // Told about an entry whose prefix equals an earlier entry's (indexes into the
  // entries as given); the later entry is left out of the table.
  using OnDuplicate = std::function<void(std::size_t earlier, std::size_t later)>;

  // The compact form the table is built from, one vector per family: 16 bytes per
  // IPv4 prefix, 32 per IPv6 prefix. A loader fills it as it reads (a million
  // prefixes is a normal size for a networks_file) and hands it over to build().
  template <class Key>
  struct Item {
    Key start;  // the prefix's first address as a number
    std::uint32_t payload;
    std::uint32_t ordinal;  // input order: of equal prefixes, the lowest ordinal is kept
    std::uint8_t length;
  };
  struct Items {
    std::vector<Item<std::uint32_t>> v4;
    std::vector<Item<Key6>> v6;

    void add(const Prefix& prefix, std::uint32_t payload, std::uint32_t ordinal);
    std::size_t size() const { return v4.size() + v6.size(); }
  };
  static Prefix prefix_of(const Item<std::uint32_t>& item);
  static Prefix prefix_of(const Item<Key6>& item);
  struct Duplicate {
    Prefix prefix;
    std::uint32_t earlier, later;  // ordinals, earlier < later
    std::uint32_t earlier_payload, later_payload;
  };
  using OnDuplicateItem = std::function<void(const Duplicate&)>;

  NetblockTable();
  static NetblockTable build(const std::vector<Entry>& entries, const Combine& combine,
                             const OnDuplicate& on_duplicate);
  // Consumes `items`: each family is sorted in place, swept twice (once to call
  // `combine` and count the ranges, once to write them into vectors of exactly that
  // size) and freed, so the build needs little more memory than items and table.
  static NetblockTable build(Items items, const Combine& combine,
                             const OnDuplicateItem& on_duplicate);

  // The value of the longest prefix containing `a`, or kNone.
  std::uint32_t lookup(const Address& a) const noexcept;

  std::size_t range_count() const { return v4_.starts.size() + v6_.starts.size(); }
  std::size_t memory_bytes() const;

 private:
  template <class Key>
  struct Ranges {
    std::vector<Key> starts;             // sorted; starts[0] == 0
    std::vector<std::uint32_t> values;   // values[i] covers [starts[i], starts[i+1])
    std::vector<std::uint32_t> buckets;  // per top-16-bit bucket: range holding its first key

    std::uint32_t find(Key key, unsigned width) const noexcept;
    std::size_t memory_bytes() const;
  };

  template <class Key>
  static Ranges<Key> build_family(std::vector<Item<Key>>& items, unsigned width,
                                  const Combine& combine, const OnDuplicateItem& on_duplicate);

  Ranges<std::uint32_t> v4_;
  Ranges<Key6> v6_;
};

}  // namespace tlsgate::policy
