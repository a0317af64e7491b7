#include "policy/netblock_table.h"

#include <algorithm>
#include <cassert>
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

// The prefix an item stands for.
template <class Key>
Prefix prefix_from(Key start, std::uint8_t length, unsigned width) {
  Prefix p;
  p.address.family = width == 32 ? Family::v4 : Family::v6;
  for (unsigned i = 0; i < width / 8; ++i) {
    p.address.bytes[i] = static_cast<std::uint8_t>(start >> (width - 8 * (i + 1)));
  }
  p.length = length;
  return p;
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

Prefix NetblockTable::prefix_of(const Item<std::uint32_t>& item) {
  return prefix_from(item.start, item.length, 32);
}
Prefix NetblockTable::prefix_of(const Item<Key6>& item) {
  return prefix_from(item.start, item.length, 128);
}

void NetblockTable::Items::add(const Prefix& prefix, std::uint32_t payload, std::uint32_t ordinal) {
  if (prefix.address.family == Family::v4) {
    v4.push_back({key_of<std::uint32_t>(prefix.address, 32), payload, ordinal, prefix.length});
  } else {
    v6.push_back({key_of<Key6>(prefix.address, 128), payload, ordinal, prefix.length});
  }
}

namespace {

// Writes the ranges, merging a range into its predecessor when both carry one value.
template <class Key>
class VectorSink {
 public:
  VectorSink(std::vector<Key>& starts, std::vector<std::uint32_t>& values)
      : starts_(starts), values_(values) {
    starts_.push_back(0);
    values_.push_back(NetblockTable::kNone);
  }
  void emit(Key at, std::uint32_t value) {
    if (starts_.back() == at) {
      values_.back() = value;
      // The overwrite may make this range equal to its predecessor: merge them.
      if (values_.size() > 1 && values_[values_.size() - 2] == value) {
        starts_.pop_back();
        values_.pop_back();
      }
    } else if (values_.back() != value) {
      starts_.push_back(at);
      values_.push_back(value);
    }
  }

 private:
  std::vector<Key>& starts_;
  std::vector<std::uint32_t>& values_;
};

// Counts the ranges VectorSink would write, merging alike, keeping only the last two.
template <class Key>
class CountingSink {
 public:
  void emit(Key at, std::uint32_t value) {
    if (back_known_ && back_start_ == at) {
      back_value_ = value;
      if (count_ > 1 && previous_value_ == value) {
        --count_;
        // The range now last starts before `at`, and later ranges never start
        // before `at`: nothing overwrites it until another range is added.
        back_known_ = false;
      }
    } else if (back_value_ != value) {
      ++count_;
      previous_value_ = back_value_;
      back_start_ = at;
      back_value_ = value;
      back_known_ = true;
    }
  }
  std::size_t count() const { return count_; }

 private:
  std::size_t count_ = 1;  // the range from 0, valued kNone
  Key back_start_ = 0;
  bool back_known_ = true;
  std::uint32_t back_value_ = NetblockTable::kNone;
  std::uint32_t previous_value_ = NetblockTable::kNone;
};

// Walks the sorted items in address order, keeping the stack of prefixes that
// enclose the current position, and emits a range wherever the innermost prefix
// changes. `value_of(item, parent value)` gives an item's value; `on_duplicate(kept,
// item)` hears of an item equal to the one before it, which is then skipped.
template <class Key, class Item, class Sink, class ValueOf, class OnDuplicate>
void sweep(std::vector<Item>& items, unsigned width, Sink& sink, ValueOf value_of,
           OnDuplicate on_duplicate) {
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
      if (last != ~Key{0}) {
        sink.emit(last + 1, stack.empty() ? NetblockTable::kNone : stack.back().value);
      }
    }
  };
  const Item* kept = nullptr;
  for (Item& it : items) {
    if (kept != nullptr && kept->start == it.start && kept->length == it.length) {
      on_duplicate(*kept, it);
      continue;
    }
    kept = &it;
    close_until([&](const Open& o) { return o.last >= it.start; });
    const std::uint32_t value =
        value_of(it, stack.empty() ? NetblockTable::kNone : stack.back().value);
    sink.emit(it.start, value);
    stack.push_back({last_of(it.start, it.length, width), value});
  }
  close_until([](const Open&) { return false; });
}

}  // namespace

template <class Key>
NetblockTable::Ranges<Key> NetblockTable::build_family(std::vector<Item<Key>>& items,
                                                       unsigned width, const Combine& combine,
                                                       const OnDuplicateItem& on_duplicate) {
  // Enclosing prefixes before the ones they contain; equal prefixes in input order.
  std::sort(items.begin(), items.end(), [](const Item<Key>& a, const Item<Key>& b) {
    return std::tie(a.start, a.length, a.ordinal) < std::tie(b.start, b.length, b.ordinal);
  });

  // First sweep: each kept item's value (it replaces the payload) and the range count.
  CountingSink<Key> counter;
  std::uint32_t kept_payload = 0;
  sweep<Key>(
      items, width, counter,
      [&](Item<Key>& it, std::uint32_t parent) {
        kept_payload = it.payload;
        it.payload = combine(it.payload, parent);
        return it.payload;
      },
      [&](const Item<Key>& kept, const Item<Key>& again) {
        on_duplicate({prefix_of(again), kept.ordinal, again.ordinal, kept_payload, again.payload});
      });

  // Second sweep: the ranges, into vectors of the size counted.
  Ranges<Key> r;
  r.starts.reserve(counter.count());
  r.values.reserve(counter.count());
  VectorSink<Key> sink(r.starts, r.values);
  sweep<Key>(
      items, width, sink, [](const Item<Key>& it, std::uint32_t) { return it.payload; },
      [](const Item<Key>&, const Item<Key>&) {});
  assert(r.starts.size() == counter.count());
  std::vector<Item<Key>>().swap(items);

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
  return r;
}

NetblockTable NetblockTable::build(const std::vector<Entry>& entries, const Combine& combine,
                                   const OnDuplicate& on_duplicate) {
  Items items;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    items.add(entries[i].prefix, entries[i].payload, static_cast<std::uint32_t>(i));
  }
  return build(std::move(items), combine,
               [&](const Duplicate& d) { on_duplicate(d.earlier, d.later); });
}

NetblockTable NetblockTable::build(Items items, const Combine& combine,
                                   const OnDuplicateItem& on_duplicate) {
  NetblockTable t;
  t.v4_ = build_family<std::uint32_t>(items.v4, 32, combine, on_duplicate);
  t.v6_ = build_family<Key6>(items.v6, 128, combine, on_duplicate);
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
