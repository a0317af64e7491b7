// Distinct strings numbered 0, 1, 2, ... in the order first seen: an open-addressing
// hash table whose slots are one cache line each and hold a key of up to 48 bytes
// themselves (any client address), so that a lookup, the report's most frequent
// operation, reads one cache line; longer keys live in an arena. The texts never move.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "policy/huge_pages.h"

namespace tlsgate::report {

// A fast 64-bit hash of short strings (addresses, names); not for hostile-collision
// resistance (the keys of one report come from one's own files).
std::uint64_t hash_bytes(std::string_view key);

class StringTable {
 public:
  StringTable();

  // The number of `key`, given a new one if it was not there (`added` says so).
  std::uint32_t intern(std::string_view key, bool* added = nullptr) {
    return intern(key, hash_bytes(key), added);
  }
  std::optional<std::uint32_t> find(std::string_view key) const {
    return find(key, hash_bytes(key));
  }
  // The same with the key's hash_bytes() at hand: a caller that streams keys
  // hashes one ahead, prefetch()es its slot, and looks it up when it has arrived.
  std::uint32_t intern(std::string_view key, std::uint64_t hash, bool* added);
  std::optional<std::uint32_t> find(std::string_view key, std::uint64_t hash) const;
  void prefetch(std::uint64_t hash) const {
    __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]);
  }
  // Valid for the life of the table.
  std::string_view text(std::uint32_t id) const { return texts_[id]; }
  std::size_t size() const { return texts_.size(); }

 private:
  static constexpr std::size_t kInline = 48;
  static constexpr std::uint32_t kEmpty = 0xffffffff;
  struct alignas(64) Slot {
    std::uint64_t hash = 0;
    std::uint32_t id = kEmpty;
    std::uint32_t length = 0;
    char key[kInline];  // the key if length <= kInline
  };

  bool matches(const Slot& s, std::uint64_t hash, std::string_view key) const;
  std::size_t probe(std::string_view key, std::uint64_t hash) const;  // its slot or an empty one
  std::string_view store(std::string_view key);
  void grow();

  // A power of two, at most half full; in huge pages once 2 MiB or more (a lookup
  // lands anywhere in it: with 4 KiB pages each one would also miss the TLB).
  std::vector<Slot, policy::HugePageAllocator<Slot>> slots_;
  std::vector<std::string_view> texts_;
  std::vector<std::unique_ptr<char[]>> chunks_;
  std::vector<std::unique_ptr<char[]>> long_texts_;
  std::size_t chunk_used_ = 0;
};

}  // namespace tlsgate::report
