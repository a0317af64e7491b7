#include "policy/netblock_table.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <tuple>
#include <type_traits>

namespace tlsgate::policy {
namespace {

constexpr unsigned kMinBucketBits = 8;
constexpr unsigned kMaxBucketBits = 17;  // 512 KiB of index per family at most (see the .h)

// The first `width` bits of an address (network byte order) as a number: two
// big-endian loads rather than a loop over bytes, on the lookup path.
template <class Key>
Key key_of(const Address& a, unsigned width) {
  if (width == 32) {
    std::uint32_t k;
    std::memcpy(&k, a.bytes.data(), 4);
    if constexpr (std::endian::native == std::endian::little) k = __builtin_bswap32(k);
    return static_cast<Key>(k);
  }
  std::uint64_t high, low;
  std::memcpy(&high, a.bytes.data(), 8);
  std::memcpy(&low, a.bytes.data() + 8, 8);
  if constexpr (std::endian::native == std::endian::little) {
    high = __builtin_bswap64(high);
    low = __builtin_bswap64(low);
  }
  return static_cast<Key>((static_cast<unsigned __int128>(high) << 64) | low);
}

template <class Key>
unsigned leading_zeros(Key x, unsigned width) {
  if constexpr (sizeof(Key) <= sizeof(std::uint64_t)) {
    return static_cast<unsigned>(std::countl_zero(x)) - (8 * sizeof(Key) - width);
  } else {
    const auto high = static_cast<std::uint64_t>(x >> 64);
    const auto low = static_cast<std::uint64_t>(x);
    return static_cast<unsigned>(high != 0 ? std::countl_zero(high) : 64 + std::countl_zero(low));
  }
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
  v4_.push(0, kNone);
  v4_.index(32);
  v6_.push(0, kNone);
  v6_.index(128);
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
template <class Key, class Ranges>
class VectorSink {
 public:
  explicit VectorSink(Ranges& r) : r_(r) { r_.push(0, NetblockTable::kNone); }
  void emit(Key at, std::uint32_t value) {
    const std::size_t last = r_.ranges.size() - 1;
    if (r_.key(last) == at) {
      r_.ranges.back().value = value;
      // The overwrite may make this range equal to its predecessor: merge them.
      if (last > 0 && r_.ranges[last - 1].value == value) r_.pop();
    } else if (r_.ranges.back().value != value) {
      r_.push(at, value);
    }
  }

 private:
  Ranges& r_;
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
template <class Key, class Items, class Sink, class ValueOf, class OnDuplicate>
void sweep(Items& items, unsigned width, Sink& sink, ValueOf value_of, OnDuplicate on_duplicate) {
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
  const typename Items::value_type* kept = nullptr;
  for (auto& it : items) {
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
NetblockTable::Ranges<Key> NetblockTable::build_family(
    std::vector<Item<Key>, HugePageAllocator<Item<Key>>>& items, unsigned width,
    const Combine& combine, const OnDuplicateItem& on_duplicate) {
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
  r.ranges.reserve(counter.count());
  VectorSink<Key, Ranges<Key>> sink(r);
  sweep<Key>(
      items, width, sink, [](const Item<Key>& it, std::uint32_t) { return it.payload; },
      [](const Item<Key>&, const Item<Key>&) {});
  assert(r.ranges.size() == counter.count());
  std::remove_reference_t<decltype(items)>().swap(items);

  r.index(width);
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
Key NetblockTable::Ranges<Key>::key(std::size_t i) const {
  if constexpr (std::is_same_v<Key, Key6>) {
    return (Key6{ranges[i].high} << 64) | lows[ranges[i].low];
  } else {
    return ranges[i].start;
  }
}

template <class Key>
bool NetblockTable::Ranges<Key>::at_or_before(std::size_t i, Key k) const {
  if constexpr (std::is_same_v<Key, Key6>) {
    const auto high = static_cast<std::uint64_t>(k >> 64);
    if (ranges[i].high != high) return ranges[i].high < high;
    return lows[ranges[i].low] <= static_cast<std::uint64_t>(k);
  } else {
    return ranges[i].start <= k;
  }
}

template <class Key>
void NetblockTable::Ranges<Key>::push(Key start, std::uint32_t value) {
  if constexpr (std::is_same_v<Key, Key6>) {
    const auto low = static_cast<std::uint64_t>(start);
    std::uint32_t at = 0;
    if (low != 0) {
      at = static_cast<std::uint32_t>(lows.size());
      lows.push_back(low);
    }
    ranges.push_back({static_cast<std::uint64_t>(start >> 64), value, at});
  } else {
    ranges.push_back({start, value});
  }
}

template <class Key>
void NetblockTable::Ranges<Key>::pop() {
  if constexpr (std::is_same_v<Key, Key6>) {
    if (ranges.back().low != 0) lows.pop_back();  // lows are kept in range order
  }
  ranges.pop_back();
}

template <class Key>
void NetblockTable::Ranges<Key>::index(unsigned width) {
  const std::size_t n = ranges.size();
  assert(n < kDirect);  // a range index must not look like a tagged value
  // The span: the leading bits shared by every start after the first.
  const unsigned common = n < 2 ? 0 : leading_zeros(key(1) ^ key(n - 1), width);
  const unsigned bits = std::min(std::clamp<unsigned>(static_cast<unsigned>(std::bit_width(n)),
                                                      kMinBucketBits, kMaxBucketBits),
                                 width - common);
  span_mask = common == 0 ? Key{0} : ~Key{0} << (width - common);
  span_prefix = n < 2 ? Key{0} : key(1) & span_mask;
  shift = width - common - bits;
  bucket_mask = (Key{1} << bits) - 1;

  const std::size_t count = std::size_t{1} << bits;
  const Key bucket_size_1 = (Key{1} << shift) - 1;
  buckets.resize(count);
  std::size_t range = 0;  // the range holding the first key of bucket b
  for (std::size_t b = 0; b < count; ++b) {
    const Key first = span_prefix | (static_cast<Key>(b) << shift);
    while (range + 1 < n && key(range + 1) <= first) ++range;
    const bool crossed = range + 1 < n && key(range + 1) <= (first | bucket_size_1);
    const std::uint32_t value = ranges[range].value;
    // kNone is stored as kDirect | 0; a value too big for the tag is searched for.
    if (!crossed && (value == kNone || value < kDirect - 1)) {
      buckets[b] = kDirect | (value + 1);
    } else {
      buckets[b] = static_cast<std::uint32_t>(range);
    }
  }
}

template <class Key>
std::uint32_t NetblockTable::Ranges<Key>::find(Key key) const noexcept {
  // Outside the span, a key is below every start after the first, or above them all.
  if ((key & span_mask) != span_prefix) {
    return key < span_prefix ? ranges.front().value : ranges.back().value;
  }
  const std::uint32_t entry = buckets[static_cast<std::size_t>((key >> shift) & bucket_mask)];
  if ((entry & kDirect) != 0) return (entry & ~kDirect) - 1;  // 0 - 1 == kNone
  // ranges[lo] holds `key` or precedes the range that does: gallop, then bisect.
  const std::size_t n = ranges.size();
  std::size_t lo = entry;
  std::size_t hi = lo + 1;
  for (std::size_t step = 1; hi < n && at_or_before(hi, key); step *= 2) {
    lo = hi;
    hi = lo + 2 * step;
  }
  hi = std::min(hi, n);
  while (hi - lo > 1) {
    const std::size_t mid = lo + (hi - lo) / 2;
    (at_or_before(mid, key) ? lo : hi) = mid;
  }
  return ranges[lo].value;
}

template <class Key>
std::size_t NetblockTable::Ranges<Key>::memory_bytes() const {
  return ranges.capacity() * sizeof(Range<Key>) + lows.capacity() * sizeof(std::uint64_t) +
         buckets.capacity() * sizeof(std::uint32_t);
}

std::uint32_t NetblockTable::lookup(const Address& a) const noexcept {
  if (a.family == Family::v4) return v4_.find(key_of<std::uint32_t>(a, 32));
  return v6_.find(key_of<Key6>(a, 128));
}

std::size_t NetblockTable::memory_bytes() const { return v4_.memory_bytes() + v6_.memory_bytes(); }

}  // namespace tlsgate::policy
