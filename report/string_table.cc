#include "report/string_table.h"

#include <cstring>

namespace tlsgate::report {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

std::uint64_t load64(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

}  // namespace

std::uint64_t hash_bytes(std::string_view key) {
  constexpr std::uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull,
                          k2 = 0x8ebc6af09c88c6e3ull;
  const char* p = key.data();
  std::size_t n = key.size();
  std::uint64_t h = k0 ^ (n * k1);
  while (n >= 16) {
    h = mix(load64(p) ^ k1, load64(p + 8) ^ h);
    p += 16;
    n -= 16;
  }
  std::uint64_t a = 0, b = 0;
  if (n >= 8) {
    a = load64(p);
    b = load64(p + n - 8);
  } else if (n > 0) {
    std::memcpy(&a, p, n);  // the rest stays zero
    b = n;
  }
  return mix(a ^ k2 ^ h, b ^ k1 ^ h);
}

StringTable::StringTable() : slots_(64) {}

bool StringTable::matches(const Slot& s, std::uint64_t hash, std::string_view key) const {
  if (s.hash != hash || s.length != key.size()) return false;
  const char* text = key.size() <= kInline ? s.key : texts_[s.id].data();
  return key.empty() || std::memcmp(text, key.data(), key.size()) == 0;
}

std::size_t StringTable::probe(std::string_view key, std::uint64_t hash) const {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.id == kEmpty || matches(s, hash, key)) return i;
  }
}

std::optional<std::uint32_t> StringTable::find(std::string_view key, std::uint64_t hash) const {
  const Slot& s = slots_[probe(key, hash)];
  if (s.id == kEmpty) return std::nullopt;
  return s.id;
}

std::uint32_t StringTable::intern(std::string_view key, std::uint64_t hash, bool* added) {
  std::size_t i = probe(key, hash);
  if (slots_[i].id != kEmpty) {
    if (added != nullptr) *added = false;
    return slots_[i].id;
  }
  if ((texts_.size() + 1) * 2 > slots_.size()) {
    grow();
    i = probe(key, hash);
  }
  const auto id = static_cast<std::uint32_t>(texts_.size());
  texts_.push_back(store(key));
  Slot& s = slots_[i];
  s.hash = hash;
  s.id = id;
  s.length = static_cast<std::uint32_t>(key.size());
  if (!key.empty() && key.size() <= kInline) std::memcpy(s.key, key.data(), key.size());
  if (added != nullptr) *added = true;
  return id;
}

std::string_view StringTable::store(std::string_view key) {
  if (key.empty()) return {};
  if (key.size() > kChunk / 4) {  // a long one gets storage of its own
    long_texts_.push_back(std::make_unique<char[]>(key.size()));
    std::memcpy(long_texts_.back().get(), key.data(), key.size());
    return {long_texts_.back().get(), key.size()};
  }
  if (chunks_.empty() || chunk_used_ + key.size() > kChunk) {
    chunks_.push_back(std::make_unique<char[]>(kChunk));
    chunk_used_ = 0;
  }
  char* at = chunks_.back().get() + chunk_used_;
  std::memcpy(at, key.data(), key.size());
  chunk_used_ += key.size();
  return {at, key.size()};
}

void StringTable::grow() {
  std::vector<Slot, policy::HugePageAllocator<Slot>> old(slots_.size() * 2);
  old.swap(slots_);
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.id == kEmpty) continue;
    std::size_t i = s.hash & mask;
    while (slots_[i].id != kEmpty) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

}  // namespace tlsgate::report
