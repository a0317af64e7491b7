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

  NetblockTable();
  static NetblockTable build(const std::vector<Entry>& entries, const Combine& combine,
                             const OnDuplicate& on_duplicate);

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
  using Key6 = unsigned __int128;

  template <class Key>
  static Ranges<Key> build_family(const std::vector<Entry>& entries, Family family, unsigned width,
                                  const Combine& combine, const OnDuplicate& on_duplicate);

  Ranges<std::uint32_t> v4_;
  Ranges<Key6> v6_;
};

}  // namespace tlsgate::policy
