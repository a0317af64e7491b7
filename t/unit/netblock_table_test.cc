// NetblockTable: longest-prefix match, the combine/parent callback, duplicates, and a
// randomised cross-check against a naive reference.
#include "policy/netblock_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "t/unit/test_support.h"

namespace tlsgate::policy {
namespace {

using testing::addr;
using testing::prefix;

constexpr std::uint32_t kNone = NetblockTable::kNone;

struct Block {
  const char* cidr;
  std::uint32_t payload;
};

std::vector<NetblockTable::Entry> entries_of(const std::vector<Block>& blocks) {
  std::vector<NetblockTable::Entry> entries;
  for (const Block& b : blocks) entries.push_back({prefix(b.cidr), b.payload});
  return entries;
}

// The plain longest-prefix table: each entry's value is its payload.
NetblockTable plain_table(const std::vector<Block>& blocks) {
  return NetblockTable::build(
      entries_of(blocks), [](std::uint32_t payload, std::uint32_t) { return payload; },
      [](std::size_t earlier, std::size_t later) {
        ADD_FAILURE() << "unexpected duplicate " << earlier << ", " << later;
      });
}

struct Lookup {
  const char* address;
  std::uint32_t expected;
};

struct LpmCase {
  std::string name;
  std::vector<Block> blocks;
  std::vector<Lookup> lookups;
};

void PrintTo(const LpmCase& c, std::ostream* os) { *os << c.name; }

class NetblockLpm : public ::testing::TestWithParam<LpmCase> {};

TEST_P(NetblockLpm, LongestPrefixWins) {
  const LpmCase& c = GetParam();
  // The order the entries come in must not matter: try it as given and reversed.
  std::vector<Block> reversed(c.blocks.rbegin(), c.blocks.rend());
  for (const std::vector<Block>* blocks : {&c.blocks, &std::as_const(reversed)}) {
    const NetblockTable table = plain_table(*blocks);
    for (const Lookup& l : c.lookups) {
      const std::uint32_t got = table.lookup(addr(l.address));
      EXPECT_EQ(got, l.expected) << c.name << ": " << l.address
                                 << (blocks == &reversed ? " (entries reversed)" : "");
    }
  }
}

const std::string kTop6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";

INSTANTIATE_TEST_SUITE_P(
    Table, NetblockLpm,
    ::testing::Values(
        LpmCase{"nested_v4",
                {{"10.0.0.0/8", 1},
                 {"10.1.0.0/16", 2},
                 {"10.1.7.0/24", 3},
                 {"10.1.7.128/25", 4},
                 {"10.1.7.200/32", 5},
                 {"10.255.255.255/32", 6},
                 {"10.2.0.0/15", 7}},
                {{"9.255.255.255", kNone}, {"10.0.0.0", 1},
                 {"10.0.255.255", 1},      {"10.1.0.0", 2},
                 {"10.1.6.255", 2},        {"10.1.7.0", 3},
                 {"10.1.7.127", 3},        {"10.1.7.128", 4},
                 {"10.1.7.199", 4},        {"10.1.7.200", 5},
                 {"10.1.7.201", 4},        {"10.1.7.255", 4},
                 {"10.1.8.0", 2},          {"10.1.255.255", 2},
                 {"10.2.0.0", 7},          {"10.3.255.255", 7},
                 {"10.4.0.0", 1},          {"10.255.255.254", 1},
                 {"10.255.255.255", 6},    {"11.0.0.0", kNone},
                 {"0.0.0.0", kNone},       {"255.255.255.255", kNone},
                 {"2001:db8::1", kNone},   {"::ffff:10.1.7.200", 5}}},
        LpmCase{"same_start_nested",
                {{"192.168.0.0/16", 1},
                 {"192.168.0.0/24", 2},
                 {"192.168.0.0/32", 3},
                 {"192.168.0.0/31", 4}},
                {{"192.168.0.0", 3},
                 {"192.168.0.1", 4},
                 {"192.168.0.2", 2},
                 {"192.168.0.255", 2},
                 {"192.168.1.0", 1},
                 {"192.168.255.255", 1},
                 {"192.167.255.255", kNone},
                 {"192.169.0.0", kNone}}},
        LpmCase{"adjacent_siblings",
                {{"172.16.0.0/13", 1}, {"172.24.0.0/13", 2}, {"172.16.0.0/12", 3}},
                {{"172.15.255.255", kNone},
                 {"172.16.0.0", 1},
                 {"172.23.255.255", 1},
                 {"172.24.0.0", 2},
                 {"172.31.255.255", 2},
                 {"172.32.0.0", kNone}}},
        LpmCase{"siblings_same_value_with_gap",
                {{"198.51.100.0/24", 1}, {"198.51.102.0/24", 1}},
                {{"198.51.100.1", 1}, {"198.51.101.1", kNone}, {"198.51.102.255", 1}}},
        LpmCase{"nested_v6",
                {{"2001:db8::/32", 1},
                 {"2001:db8:1::/48", 2},
                 {"2001:db8:1:2::/64", 3},
                 {"2001:db8:1:2::1/128", 4},
                 {"2001:db8:1:2:8000::/65", 5},
                 {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff/128", 6}},
                {{"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", kNone},
                 {"2001:db8::", 1},
                 {"2001:db8:0:ffff::", 1},
                 {"2001:db8:1::", 2},
                 {"2001:db8:1:1:ffff:ffff:ffff:ffff", 2},
                 {"2001:db8:1:2::", 3},
                 {"2001:db8:1:2::1", 4},
                 {"2001:db8:1:2::2", 3},
                 {"2001:db8:1:2:7fff:ffff:ffff:ffff", 3},
                 {"2001:db8:1:2:8000::", 5},
                 {"2001:db8:1:2:ffff:ffff:ffff:ffff", 5},
                 {"2001:db8:1:3::", 2},
                 {"2001:db8:2::", 1},
                 {"2001:db8:ffff:ffff:ffff:ffff:ffff:fffe", 1},
                 {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 6},
                 {"2001:db9::", kNone},
                 {"::", kNone},
                 {kTop6.c_str(), kNone},
                 {"32.1.13.184", kNone}}},  // the same first bytes, but IPv4
        LpmCase{"zero_length_both_families",
                {{"0.0.0.0/0", 1}, {"::/0", 2}, {"192.0.2.0/24", 3}, {"2001:db8::/32", 4}},
                {{"0.0.0.0", 1},
                 {"1.2.3.4", 1},
                 {"192.0.2.9", 3},
                 {"192.0.3.0", 1},
                 {"255.255.255.255", 1},
                 {"::", 2},
                 {"::1", 2},
                 {"2001:db8::5", 4},
                 {"2001:db9::", 2},
                 {kTop6.c_str(), 2},
                 {"::ffff:1.2.3.4", 1}}},
        LpmCase{"zero_length_v4_only",
                {{"0.0.0.0/0", 1}},
                {{"0.0.0.0", 1}, {"255.255.255.255", 1}, {"::", kNone}, {"::1", kNone}}},
        LpmCase{"zero_length_v6_only",
                {{"::/0", 1}},
                {{"0.0.0.0", kNone}, {"10.0.0.1", kNone}, {"::", 1}, {kTop6.c_str(), 1}}},
        LpmCase{"hosts",
                {{"192.0.2.1/32", 1}, {"192.0.2.3/32", 2}, {"2001:db8::1/128", 3}},
                {{"192.0.2.0", kNone},
                 {"192.0.2.1", 1},
                 {"192.0.2.2", kNone},
                 {"192.0.2.3", 2},
                 {"192.0.2.4", kNone},
                 {"2001:db8::", kNone},
                 {"2001:db8::1", 3},
                 {"2001:db8::2", kNone}}},
        LpmCase{"top_of_space_v4",
                {{"255.255.255.255/32", 1},
                 {"255.255.255.0/24", 2},
                 {"128.0.0.0/1", 3},
                 {"0.0.0.0/32", 4}},
                {{"255.255.255.255", 1},
                 {"255.255.255.254", 2},
                 {"255.255.255.0", 2},
                 {"255.255.254.255", 3},
                 {"128.0.0.0", 3},
                 {"127.255.255.255", kNone},
                 {"0.0.0.0", 4},
                 {"0.0.0.1", kNone}}},
        LpmCase{"top_of_space_v4_host_alone",
                {{"255.255.255.255/32", 1}},
                {{"255.255.255.255", 1}, {"255.255.255.254", kNone}, {"0.0.0.0", kNone}}},
        LpmCase{"top_of_space_v6",
                {{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", 1},
                 {"ffff::/16", 2},
                 {"8000::/1", 3},
                 {"::/128", 4}},
                {{kTop6.c_str(), 1},
                 {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 2},
                 {"ffff::", 2},
                 {"fffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 3},
                 {"8000::", 3},
                 {"7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kNone},
                 {"::", 4},
                 {"::1", kNone}}},
        LpmCase{"top_of_space_v6_host_alone",
                {{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", 1}},
                {{kTop6.c_str(), 1},
                 {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", kNone},
                 {"::", kNone}}},
        LpmCase{"bucket_edges",  // prefixes that end exactly at a 16-bit bucket boundary
                {{"10.0.0.0/15", 1},
                 {"10.1.255.255/32", 2},
                 {"10.2.0.0/32", 3},
                 {"2001:db8::/31", 4},
                 {"2001:db9:ffff:ffff:ffff:ffff:ffff:ffff/128", 5}},
                {{"10.1.255.254", 1},
                 {"10.1.255.255", 2},
                 {"10.2.0.0", 3},
                 {"10.2.0.1", kNone},
                 {"9.255.255.255", kNone},
                 {"2001:db9:ffff:ffff:ffff:ffff:ffff:fffe", 4},
                 {"2001:db9:ffff:ffff:ffff:ffff:ffff:ffff", 5},
                 {"2001:dba::", kNone}}}),
    [](const auto& info) { return info.param.name; });

TEST(NetblockTable, EmptyTableMissesEverything) {
  const NetblockTable empty;
  const NetblockTable built = plain_table({});
  for (const char* a : {"0.0.0.0", "192.0.2.1", "255.255.255.255", "::", "2001:db8::1",
                        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}) {
    EXPECT_EQ(empty.lookup(addr(a)), kNone) << a;
    EXPECT_EQ(built.lookup(addr(a)), kNone) << a;
  }
}

// The combine callback: every entry is told the value of its nearest enclosing entry,
// which is how a section inherits from the section of the enclosing netblock.
TEST(NetblockTable, CombineSeesNearestEnclosingValue) {
  // Listed children first, so nothing depends on the input order.
  const std::vector<Block> blocks = {
      {"10.1.7.0/24", 3},   {"10.1.0.0/16", 2}, {"10.0.0.0/8", 1},        {"10.2.0.0/16", 4},
      {"10.0.0.0/16", 5},   {"11.0.0.0/8", 6},  {"2001:db8:1::/48", 7},   {"::/0", 8},
      {"2001:db8::/32", 9}, {"0.0.0.0/0", 10},  {"2001:db8:1::1/128", 11}};
  struct Node {
    std::uint32_t payload;
    std::uint32_t parent;  // a value returned earlier, or kNone
  };
  std::vector<Node> nodes;
  const NetblockTable table = NetblockTable::build(
      entries_of(blocks),
      [&](std::uint32_t payload, std::uint32_t parent) {
        // The parent must be a value this callback returned before.
        EXPECT_TRUE(parent == kNone || parent < nodes.size()) << "payload " << payload;
        nodes.push_back({payload, parent});
        return static_cast<std::uint32_t>(nodes.size() - 1);
      },
      [](std::size_t, std::size_t) { ADD_FAILURE() << "no duplicates here"; });
  EXPECT_EQ(nodes.size(), blocks.size()) << "combine is called once per distinct prefix";

  auto chain = [&](const char* a) {
    std::vector<std::uint32_t> payloads;
    for (std::uint32_t v = table.lookup(addr(a)); v != kNone; v = nodes.at(v).parent) {
      payloads.push_back(nodes.at(v).payload);
      if (payloads.size() > nodes.size()) break;  // a cycle would be a bug
    }
    return payloads;
  };
  using V = std::vector<std::uint32_t>;
  EXPECT_EQ(chain("10.1.7.9"), (V{3, 2, 1, 10}));
  EXPECT_EQ(chain("10.1.8.9"), (V{2, 1, 10}));
  EXPECT_EQ(chain("10.2.0.1"), (V{4, 1, 10}));  // a sibling: its parent is the /8, not 10.1/16
  EXPECT_EQ(chain("10.0.0.1"), (V{5, 1, 10}));  // same start as the /8, nested in it
  EXPECT_EQ(chain("10.3.0.1"), (V{1, 10}));
  EXPECT_EQ(chain("11.9.9.9"), (V{6, 10}));
  EXPECT_EQ(chain("12.0.0.1"), (V{10}));
  EXPECT_EQ(chain("2001:db8:1::1"), (V{11, 7, 9, 8}));
  EXPECT_EQ(chain("2001:db8:1::2"), (V{7, 9, 8}));
  EXPECT_EQ(chain("2001:db8:2::"), (V{9, 8}));
  EXPECT_EQ(chain("2001:db9::"), (V{8}));
}

// The index keeps a bucket's value in the bucket when it fits beside the tag bit;
// other values, kNone and values near it included, must still come back exactly.
TEST(NetblockTable, ValuesOfEveryMagnitude) {
  const std::vector<std::uint32_t> values = {0,          1,          0x7ffffffd, 0x7ffffffe,
                                             0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe};
  std::vector<Block> blocks;
  std::vector<std::string> cidrs;
  for (std::size_t i = 0; i < values.size(); ++i) {
    cidrs.push_back("10." + std::to_string(i) + ".0.0/16");
    cidrs.push_back("2001:db8:" + std::to_string(i) + "::/48");
  }
  for (std::size_t i = 0; i < cidrs.size(); ++i)
    blocks.push_back({cidrs[i].c_str(), values[i / 2]});
  const NetblockTable table = plain_table(blocks);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string n = std::to_string(i);
    EXPECT_EQ(table.lookup(addr(("10." + n + ".0.0").c_str())), values[i]) << i;
    EXPECT_EQ(table.lookup(addr(("10." + n + ".255.255").c_str())), values[i]) << i;
    EXPECT_EQ(table.lookup(addr(("2001:db8:" + n + "::").c_str())), values[i]) << i;
    EXPECT_EQ(table.lookup(addr(("2001:db8:" + n + ":ffff::1").c_str())), values[i]) << i;
  }
  EXPECT_EQ(table.lookup(addr("10.200.0.0")), kNone);
  EXPECT_EQ(table.lookup(addr("9.255.255.255")), kNone);
  EXPECT_EQ(table.lookup(addr("2001:db8:ff::")), kNone);
}

// The index covers only the span the ranges lie in (here 2001:db8::/32 and
// 192.0.2.0/24): addresses below and above it, and at its edges.
TEST(NetblockTable, AddressesOutsideTheIndexedSpan) {
  const NetblockTable table = plain_table({{"2001:db8:1::/48", 1},
                                           {"2001:db8:ffff::/48", 2},
                                           {"192.0.2.0/25", 3},
                                           {"192.0.2.255/32", 4}});
  const std::vector<Lookup> lookups = {
      {"::", kNone},
      {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", kNone},
      {"2001:db8::", kNone},
      {"2001:db8:1::", 1},
      {"2001:db8:1:ffff:ffff:ffff:ffff:ffff", 1},
      {"2001:db8:2::", kNone},
      {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 2},
      {"2001:db9::", kNone},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kNone},
      {"0.0.0.0", kNone},
      {"192.0.1.255", kNone},
      {"192.0.2.0", 3},
      {"192.0.2.127", 3},
      {"192.0.2.128", kNone},
      {"192.0.2.254", kNone},
      {"192.0.2.255", 4},
      {"192.0.3.0", kNone},
      {"255.255.255.255", kNone},
  };
  for (const Lookup& l : lookups) EXPECT_EQ(table.lookup(addr(l.address)), l.expected) << l.address;
  // A single host: a span of one address.
  const NetblockTable host = plain_table({{"192.0.2.7/32", 9}, {"2001:db8::7/128", 8}});
  EXPECT_EQ(host.lookup(addr("192.0.2.7")), 9u);
  EXPECT_EQ(host.lookup(addr("192.0.2.6")), kNone);
  EXPECT_EQ(host.lookup(addr("192.0.2.8")), kNone);
  EXPECT_EQ(host.lookup(addr("2001:db8::7")), 8u);
  EXPECT_EQ(host.lookup(addr("2001:db8::6")), kNone);
  EXPECT_EQ(host.lookup(addr("2001:db8::8")), kNone);
  // The whole space.
  const NetblockTable all = plain_table({{"0.0.0.0/0", 5}, {"::/0", 6}, {"255.255.255.255/32", 7}});
  EXPECT_EQ(all.lookup(addr("0.0.0.0")), 5u);
  EXPECT_EQ(all.lookup(addr("255.255.255.254")), 5u);
  EXPECT_EQ(all.lookup(addr("255.255.255.255")), 7u);
  EXPECT_EQ(all.lookup(addr("::")), 6u);
  EXPECT_EQ(all.lookup(addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")), 6u);
}

TEST(NetblockTable, DuplicatesReportedEarlierLaterAndLeftOut) {
  const std::vector<Block> blocks = {
      {"10.0.0.0/8", 0},           // 0
      {"192.0.2.0/24", 1},         // 1
      {"10.0.0.0/8", 2},           // 2: duplicate of 0
      {"::/0", 3},                 // 3
      {"192.0.2.0/24", 4},         // 4: duplicate of 1
      {"10.0.0.0/8", 5},           // 5: duplicate of 0
      {"::/0", 6},                 // 6: duplicate of 3
      {"::ffff:10.0.0.0/104", 7},  // 7: 10.0.0.0/8 again, written as mapped IPv6
      {"10.0.0.0/9", 8},           // 8: not a duplicate
      {"2001:db8::/32", 9},        // 9
      {"2001:db8::/32", 10},       // 10: duplicate of 9
  };
  std::set<std::pair<std::size_t, std::size_t>> reported;
  std::vector<std::uint32_t> combined;
  const NetblockTable table = NetblockTable::build(
      entries_of(blocks),
      [&](std::uint32_t payload, std::uint32_t) {
        combined.push_back(payload);
        return payload;
      },
      [&](std::size_t earlier, std::size_t later) {
        EXPECT_LT(earlier, later);
        EXPECT_TRUE(reported.insert({earlier, later}).second) << earlier << ", " << later;
      });
  const std::set<std::pair<std::size_t, std::size_t>> expected = {{0, 2}, {0, 5}, {0, 7},
                                                                  {1, 4}, {3, 6}, {9, 10}};
  EXPECT_EQ(reported, expected);
  std::sort(combined.begin(), combined.end());
  EXPECT_EQ(combined, (std::vector<std::uint32_t>{0, 1, 3, 8, 9}))
      << "duplicates are left out of the table";
  // The earlier entry's value stands.
  EXPECT_EQ(table.lookup(addr("10.200.0.1")), 0u);
  EXPECT_EQ(table.lookup(addr("10.1.0.1")), 8u);
  EXPECT_EQ(table.lookup(addr("192.0.2.1")), 1u);
  EXPECT_EQ(table.lookup(addr("::1")), 3u);
  EXPECT_EQ(table.lookup(addr("2001:db8::1")), 9u);
}

// ---------------------------------------------------------------------------
// Randomised cross-check.

using U128 = unsigned __int128;

struct RandomPrefix {
  bool v6;
  U128 key;  // host bits clear; IPv4 in the low 32 bits
  unsigned length;
};

unsigned width_of(bool v6) { return v6 ? 128 : 32; }

U128 mask_of(bool v6, unsigned length) {
  const unsigned width = width_of(v6);
  if (length == 0) return 0;
  const U128 all = v6 ? ~U128{0} : U128{0xffffffffu};
  return all & ~((U128{1} << (width - length)) - 1) & all;
}

U128 host_mask(bool v6, unsigned length) {
  const U128 all = v6 ? ~U128{0} : U128{0xffffffffu};
  return all & ~mask_of(v6, length);
}

Address to_address(bool v6, U128 key) {
  Address a;
  a.family = v6 ? Family::v6 : Family::v4;
  const unsigned n = v6 ? 16 : 4;
  for (unsigned i = 0; i < n; ++i) {
    a.bytes[i] = static_cast<std::uint8_t>(key >> (8 * (n - 1 - i)));
  }
  return a;
}

struct U128Hash {
  std::size_t operator()(U128 k) const {
    const auto lo = static_cast<std::uint64_t>(k);
    const auto hi = static_cast<std::uint64_t>(k >> 64);
    return std::hash<std::uint64_t>{}(lo ^ (hi * 0x9e3779b97f4a7c15ULL));
  }
};

// The reference: for each family, one hash set per prefix length; a lookup masks the
// address to each length, longest first, and takes the first hit. The value of a
// prefix listed more than once is the first listing's.
class Reference {
 public:
  explicit Reference(const std::vector<RandomPrefix>& prefixes) {
    for (std::size_t i = 0; i < prefixes.size(); ++i) {
      const RandomPrefix& p = prefixes[i];
      auto& by_len = p.v6 ? v6_ : v4_;
      if (by_len[p.length].try_emplace(p.key, static_cast<std::uint32_t>(i)).second) {
        ++distinct_;
      }
    }
    for (bool v6 : {false, true}) {
      auto& lengths = v6 ? lengths6_ : lengths4_;
      const auto& by_len = v6 ? v6_ : v4_;
      for (int len = static_cast<int>(width_of(v6)); len >= 0; --len) {
        if (!by_len[static_cast<unsigned>(len)].empty()) lengths.push_back(len);
      }
    }
  }
  std::uint32_t lookup(bool v6, U128 key) const {
    const auto& by_len = v6 ? v6_ : v4_;
    for (const int len : v6 ? lengths6_ : lengths4_) {
      const auto& set = by_len[static_cast<unsigned>(len)];
      const auto it = set.find(key & mask_of(v6, static_cast<unsigned>(len)));
      if (it != set.end()) return it->second;
    }
    return kNone;
  }
  std::size_t distinct() const { return distinct_; }
  // Every listed prefix containing the address (first listings), longest first.
  std::vector<std::uint32_t> chain(bool v6, U128 key) const {
    std::vector<std::uint32_t> out;
    const auto& by_len = v6 ? v6_ : v4_;
    for (const int len : v6 ? lengths6_ : lengths4_) {
      const auto& set = by_len[static_cast<unsigned>(len)];
      const auto it = set.find(key & mask_of(v6, static_cast<unsigned>(len)));
      if (it != set.end()) out.push_back(it->second);
    }
    return out;
  }
  // How many listed prefixes strictly enclose `p`.
  std::size_t enclosing(const RandomPrefix& p) const {
    const auto& by_len = p.v6 ? v6_ : v4_;
    std::size_t n = 0;
    for (unsigned len = 0; len < p.length; ++len) {
      n += by_len[len].count(p.key & mask_of(p.v6, len));
    }
    return n;
  }

 private:
  using Map = std::unordered_map<U128, std::uint32_t, U128Hash>;
  std::array<Map, 129> v4_;  // lengths 0..32 used
  std::array<Map, 129> v6_;
  std::vector<int> lengths4_, lengths6_;
  std::size_t distinct_ = 0;
};

// The most naive reference of all, to check the hashed one: scan every prefix.
std::uint32_t linear_lookup(const std::vector<RandomPrefix>& prefixes, bool v6, U128 key) {
  std::uint32_t best = kNone;
  int best_len = -1;
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    const RandomPrefix& p = prefixes[i];
    if (p.v6 != v6 || static_cast<int>(p.length) <= best_len) continue;
    if ((key & mask_of(v6, p.length)) == p.key) {
      best = static_cast<std::uint32_t>(i);
      best_len = static_cast<int>(p.length);
    }
  }
  return best;
}

// The random prefixes and addresses, made once for the tests below (fixed seed).
struct RandomData {
  std::vector<RandomPrefix> prefixes;
  std::vector<std::pair<bool, U128>> queries;
  std::unique_ptr<Reference> reference;

  std::vector<NetblockTable::Entry> entries(
      const std::function<std::uint32_t(std::size_t)>& payload) const {
    std::vector<NetblockTable::Entry> out;
    out.reserve(prefixes.size());
    for (std::size_t i = 0; i < prefixes.size(); ++i) {
      const RandomPrefix& p = prefixes[i];
      out.push_back({{to_address(p.v6, p.key), static_cast<std::uint8_t>(p.length)}, payload(i)});
    }
    return out;
  }
};

const RandomData& random_data() {
  static const RandomData data = [] {
    RandomData d;
    std::mt19937_64 rng(0x7153'6a7e'2024'0001ULL);
    auto random128 = [&] { return (U128{rng()} << 64) | rng(); };
    auto random_key = [&](bool v6) { return v6 ? random128() : U128{rng() & 0xffffffffu}; };
    auto uniform = [&](unsigned lo, unsigned hi) {
      return std::uniform_int_distribution<unsigned>(lo, hi)(rng);
    };

    // A few bases per family; prefixes are derived from them so that they nest deeply:
    // each one is a base with random bits flipped below some depth, then masked.
    constexpr int kBases = 12;
    std::vector<U128> bases4, bases6;
    for (int i = 0; i < kBases; ++i) {
      bases4.push_back(random_key(false));
      bases6.push_back(random_key(true));
    }
    constexpr std::size_t kPrefixes = 170'000;
    d.prefixes.reserve(kPrefixes);
    while (d.prefixes.size() < kPrefixes) {
      const bool v6 = rng() % 2 == 1;
      const unsigned min_len = v6 ? 16 : 8;
      const unsigned length = uniform(min_len, width_of(v6));
      const unsigned roll = uniform(0, 99);
      U128 key;
      if (roll < 5) {
        key = random_key(v6);  // unrelated to any base
      } else {
        const U128 base = v6 ? bases6[rng() % kBases] : bases4[rng() % kBases];
        // Flip bits only after `depth`: the prefixes share the base's first `depth` bits,
        // so they form trees with shared ancestors (depth = width: the base's own chain).
        const unsigned depth = roll < 15 ? width_of(v6) : uniform(min_len, length);
        key = base ^ (random_key(v6) & host_mask(v6, depth));
      }
      d.prefixes.push_back({v6, key & mask_of(v6, length), length});
    }
    d.reference = std::make_unique<Reference>(d.prefixes);

    // Addresses: inside random prefixes (hits at every depth), both ends of prefixes and
    // just outside them (range boundaries), and anywhere (mostly misses).
    constexpr std::size_t kQueries = 150'000;
    d.queries.reserve(kQueries + 4);
    while (d.queries.size() < kQueries) {
      const RandomPrefix& p = d.prefixes[rng() % d.prefixes.size()];
      const U128 all = p.v6 ? ~U128{0} : U128{0xffffffffu};
      const U128 last = p.key | host_mask(p.v6, p.length);
      switch (rng() % 6) {
        case 0:
          d.queries.push_back({p.v6, p.key | (random_key(p.v6) & host_mask(p.v6, p.length))});
          break;
        case 1: d.queries.push_back({p.v6, p.key}); break;
        case 2: d.queries.push_back({p.v6, last}); break;
        case 3: d.queries.push_back({p.v6, (last + 1) & all}); break;
        case 4: d.queries.push_back({p.v6, (p.key - 1) & all}); break;
        default: {
          const bool v6 = rng() % 2 == 1;
          d.queries.push_back({v6, random_key(v6)});
        }
      }
    }
    // The extremes of both families.
    d.queries.push_back({false, 0});
    d.queries.push_back({false, 0xffffffffu});
    d.queries.push_back({true, 0});
    d.queries.push_back({true, ~U128{0}});
    return d;
  }();
  return data;
}

std::string describe(const RandomData& d, std::uint32_t index) {
  if (index == kNone) return "none";
  const RandomPrefix& p = d.prefixes[index];
  return to_address(p.v6, p.key).to_string() + "/" + std::to_string(p.length);
}

TEST(NetblockTableRandom, TheDataIsWorthTesting) {
  const RandomData& d = random_data();
  const Reference& reference = *d.reference;
  EXPECT_GE(d.prefixes.size(), 100'000u);
  EXPECT_GE(d.queries.size(), 100'000u);
  EXPECT_GT(reference.distinct(), 100'000u) << "many distinct prefixes";
  // The prefixes really nest.
  std::size_t nested = 0, deepest = 0;
  for (std::size_t i = 0; i < 2'000; ++i) {
    const std::size_t depth = reference.enclosing(d.prefixes[i]);
    nested += depth > 0 ? 1 : 0;
    deepest = std::max(deepest, depth);
  }
  EXPECT_GT(nested, 1'000u);
  EXPECT_GE(deepest, 20u);
  // The queries hit at many depths, and miss.
  std::size_t hits = 0, misses = 0;
  std::vector<std::size_t> hits_by_length(129, 0);
  for (const auto& [v6, key] : d.queries) {
    const std::uint32_t expected = reference.lookup(v6, key);
    if (expected == kNone) {
      ++misses;
    } else {
      ++hits;
      ++hits_by_length[d.prefixes[expected].length];
    }
  }
  EXPECT_GT(misses, 5'000u);
  EXPECT_GT(hits, 50'000u);
  const auto depths = std::count_if(hits_by_length.begin(), hits_by_length.end(),
                                    [](std::size_t n) { return n > 0; });
  EXPECT_GT(depths, 100) << "hits at many prefix lengths";
  // The hashed reference agrees with a linear scan, on a sample.
  for (std::size_t i = 0; i < 300; ++i) {
    const auto& [v6, key] = d.queries[(i * 7919) % d.queries.size()];
    ASSERT_EQ(reference.lookup(v6, key), linear_lookup(d.prefixes, v6, key))
        << to_address(v6, key).to_string();
  }
}

// Every prefix its own value: the table must find exactly the longest match, and the
// first listing of a prefix given more than once.
TEST(NetblockTableRandom, MatchesNaiveReference) {
  const RandomData& d = random_data();
  std::size_t duplicates = 0;
  const NetblockTable table = NetblockTable::build(
      d.entries([](std::size_t i) { return static_cast<std::uint32_t>(i); }),
      [](std::uint32_t payload, std::uint32_t) { return payload; },
      [&](std::size_t earlier, std::size_t later) {
        ++duplicates;
        const RandomPrefix& a = d.prefixes[earlier];
        const RandomPrefix& b = d.prefixes[later];
        EXPECT_TRUE(a.v6 == b.v6 && a.key == b.key && a.length == b.length && earlier < later);
      });
  EXPECT_EQ(duplicates, d.prefixes.size() - d.reference->distinct());

  std::size_t mismatches = 0;
  for (const auto& [v6, key] : d.queries) {
    const std::uint32_t expected = d.reference->lookup(v6, key);
    const std::uint32_t got = table.lookup(to_address(v6, key));
    if (got != expected && ++mismatches <= 10) {
      ADD_FAILURE() << to_address(v6, key).to_string() << ": table says " << describe(d, got)
                    << ", reference " << describe(d, expected);
    }
  }
  EXPECT_EQ(mismatches, 0u);
}

// Few distinct values (as with a handful of sections): neighbouring ranges often carry
// the same value, which the table merges; lookups must not change.
TEST(NetblockTableRandom, FewValuesMatchNaiveReference) {
  const RandomData& d = random_data();
  const NetblockTable table = NetblockTable::build(
      d.entries([](std::size_t i) { return static_cast<std::uint32_t>(i % 3); }),
      [](std::uint32_t payload, std::uint32_t) { return payload; },
      [](std::size_t, std::size_t) {});
  std::size_t mismatches = 0;
  for (const auto& [v6, key] : d.queries) {
    const std::uint32_t match = d.reference->lookup(v6, key);
    const std::uint32_t expected = match == kNone ? kNone : match % 3;
    const std::uint32_t got = table.lookup(to_address(v6, key));
    if (got != expected && ++mismatches <= 10) {
      ADD_FAILURE() << to_address(v6, key).to_string() << ": table says " << got << ", reference "
                    << expected << " from " << describe(d, match);
    }
  }
  EXPECT_EQ(mismatches, 0u);
}

// The combine callback on random data: the value found for an address must encode the
// chain of every listed prefix that contains it, most specific first.
TEST(NetblockTableRandom, ParentChainsMatchNaiveReference) {
  const RandomData& d = random_data();
  struct Node {
    std::uint32_t payload;
    std::uint32_t parent;
  };
  std::vector<Node> nodes;
  const NetblockTable table = NetblockTable::build(
      d.entries([](std::size_t i) { return static_cast<std::uint32_t>(i); }),
      [&](std::uint32_t payload, std::uint32_t parent) {
        nodes.push_back({payload, parent});
        return static_cast<std::uint32_t>(nodes.size() - 1);
      },
      [](std::size_t, std::size_t) {});
  EXPECT_EQ(nodes.size(), d.reference->distinct());

  std::size_t mismatches = 0;
  for (std::size_t q = 0; q < d.queries.size(); q += 5) {
    const auto& [v6, key] = d.queries[q];
    std::vector<std::uint32_t> got;
    for (std::uint32_t v = table.lookup(to_address(v6, key)); v != kNone; v = nodes[v].parent) {
      got.push_back(nodes[v].payload);
      if (got.size() > 200) break;
    }
    const std::vector<std::uint32_t> expected = d.reference->chain(v6, key);
    if (got != expected && ++mismatches <= 10) {
      ADD_FAILURE() << to_address(v6, key).to_string() << ": chain of " << got.size()
                    << " entries, reference " << expected.size();
    }
  }
  EXPECT_EQ(mismatches, 0u);
}

}  // namespace
}  // namespace tlsgate::policy
