// Longest-prefix match over IPv4 and IPv6 netblocks, built once, immutable.
//
// The prefixes are flattened into disjoint address ranges, each carrying the value
// of the most specific prefix that covers it. A lookup reads one entry of a small
// index over the address space, which often holds the answer, else searches the
// few ranges the entry points to: no allocation, no string work, memory linear in
// the number of prefixes (~22 MiB for a million).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <vector>

#include "policy/address.h"
#include "policy/huge_pages.h"
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
    std::vector<Item<std::uint32_t>, HugePageAllocator<Item<std::uint32_t>>> v4;
    std::vector<Item<Key6>, HugePageAllocator<Item<Key6>>> v6;

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

  // One range of addresses: its first address, and the value from there up to the
  // next range's first address. 8 bytes for IPv4. 16 for IPv6 (see below): the high
  // 64 bits of the first address, and where its low 64 bits are kept, so that the few
  // ranges a lookup searches share one or two cache lines.
  struct Range4 {
    std::uint32_t start;
    std::uint32_t value;
  };
  // A prefix up to /64 starts and ends on a multiple of 2^64, so most IPv6 ranges have
  // low halves of 0: `low` is 0 for them, else an index into Ranges::lows.
  struct Range6 {
    std::uint64_t high;
    std::uint32_t value;
    std::uint32_t low;
  };
  template <class Key>
  using Range = std::conditional_t<std::is_same_v<Key, std::uint32_t>, Range4, Range6>;

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

  std::size_t range_count() const { return v4_.ranges.size() + v6_.ranges.size(); }
  std::size_t memory_bytes() const;

 private:
  // One family's table: its ranges in address order, and an index. The ranges after
  // the first lie in a span of the address space (the leading bits all their starts
  // share: 2000::/3 for a table of global IPv6 unicast), which the index cuts into
  // 2^bits equal buckets, bits growing with the range count from 8 to 17, so that
  // the index stays small enough to be cached (512 KiB at most) and a bucket holds
  // few range boundaries. A bucket that no boundary crosses holds its value (tagged
  // kDirect), so the lookup is done. Otherwise it holds the range its first address
  // is in, and the lookup searches the few ranges from there, each start with its
  // value beside it.
  template <class Key>
  struct Ranges {
    std::vector<Range<Key>, HugePageAllocator<Range<Key>>> ranges;  // by start; key(0) == 0
    std::vector<std::uint64_t> lows{0};  // IPv6: the low halves that are not 0 ([0] is 0)
    std::vector<std::uint32_t, HugePageAllocator<std::uint32_t>> buckets;  // see find()
    Key span_mask = 0;    // the leading bits of the span...
    Key span_prefix = 0;  // ...and their value
    unsigned shift = 0;   // a key in the span: bucket (key >> shift) & bucket_mask
    Key bucket_mask = 0;

    Key key(std::size_t i) const;                     // the first address of ranges[i]
    bool at_or_before(std::size_t i, Key key) const;  // key(i) <= key, reading no more than needed
    void push(Key start, std::uint32_t value);
    void pop();
    void index(unsigned width);  // sets the span and the buckets from the ranges
    std::uint32_t find(Key key) const noexcept;
    std::size_t memory_bytes() const;
  };
  static constexpr std::uint32_t kDirect = 0x80000000;

  template <class Key>
  static Ranges<Key> build_family(std::vector<Item<Key>, HugePageAllocator<Item<Key>>>& items,
                                  unsigned width, const Combine& combine,
                                  const OnDuplicateItem& on_duplicate);

  Ranges<std::uint32_t> v4_;
  Ranges<Key6> v6_;
};

}  // namespace tlsgate::policy
