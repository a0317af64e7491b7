// Netblock lookup benchmark: builds a table of N random prefixes (fixed seed,
// ~70 % IPv4 /8-/32, ~30 % IPv6 /16-/128) and times lookups of addresses that
// hit and miss. A first figure for the policy engine; issue "Benchmarks" extends it.
//   build/lookup_bench [N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "policy/netblock_table.h"

using namespace tlsgate::policy;

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100000;
  std::mt19937_64 rng(42);
  std::vector<NetblockTable::Entry> entries;
  for (std::size_t i = 0; i < n; ++i) {
    Address a;
    const bool v4 = rng() % 10 < 7;
    a.family = v4 ? Family::v4 : Family::v6;
    for (unsigned b = 0; b < (v4 ? 4u : 16u); ++b) a.bytes[b] = static_cast<std::uint8_t>(rng());
    const unsigned len = v4 ? 8 + rng() % 25 : 16 + rng() % 113;
    entries.push_back({{mask_address(a, len), static_cast<std::uint8_t>(len)},
                       static_cast<std::uint32_t>(i % 64 + 1)});
  }
  const auto t0 = std::chrono::steady_clock::now();
  const NetblockTable table = NetblockTable::build(
      entries, [](std::uint32_t p, std::uint32_t) { return p; }, [](std::size_t, std::size_t) {});
  const auto t1 = std::chrono::steady_clock::now();

  std::vector<Address> probes;
  for (std::size_t i = 0; i < 1000000; ++i) {
    Address a = entries[rng() % entries.size()].prefix.address;              // a hit, at its depth
    if (i % 4 == 0) a.bytes[rng() % 4] ^= static_cast<std::uint8_t>(rng());  // often a miss
    probes.push_back(a);
  }
  std::uint64_t sink = 0;
  std::vector<double> batch_ns;
  constexpr std::size_t kBatch = 10000;
  for (std::size_t s = 0; s < probes.size(); s += kBatch) {
    const auto b0 = std::chrono::steady_clock::now();
    for (std::size_t i = s; i < s + kBatch; ++i) sink += table.lookup(probes[i]);
    const auto b1 = std::chrono::steady_clock::now();
    batch_ns.push_back(std::chrono::duration<double, std::nano>(b1 - b0).count() / kBatch);
  }
  std::sort(batch_ns.begin(), batch_ns.end());
  std::printf("command: build/lookup_bench %zu\n", n);
  std::printf("prefixes=%zu ranges=%zu table_bytes=%zu build_ms=%.1f\n", n, table.range_count(),
              table.memory_bytes(), std::chrono::duration<double, std::milli>(t1 - t0).count());
  std::printf("lookup ns/op over 1,000,000 random addresses (batches of %zu): p50=%.1f p99=%.1f\n",
              kBatch, batch_ns[batch_ns.size() / 2], batch_ns[batch_ns.size() * 99 / 100]);
  return sink == 0xdeadbeef ? 1 : 0;
}
