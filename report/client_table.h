// The clients seen, by address text: an open-addressing hash table whose slots are
// one cache line each and hold, beside the key (up to 42 bytes: any IPv6 address),
// what every row of the client reads and writes: its number, the source of its
// last row and that (source, client) pair's number, and three flags. A row so
// touches one cache line of this table, which report/feed.cc fetches a few rows
// ahead. Slots move when the table grows; numbers and texts do not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "policy/huge_pages.h"

namespace tlsgate::report {

class ClientTable {
 public:
  static constexpr std::uint32_t kNone = 0xffffffff;
  static constexpr std::size_t kInline = 42;

  enum Flag : std::uint8_t {
    kValid = 1,    // an IP address or "unknown"
    kCounted = 2,  // some row of it was counted
    kEverTls = 4,  // some row of it was over TLS
  };

  struct alignas(64) Slot {
    std::uint64_t hash = 0;
    std::uint32_t id = kNone;  // kNone: an empty slot
    std::uint32_t source = kNone;
    std::uint32_t pair = 0;
    std::uint8_t length = 0;  // the key's, if at most kInline (else it is in the arena)
    std::uint8_t flags = 0;
    char key[kInline];
  };
  static_assert(sizeof(Slot) == 64);

  ClientTable();

  void prefetch(std::uint64_t hash) const {
    __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]);
  }
  // The slot of `key` (hash: hash_bytes(key)), nullptr if it is not there.
  Slot* find(std::string_view key, std::uint64_t hash);
  // The slot of `key`, added with the next number if it was not there. References
  // to slots end at the next add().
  Slot& add(std::string_view key, std::uint64_t hash, bool& added);

  std::string_view text(std::uint32_t id) const { return texts_[id]; }
  std::size_t size() const { return texts_.size(); }
  // Each client's flags, by number (for the summary).
  std::vector<std::uint8_t> flags_by_id() const;

 private:
  std::size_t probe(std::string_view key, std::uint64_t hash) const;
  bool matches(const Slot& s, std::uint64_t hash, std::string_view key) const;
  void grow();

  std::vector<Slot, policy::HugePageAllocator<Slot>> slots_;  // a power of two, at most half full
  std::vector<std::string_view> texts_;
  std::vector<std::unique_ptr<char[]>> chunks_;
  std::size_t chunk_used_ = 0;
};

}  // namespace tlsgate::report
