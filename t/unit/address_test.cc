// Address::parse and Address::from_sockaddr: what a client address may look like.
#include "policy/address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace tlsgate::policy {
namespace {

using namespace std::string_literals;

struct GoodCase {
  std::string text;
  Family family;
  std::vector<std::uint8_t> bytes;  // the significant bytes (4 or 16)
  std::string canonical;            // to_string()
};

void PrintTo(const GoodCase& c, std::ostream* os) { *os << c.text; }

class AddressParseGood : public ::testing::TestWithParam<GoodCase> {};

TEST_P(AddressParseGood, ParsesToBytes) {
  const GoodCase& c = GetParam();
  const auto a = Address::parse(c.text);
  ASSERT_TRUE(a.has_value()) << c.text;
  EXPECT_EQ(a->family, c.family);
  EXPECT_EQ(a->bit_width(), c.family == Family::v4 ? 32u : 128u);
  std::array<std::uint8_t, 16> expected{};
  std::copy(c.bytes.begin(), c.bytes.end(), expected.begin());
  EXPECT_EQ(a->bytes, expected) << c.text;
  EXPECT_EQ(a->to_string(), c.canonical);
  // The canonical text parses back to the same address.
  EXPECT_EQ(Address::parse(a->to_string()), a);
}

const std::vector<std::uint8_t> kMax6(16, 0xff);

INSTANTIATE_TEST_SUITE_P(
    Table, AddressParseGood,
    ::testing::Values(
        GoodCase{"192.0.2.1", Family::v4, {192, 0, 2, 1}, "192.0.2.1"},
        GoodCase{"0.0.0.0", Family::v4, {0, 0, 0, 0}, "0.0.0.0"},
        GoodCase{"255.255.255.255", Family::v4, {255, 255, 255, 255}, "255.255.255.255"},
        GoodCase{"10.1.7.200", Family::v4, {10, 1, 7, 200}, "10.1.7.200"},
        GoodCase{"::", Family::v6, std::vector<std::uint8_t>(16, 0), "::"},
        GoodCase{"::1", Family::v6, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "::1"},
        GoodCase{"1::", Family::v6, {0, 1}, "1::"},
        GoodCase{"2001:db8::1",
                 Family::v6,
                 {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
                 "2001:db8::1"},
        GoodCase{"2001:DB8:0:0:0:0:0:1",
                 Family::v6,
                 {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
                 "2001:db8::1"},
        GoodCase{"2001:0db8:0000:0000:0000:0000:0000:0001",
                 Family::v6,
                 {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
                 "2001:db8::1"},
        GoodCase{
            "2001:db8:0:1::", Family::v6, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1}, "2001:db8:0:1::"},
        GoodCase{"fe80::1:2:3:4",
                 Family::v6,
                 {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0, 3, 0, 4},
                 "fe80::1:2:3:4"},
        GoodCase{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Family::v6, kMax6,
                 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
        // IPv4-mapped IPv6 becomes IPv4, however it is written.
        GoodCase{"::ffff:192.0.2.1", Family::v4, {192, 0, 2, 1}, "192.0.2.1"},
        GoodCase{"::FFFF:192.0.2.1", Family::v4, {192, 0, 2, 1}, "192.0.2.1"},
        GoodCase{"::ffff:c000:201", Family::v4, {192, 0, 2, 1}, "192.0.2.1"},
        GoodCase{"0:0:0:0:0:ffff:192.0.2.1", Family::v4, {192, 0, 2, 1}, "192.0.2.1"},
        GoodCase{"::ffff:0.0.0.0", Family::v4, {0, 0, 0, 0}, "0.0.0.0"},
        GoodCase{"::ffff:255.255.255.255", Family::v4, {255, 255, 255, 255}, "255.255.255.255"},
        // The longest text an address can have (45 characters).
        GoodCase{"0000:0000:0000:0000:0000:ffff:255.255.255.255",
                 Family::v4,
                 {255, 255, 255, 255},
                 "255.255.255.255"},
        GoodCase{"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", Family::v6, kMax6,
                 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
        // Only ::ffff:0:0/96 is "mapped": these embed IPv4 but stay IPv6.
        GoodCase{"::192.0.2.1",
                 Family::v6,
                 {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1},
                 "::192.0.2.1"},
        GoodCase{"::ffff:0:192.0.2.1",
                 Family::v6,
                 {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 192, 0, 2, 1},
                 "::ffff:0:c000:201"},
        GoodCase{"64:ff9b::192.0.2.1",
                 Family::v6,
                 {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1},
                 "64:ff9b::c000:201"},
        GoodCase{"1:ffff::192.0.2.1",
                 Family::v6,
                 {0, 1, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1},
                 "1:ffff::c000:201"}));

class AddressParseBad : public ::testing::TestWithParam<std::string> {};

TEST_P(AddressParseBad, Rejected) {
  EXPECT_EQ(Address::parse(GetParam()), std::nullopt) << "[" << GetParam() << "]";
}

INSTANTIATE_TEST_SUITE_P(
    Table, AddressParseBad,
    ::testing::Values(
        // empty and blank
        ""s, " "s, "\t"s, "\n"s,
        // garbage
        "garbage"s, "localhost"s, "::g"s, "x192.0.2.1"s, "\xff\xfe\xfd"s,
        // broken IPv4
        "192.0.2"s, "192.0.2.256"s, "192.0.2.1.5"s, "192.0.2."s, ".192.0.2.1"s, "192.0.2.-1"s,
        "127.1"s, "0x7f.0.0.1"s, "1.2.3.4/32"s, "192.0.2.1 "s, " 192.0.2.1"s, "192.0.2.1\n"s,
        // broken IPv6
        "2001:db8:::1"s, "2001:db8::1::2"s, "1:2:3:4:5:6:7:8:9"s, "12345::"s, ":::"s, ":"s,
        "2001:db8::/32"s, "::ffff:192.0.2"s, "::ffff:192.0.2.256"s, "::ffff:1.2.3.4.5"s,
        // brackets, zone ids and tags are not addresses
        "[2001:db8::1]"s, "[192.0.2.1]"s, "fe80::1%eth0"s, "fe80::1%1"s, "IPv6:2001:db8::1"s,
        "IPv6:::1"s, "192.0.2.1:25"s,
        // embedded NUL: a valid prefix must not hide what follows
        "192.0.2.1\0"s, "192.0.2.1\0garbage"s, "\0"s, "\0192.0.2.1"s, "::1\0"s,
        // too long: 46 characters and more
        "0000:0000:0000:0000:0000:ffff:255.255.255.2550"s,
        "00000:0000:0000:0000:0000:ffff:255.255.255.255"s, std::string(46, '1'),
        std::string(100000, '1'), "::" + std::string(1000, '0') + "1"s,
        "192.0.2.1" + std::string(100, ' ')));

// Address::parse reads dotted quads itself (no copy, no inet_pton call): it must
// agree with inet_pton(AF_INET) on every text of digits and dots.
TEST(AddressParseDottedQuad, AgreesWithInetPton) {
  std::vector<std::string> texts = {"0.0.0.0",   "00.0.0.0",    "01.2.3.4",        "1.2.3.04",
                                    "001.2.3.4", "1.2.3.0",     "1.2.3.00",        "1.2.3.255",
                                    "1.2.3.256", "1.2.3.999",   "1.2.3.4.",        "1..2.3",
                                    "1.2.3",     "1.2.3.4.5",   ".1.2.3",          "1.2.3.",
                                    "....",      "1.2.3.4.5.6", "255.255.255.255", "0"};
  std::mt19937 rng(7);
  for (int i = 0; i < 100000; ++i) {
    std::string t;
    const std::size_t length = 1 + rng() % 16;
    while (t.size() < length) t += rng() % 4 == 0 ? '.' : static_cast<char>('0' + rng() % 10);
    texts.push_back(t);
  }
  std::size_t accepted = 0;
  for (const std::string& t : texts) {
    in_addr in{};
    const bool valid = inet_pton(AF_INET, t.c_str(), &in) == 1;
    const auto a = Address::parse(t);
    ASSERT_EQ(a.has_value(), valid) << t;
    if (!valid) continue;
    ++accepted;
    EXPECT_EQ(a->family, Family::v4) << t;
    EXPECT_EQ(std::memcmp(a->bytes.data(), &in, 4), 0) << t;
  }
  EXPECT_GT(accepted, 100u) << "the random texts should include valid addresses";
}

TEST(AddressFromSockaddr, NullIsUnknown) {
  EXPECT_EQ(Address::from_sockaddr(nullptr), std::nullopt);
}

TEST(AddressFromSockaddr, UnixSocketIsUnknown) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::strcpy(un.sun_path, "/var/run/tlsgate.sock");
  EXPECT_EQ(Address::from_sockaddr(reinterpret_cast<const sockaddr*>(&un)), std::nullopt);
}

TEST(AddressFromSockaddr, OtherFamiliesAreUnknown) {
  sockaddr_storage ss{};
  for (const sa_family_t family : {AF_UNSPEC, AF_UNIX, AF_PACKET, AF_NETLINK, AF_APPLETALK}) {
    ss.ss_family = family;
    EXPECT_EQ(Address::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss)), std::nullopt)
        << "family " << family;
  }
}

struct SockCase {
  int family;  // of the socket address
  std::string text;
  std::string expected;  // to_string() of the result
  Family expected_family;
};

void PrintTo(const SockCase& c, std::ostream* os) { *os << c.text; }

class AddressFromSockaddrIp : public ::testing::TestWithParam<SockCase> {};

TEST_P(AddressFromSockaddrIp, Converts) {
  const SockCase& c = GetParam();
  std::optional<Address> a;
  if (c.family == AF_INET) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(25);
    ASSERT_EQ(inet_pton(AF_INET, c.text.c_str(), &in.sin_addr), 1);
    a = Address::from_sockaddr(reinterpret_cast<const sockaddr*>(&in));
  } else {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(587);
    in6.sin6_scope_id = 2;
    ASSERT_EQ(inet_pton(AF_INET6, c.text.c_str(), &in6.sin6_addr), 1);
    a = Address::from_sockaddr(reinterpret_cast<const sockaddr*>(&in6));
  }
  ASSERT_TRUE(a.has_value()) << c.text;
  EXPECT_EQ(a->family, c.expected_family);
  EXPECT_EQ(a->to_string(), c.expected);
  // The same address as Address::parse gives: one normalisation, two entry points.
  EXPECT_EQ(a, Address::parse(c.text));
}

INSTANTIATE_TEST_SUITE_P(
    Table, AddressFromSockaddrIp,
    ::testing::Values(SockCase{AF_INET, "192.0.2.1", "192.0.2.1", Family::v4},
                      SockCase{AF_INET, "0.0.0.0", "0.0.0.0", Family::v4},
                      SockCase{AF_INET, "255.255.255.255", "255.255.255.255", Family::v4},
                      SockCase{AF_INET, "127.0.0.1", "127.0.0.1", Family::v4},
                      SockCase{AF_INET6, "2001:db8::1", "2001:db8::1", Family::v6},
                      SockCase{AF_INET6, "::1", "::1", Family::v6},
                      SockCase{AF_INET6, "::", "::", Family::v6},
                      SockCase{AF_INET6, "fe80::1", "fe80::1", Family::v6},
                      SockCase{AF_INET6, "::ffff:192.0.2.1", "192.0.2.1", Family::v4},
                      SockCase{AF_INET6, "::ffff:127.0.0.1", "127.0.0.1", Family::v4},
                      SockCase{AF_INET6, "::192.0.2.1", "::192.0.2.1", Family::v6}));

TEST(AddressEquality, FamilyAndBytesBothCount) {
  Address v4 = *Address::parse("0.0.0.1");
  Address v6 = v4;
  v6.family = Family::v6;
  EXPECT_NE(v4, v6);
  EXPECT_EQ(v4, *Address::parse("::ffff:0.0.0.1"));
  EXPECT_NE(*Address::parse("::1"), *Address::parse("::ffff:0.0.0.1"));
  EXPECT_NE(*Address::parse("192.0.2.1"), *Address::parse("192.0.2.2"));
}

// {client_addr} as Postfix and Sendmail write it (the milter learns the client from
// it when CONNECT is not negotiated: issue 18).
TEST(AddressFromMacro, AsTheMtasWriteIt) {
  struct Case {
    std::string text;
    std::optional<std::string> address;  // nullopt: an unknown client
  };
  for (const Case& c : std::vector<Case>{
           {"192.0.2.10", "192.0.2.10"},
           {"2001:db8::1", "2001:db8::1"},
           {"IPv6:2001:db8::1", "2001:db8::1"},  // Sendmail
           {"IPv6:::ffff:127.0.0.2", "127.0.0.2"},
           {"::ffff:127.0.0.2", "127.0.0.2"},
           {"::1", "::1"},
           {"IPv6:192.0.2.10", std::nullopt},  // the tag promises IPv6
           {"ipv6:2001:db8::1", std::nullopt},
           {"unknown", std::nullopt},
           {"", std::nullopt},
           {"[192.0.2.10]", std::nullopt},
           {"localhost", std::nullopt},
           {"192.0.2.10 ", std::nullopt},
           {std::string("127.0.0.1\0junk", 14), std::nullopt},
           {"IPv6:", std::nullopt},
       }) {
    const auto a = Address::from_macro(c.text);
    EXPECT_EQ(a ? std::optional(a->to_string()) : std::nullopt, c.address) << c.text;
  }
}

}  // namespace
}  // namespace tlsgate::policy
