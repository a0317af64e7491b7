// parse_prefix, mask_address and Prefix::contains.
#include "policy/prefix.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "t/unit/test_support.h"

namespace tlsgate::policy {
namespace {

using namespace std::string_literals;
using testing::addr;

struct GoodCase {
  std::string text;
  std::string canonical;  // Prefix::to_string()
  Family family;
  unsigned length;
};

void PrintTo(const GoodCase& c, std::ostream* os) { *os << c.text; }

class ParsePrefixGood : public ::testing::TestWithParam<GoodCase> {};

TEST_P(ParsePrefixGood, Parses) {
  const GoodCase& c = GetParam();
  auto parsed = parse_prefix(c.text);
  ASSERT_TRUE(std::holds_alternative<Prefix>(parsed))
      << c.text << ": " << std::get<std::string>(parsed);
  const Prefix& p = std::get<Prefix>(parsed);
  EXPECT_EQ(p.to_string(), c.canonical);
  EXPECT_EQ(p.address.family, c.family);
  EXPECT_EQ(p.length, c.length);
  // Host bits are zero, and the canonical text parses back to the same prefix.
  EXPECT_EQ(mask_address(p.address, p.length), p.address);
  auto again = parse_prefix(p.to_string());
  ASSERT_TRUE(std::holds_alternative<Prefix>(again));
  EXPECT_EQ(std::get<Prefix>(again), p);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParsePrefixGood,
    ::testing::Values(GoodCase{"0.0.0.0/0", "0.0.0.0/0", Family::v4, 0},
                      GoodCase{"::/0", "::/0", Family::v6, 0},
                      GoodCase{"192.0.2.0/24", "192.0.2.0/24", Family::v4, 24},
                      GoodCase{"10.0.0.0/8", "10.0.0.0/8", Family::v4, 8},
                      GoodCase{"128.0.0.0/1", "128.0.0.0/1", Family::v4, 1},
                      GoodCase{"192.0.2.128/25", "192.0.2.128/25", Family::v4, 25},
                      GoodCase{"192.0.2.1/32", "192.0.2.1/32", Family::v4, 32},
                      GoodCase{"255.255.255.255/32", "255.255.255.255/32", Family::v4, 32},
                      GoodCase{"0.0.0.0/32", "0.0.0.0/32", Family::v4, 32},
                      // a bare address is a host prefix
                      GoodCase{"192.0.2.1", "192.0.2.1/32", Family::v4, 32},
                      GoodCase{"2001:db8::1", "2001:db8::1/128", Family::v6, 128},
                      GoodCase{"::", "::/128", Family::v6, 128},
                      // IPv6, compressed and not
                      GoodCase{"2001:db8::/32", "2001:db8::/32", Family::v6, 32},
                      GoodCase{"2001:DB8:0::/48", "2001:db8::/48", Family::v6, 48},
                      GoodCase{"2001:0db8:0001:0000:0000:0000:0000:0000/48", "2001:db8:1::/48",
                               Family::v6, 48},
                      GoodCase{"2001:db8:0:1::/64", "2001:db8:0:1::/64", Family::v6, 64},
                      GoodCase{"2001:db8::1/128", "2001:db8::1/128", Family::v6, 128},
                      GoodCase{"2001:db8::/127", "2001:db8::/127", Family::v6, 127},
                      GoodCase{"8000::/1", "8000::/1", Family::v6, 1},
                      GoodCase{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
                               "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", Family::v6, 128},
                      GoodCase{"::ffff:0:0:0/96", "::ffff:0:0:0/96", Family::v6, 96},  // not mapped
                      // IPv4-mapped prefixes become IPv4: the length counts from bit 96
                      GoodCase{"::ffff:192.0.2.0/120", "192.0.2.0/24", Family::v4, 24},
                      GoodCase{"::ffff:c000:200/120", "192.0.2.0/24", Family::v4, 24},
                      GoodCase{"::ffff:192.0.2.1/128", "192.0.2.1/32", Family::v4, 32},
                      GoodCase{"::ffff:192.0.2.1", "192.0.2.1/32", Family::v4, 32},
                      GoodCase{"::ffff:0.0.0.0/96", "0.0.0.0/0", Family::v4, 0},
                      GoodCase{"::ffff:10.0.0.0/104", "10.0.0.0/8", Family::v4, 8},
                      GoodCase{"::ffff:128.0.0.0/97", "128.0.0.0/1", Family::v4, 1}));

struct BadCase {
  std::string text;
  std::string error;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << ::testing::PrintToString(c.text); }

class ParsePrefixBad : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParsePrefixBad, SaysWhatIsWrong) {
  const BadCase& c = GetParam();
  auto parsed = parse_prefix(c.text);
  ASSERT_TRUE(std::holds_alternative<std::string>(parsed))
      << c.text << " parsed as " << std::get<Prefix>(parsed).to_string();
  EXPECT_EQ(std::get<std::string>(parsed), c.error);
}

const std::string kLen32 = ": prefix length must be a number from 0 to 32";
const std::string kLen128 = ": prefix length must be a number from 0 to 128";
const std::string kNotAddress = ": not an IPv4 or IPv6 address";

INSTANTIATE_TEST_SUITE_P(
    Table, ParsePrefixBad,
    ::testing::Values(
        // host bits set: say which prefix was meant
        BadCase{"192.0.2.1/24", "192.0.2.1/24: host bits set; perhaps 192.0.2.0/24"},
        BadCase{"10.1.2.3/8", "10.1.2.3/8: host bits set; perhaps 10.0.0.0/8"},
        BadCase{"192.0.2.129/25", "192.0.2.129/25: host bits set; perhaps 192.0.2.128/25"},
        BadCase{"0.0.0.1/0", "0.0.0.1/0: host bits set; perhaps 0.0.0.0/0"},
        BadCase{"255.255.255.255/31",
                "255.255.255.255/31: host bits set; perhaps 255.255.255.254/31"},
        BadCase{"2001:db8::1/32", "2001:db8::1/32: host bits set; perhaps 2001:db8::/32"},
        BadCase{"::1/0", "::1/0: host bits set; perhaps ::/0"},
        BadCase{"::ffff:192.0.2.1/120",
                "::ffff:192.0.2.1/120: host bits set; perhaps 192.0.2.0/24"},
        // bad lengths
        BadCase{"192.0.2.0/33", "192.0.2.0/33" + kLen32},
        BadCase{"192.0.2.0/-1", "192.0.2.0/-1" + kLen32},
        BadCase{"192.0.2.0/", "192.0.2.0/" + kLen32},
        BadCase{"192.0.2.0/abc", "192.0.2.0/abc" + kLen32},
        BadCase{"192.0.2.0/+24", "192.0.2.0/+24" + kLen32},
        BadCase{"192.0.2.0/ 24", "192.0.2.0/ 24" + kLen32},
        BadCase{"192.0.2.0/24 ", "192.0.2.0/24 " + kLen32},
        BadCase{"192.0.2.0/24x", "192.0.2.0/24x" + kLen32},
        BadCase{"192.0.2.0/2.4", "192.0.2.0/2.4" + kLen32},
        BadCase{"192.0.2.0/24/24", "192.0.2.0/24/24" + kLen32},
        BadCase{"192.0.2.0/0x18", "192.0.2.0/0x18" + kLen32},
        BadCase{"192.0.2.0/4294967320", "192.0.2.0/4294967320" + kLen32},
        BadCase{"192.0.2.0/99999999999999999999999", "192.0.2.0/99999999999999999999999" + kLen32},
        BadCase{"2001:db8::/129", "2001:db8::/129" + kLen128},
        BadCase{"2001:db8::/", "2001:db8::/" + kLen128},
        BadCase{"2001:db8::/-1", "2001:db8::/-1" + kLen128},
        BadCase{"::ffff:192.0.2.0/129", "::ffff:192.0.2.0/129" + kLen128},
        // a mapped prefix shorter than /96 is not an IPv4 prefix
        BadCase{"::ffff:192.0.2.0/95",
                "::ffff:192.0.2.0/95: an IPv4-mapped prefix must be /96 or longer"},
        BadCase{"::ffff:0.0.0.0/0",
                "::ffff:0.0.0.0/0: an IPv4-mapped prefix must be /96 or longer"},
        // not addresses
        BadCase{"not-an-address", "not-an-address" + kNotAddress}, BadCase{"", kNotAddress},
        BadCase{"/24", "/24" + kNotAddress}, BadCase{"192.0.2/24", "192.0.2/24" + kNotAddress},
        BadCase{"192.0.2.0.0/24", "192.0.2.0.0/24" + kNotAddress},
        BadCase{" 192.0.2.0/24", " 192.0.2.0/24" + kNotAddress},
        BadCase{"[2001:db8::]/32", "[2001:db8::]/32" + kNotAddress},
        BadCase{"fe80::%eth0/64", "fe80::%eth0/64" + kNotAddress},
        BadCase{"IPv6:2001:db8::/32", "IPv6:2001:db8::/32" + kNotAddress},
        BadCase{"192.0.2.0\0/24"s, "192.0.2.0\0/24"s + kNotAddress}));

struct MaskCase {
  std::string address;
  unsigned length;
  std::string expected;
};

void PrintTo(const MaskCase& c, std::ostream* os) { *os << c.address << "/" << c.length; }

class MaskAddress : public ::testing::TestWithParam<MaskCase> {};

TEST_P(MaskAddress, ClearsBitsAfterLength) {
  const MaskCase& c = GetParam();
  EXPECT_EQ(mask_address(addr(c.address), c.length), addr(c.expected))
      << c.address << "/" << c.length;
}

INSTANTIATE_TEST_SUITE_P(
    Table, MaskAddress,
    ::testing::Values(
        MaskCase{"255.255.255.255", 0, "0.0.0.0"}, MaskCase{"255.255.255.255", 1, "128.0.0.0"},
        MaskCase{"255.255.255.255", 7, "254.0.0.0"}, MaskCase{"255.255.255.255", 8, "255.0.0.0"},
        MaskCase{"255.255.255.255", 9, "255.128.0.0"},
        MaskCase{"255.255.255.255", 31, "255.255.255.254"},
        MaskCase{"255.255.255.255", 32, "255.255.255.255"}, MaskCase{"192.0.2.77", 24, "192.0.2.0"},
        MaskCase{"192.0.2.77", 26, "192.0.2.64"},
        MaskCase{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, "::"},
        MaskCase{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1, "8000::"},
        MaskCase{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 33, "ffff:ffff:8000::"},
        MaskCase{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 127,
                 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"},
        MaskCase{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128,
                 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
        MaskCase{"2001:db8:1234:5678::1", 36, "2001:db8:1000::"}));

struct ContainsCase {
  std::string prefix;
  std::string address;
  bool inside;
};

void PrintTo(const ContainsCase& c, std::ostream* os) { *os << c.prefix << " " << c.address; }

class PrefixContains : public ::testing::TestWithParam<ContainsCase> {};

TEST_P(PrefixContains, Table) {
  const ContainsCase& c = GetParam();
  EXPECT_EQ(testing::prefix(c.prefix).contains(addr(c.address)), c.inside)
      << c.prefix << " contains " << c.address;
}

INSTANTIATE_TEST_SUITE_P(
    Table, PrefixContains,
    ::testing::Values(ContainsCase{"192.0.2.0/24", "192.0.2.0", true},
                      ContainsCase{"192.0.2.0/24", "192.0.2.255", true},
                      ContainsCase{"192.0.2.0/24", "192.0.3.0", false},
                      ContainsCase{"192.0.2.0/24", "192.0.1.255", false},
                      ContainsCase{"192.0.2.1/32", "192.0.2.1", true},
                      ContainsCase{"192.0.2.1/32", "192.0.2.2", false},
                      ContainsCase{"0.0.0.0/0", "255.255.255.255", true},
                      ContainsCase{"0.0.0.0/0", "::", false},  // families never mix
                      ContainsCase{"::/0", "192.0.2.1", false},
                      ContainsCase{"::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
                      ContainsCase{"2001:db8::/32", "2001:db8:ffff::1", true},
                      ContainsCase{"2001:db8::/32", "2001:db9::", false},
                      ContainsCase{"::ffff:192.0.2.0/120", "::ffff:192.0.2.7", true},
                      ContainsCase{"::ffff:192.0.2.0/120", "192.0.2.7", true},
                      ContainsCase{"192.0.2.0/24", "::192.0.2.7", false}));

}  // namespace
}  // namespace tlsgate::policy
