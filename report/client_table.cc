#include "report/client_table.h"

#include <algorithm>
#include <cstring>

namespace tlsgate::report {
namespace {

constexpr std::size_t kChunk = 256 * 1024;

// The same `n` bytes (n <= kInline), 8 at a time: no library call for a short key.
bool same_bytes(const char* a, const char* b, std::size_t n) {
  std::uint64_t diff = 0;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t x, y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    diff |= x ^ y;
  }
  for (; i < n; ++i) diff |= static_cast<std::uint64_t>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

ClientTable::ClientTable() : slots_(1024) {}

bool ClientTable::matches(const Slot& s, std::uint64_t hash, std::string_view key) const {
  if (s.hash != hash) return false;
  if (key.size() <= kInline)
    return s.length == key.size() && same_bytes(s.key, key.data(), key.size());
  return s.length == kInline + 1 && texts_[s.id] == key;
}

std::size_t ClientTable::probe(std::string_view key, std::uint64_t hash) const {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.id == kNone || matches(s, hash, key)) return i;
  }
}

ClientTable::Slot* ClientTable::find(std::string_view key, std::uint64_t hash) {
  Slot& s = slots_[probe(key, hash)];
  return s.id == kNone ? nullptr : &s;
}

ClientTable::Slot& ClientTable::add(std::string_view key, std::uint64_t hash, bool& added) {
  std::size_t i = probe(key, hash);
  added = slots_[i].id == kNone;
  if (!added) return slots_[i];
  if ((texts_.size() + 1) * 2 > slots_.size()) {
    grow();
    i = probe(key, hash);
  }
  if (chunks_.empty() || chunk_used_ + key.size() > kChunk) {
    chunks_.push_back(std::make_unique<char[]>(std::max(kChunk, key.size())));
    chunk_used_ = 0;
  }
  char* text = chunks_.back().get() + chunk_used_;
  if (!key.empty()) std::memcpy(text, key.data(), key.size());
  chunk_used_ += key.size();

  Slot& s = slots_[i];
  s.hash = hash;
  s.id = static_cast<std::uint32_t>(texts_.size());
  texts_.emplace_back(text, key.size());
  if (key.size() <= kInline) {
    s.length = static_cast<std::uint8_t>(key.size());
    if (!key.empty()) std::memcpy(s.key, key.data(), key.size());
  } else {
    s.length = kInline + 1;
  }
  return s;
}

void ClientTable::grow() {
  std::vector<Slot, policy::HugePageAllocator<Slot>> old(slots_.size() * 2);
  old.swap(slots_);
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.id == kNone) continue;
    std::size_t i = s.hash & mask;
    while (slots_[i].id != kNone) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

std::vector<std::uint8_t> ClientTable::flags_by_id() const {
  std::vector<std::uint8_t> flags(texts_.size());
  for (const Slot& s : slots_) {
    if (s.id != kNone) flags[s.id] = s.flags;
  }
  return flags;
}

}  // namespace tlsgate::report
