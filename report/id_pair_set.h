// A set of pairs of 32-bit numbers (a domain and a network, a partner and a
// client): open addressing with linear probing over one flat array, at most half
// full, so that an insert reads one cache line nearly always. A node-based set
// (std::unordered_set) costs a pointer chase and an allocation per pair, and the
// pairs can run into millions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tlsgate::report {

class IdPairSet {
 public:
  IdPairSet() : slots_(64) {}

  // Whether the pair was new.
  bool insert(std::uint32_t first, std::uint32_t second) {
    const std::uint64_t key = (std::uint64_t{first} << 32 | second) + 1;  // 0: an empty slot
    if (2 * (size_ + 1) > slots_.size()) grow();
    return place(key);
  }
  std::size_t size() const { return size_; }
  // Fetches the pair's slot, for an insert a few rows later.
  void prefetch(std::uint32_t first, std::uint32_t second) const {
    const std::uint64_t key = (std::uint64_t{first} << 32 | second) + 1;
    __builtin_prefetch(&slots_[mix(key) & (slots_.size() - 1)]);
  }

 private:
  static std::size_t mix(std::uint64_t key) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return static_cast<std::size_t>(key);
  }
  bool place(std::uint64_t key) {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = mix(key) & mask;; i = (i + 1) & mask) {
      if (slots_[i] == key) return false;
      if (slots_[i] == 0) {
        slots_[i] = key;
        ++size_;
        return true;
      }
    }
  }
  void grow() {
    std::vector<std::uint64_t> old(slots_.size() * 2);
    old.swap(slots_);
    size_ = 0;
    for (const std::uint64_t key : old) {
      if (key != 0) place(key);
    }
  }

  std::vector<std::uint64_t> slots_;  // a power of two; key + 1, 0 when empty
  std::size_t size_ = 0;
};

}  // namespace tlsgate::report
