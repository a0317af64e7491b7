#include "policy/netblock_table.h"

#include <algorithm>
#include <tuple>

namespace tlsgate::policy {
namespace {

constexpr unsigned kBucketBits = 16;

template <class Key>
Key key_of(const Address& a, unsigned width) {
  Key k = 0;
  for (unsigned i = 0; i < width / 8; ++i) k = (k << 8) | a.bytes[i];
  return k;
}

// The last address of a prefix: its start with every host bit set.
template <class Key>
Key last_of(Key start, unsigned length, unsigned width) {
  if (length == 0) return ~Key{0};
  const Key host_mask = length >= width ? Key{0} : (Key{1} << (width - length)) - 1;
  return start | host_mask;
}

}  // namespace

NetblockTable::NetblockTable() {
  // An empty table: one range per family covering everything, valued kNone.
  v4_.starts = {0};
  v4_.values = {kNone};
  v4_.buckets.assign((1u << kBucketBits) + 1, 0);
  v6_.starts = {0};
  v6_.values = {kNone};
  v6_.buckets.assign((1u << kBucketBits) + 1, 0);
}

template <class Key>
NetblockTable::Ranges<Key> NetblockTable::build_family(const std::vector<Entry>& entries,
                                                       Family family, unsigned width,
                                                       const Combine& combine,
                                                       const OnDuplicate& on_duplicate) {
  struct Item {
    Key start;
    Key last;
    unsigned length;
    std::size_t index;
  };
  std::vector<Item> items;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (e.prefix.address.family != family) continue;
    const Key start = key_of<Key>(e.prefix.address, width);
    items.push_back({start, last_of(start, e.prefix.length, width), e.prefix.length, i});
  }
  // Enclosing prefixes before the ones they contain; equal prefixes in the order given.
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return std::tie(a.start, a.length, a.index) < std::tie(b.start, b.length, b.index);
  });

  Ranges<Key> r;
  r.starts.push_back(0);
  r.values.push_back(kNone);
  auto emit = [&r](Key at, std::uint32_t value) {
    if (r.starts.back() == at) {
      r.values.back() = value;
      // The overwrite may make this range equal to its predecessor: merge them.
      if (r.values.size() > 1 && r.values[r.values.size() - 2] == value) {
        r.starts.pop_back();
        r.values.pop_back();
      }
    } else if (r.values.back() != value) {
      r.starts.push_back(at);
      r.values.push_back(value);
    }
  };

  struct Open {
    Key last;
    std::uint32_t value;
  };
  std::vector<Open> stack;  // the prefixes enclosing the current position
  auto close_until = [&](auto still_open) {
    while (!stack.empty() && !still_open(stack.back())) {
      const Key last = stack.back().last;
      stack.pop_back();
      // A prefix that ends at the top of the address space leaves nothing after it.
      if (last != ~Key{0}) emit(last + 1, stack.empty() ? kNone : stack.back().value);
    }
  };

  const Item* previous = nullptr;
  for (const Item& it : items) {
    if (previous != nullptr && previous->start == it.start && previous->length == it.length) {
      on_duplicate(previous->index, it.index);
      continue;
    }
    previous = &it;
    close_until([&](const Open& o) { return o.last >= it.start; });
    const std::uint32_t parent = stack.empty() ? kNone : stack.back().value;
    const std::uint32_t value = combine(entries[it.index].payload, parent);
    emit(it.start, value);
    stack.push_back({it.last, value});
  }
  close_until([](const Open&) { return false; });

  // bucket b -> the range holding the first key of b (the range of any key in
  // bucket b lies between buckets[b] and buckets[b + 1]).
  const unsigned shift = width - kBucketBits;
  r.buckets.resize((1u << kBucketBits) + 1);
  std::size_t range = 0;
  for (std::size_t b = 0; b < (1u << kBucketBits); ++b) {
    const Key first = static_cast<Key>(b) << shift;
    while (range + 1 < r.starts.size() && r.starts[range + 1] <= first) ++range;
    r.buckets[b] = static_cast<std::uint32_t>(range);
  }
  r.buckets.back() = static_cast<std::uint32_t>(r.starts.size() - 1);
  r.starts.shrink_to_fit();
  r.values.shrink_to_fit();
  return r;
}

NetblockTable NetblockTable::build(const std::vector<Entry>& entries, const Combine& combine,
                                   const OnDuplicate& on_duplicate) {
  NetblockTable t;
  t.v4_ = build_family<std::uint32_t>(entries, Family::v4, 32, combine, on_duplicate);
  t.v6_ = build_family<Key6>(entries, Family::v6, 128, combine, on_duplicate);
  return t;
}

template <class Key>
std::uint32_t NetblockTable::Ranges<Key>::find(Key key, unsigned width) const noexcept {
  const auto bucket = static_cast<std::size_t>(key >> (width - kBucketBits));
  const auto first = starts.begin() + buckets[bucket];
  const auto last = starts.begin() + buckets[bucket + 1] + 1;
  const auto it = std::upper_bound(first, last, key);
  return values[static_cast<std::size_t>(it - starts.begin()) - 1];
}

template <class Key>
std::size_t NetblockTable::Ranges<Key>::memory_bytes() const {
  return starts.capacity() * sizeof(Key) + values.capacity() * sizeof(std::uint32_t) +
         buckets.capacity() * sizeof(std::uint32_t);
}

std::uint32_t NetblockTable::lookup(const Address& a) const noexcept {
  if (a.family == Family::v4) return v4_.find(key_of<std::uint32_t>(a, 32), 32);
  return v6_.find(key_of<Key6>(a, 128), 128);
}

std::size_t NetblockTable::memory_bytes() const { return v4_.memory_bytes() + v6_.memory_bytes(); }

}  // namespace tlsgate::policy
