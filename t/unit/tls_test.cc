// TLS vocabulary: protocol versions, {cipher_bits}, and cipher sets expanded by OpenSSL.
#include "policy/tls.h"

#include <gtest/gtest.h>

#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace tlsgate::policy {
namespace {

using namespace std::string_literals;

struct VersionCase {
  std::string text;
  std::optional<TlsVersion> expected;
};

void PrintTo(const VersionCase& c, std::ostream* os) { *os << "\"" << c.text << "\""; }

class ParseTlsVersion : public ::testing::TestWithParam<VersionCase> {};

TEST_P(ParseTlsVersion, Table) {
  const VersionCase& c = GetParam();
  EXPECT_EQ(parse_tls_version(c.text), c.expected) << "[" << c.text << "]";
  if (c.expected) {
    EXPECT_EQ(tls_version_name(*c.expected), c.text);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseTlsVersion,
    ::testing::Values(
        VersionCase{"TLSv1", TlsVersion::tls1_0}, VersionCase{"TLSv1.1", TlsVersion::tls1_1},
        VersionCase{"TLSv1.2", TlsVersion::tls1_2}, VersionCase{"TLSv1.3", TlsVersion::tls1_3},
        VersionCase{"", std::nullopt}, VersionCase{"TLSv1.0", std::nullopt},
        VersionCase{"TLSv1.4", std::nullopt}, VersionCase{"tlsv1.2", std::nullopt},
        VersionCase{"TLSV1.2", std::nullopt}, VersionCase{"TLSv1.2 ", std::nullopt},
        VersionCase{" TLSv1.2", std::nullopt}, VersionCase{"TLSv1.2\n", std::nullopt},
        VersionCase{"TLSv1.2\0"s, std::nullopt}, VersionCase{"TLSv1.3\0x"s, std::nullopt},
        VersionCase{"TLSv13", std::nullopt}, VersionCase{"TLS1.2", std::nullopt},
        VersionCase{"TLSv1.", std::nullopt}, VersionCase{"TLSv", std::nullopt},
        VersionCase{"SSLv3", std::nullopt}, VersionCase{"SSLv2", std::nullopt},
        VersionCase{"DTLSv1.2", std::nullopt}, VersionCase{"unknown", std::nullopt},
        VersionCase{"TLSv1.3TLSv1.3", std::nullopt}));

TEST(TlsVersion, OrderedOldestFirst) {
  EXPECT_LT(TlsVersion::tls1_0, TlsVersion::tls1_1);
  EXPECT_LT(TlsVersion::tls1_1, TlsVersion::tls1_2);
  EXPECT_LT(TlsVersion::tls1_2, TlsVersion::tls1_3);
}

struct BitsCase {
  std::string text;
  std::optional<unsigned> expected;
};

void PrintTo(const BitsCase& c, std::ostream* os) { *os << "\"" << c.text << "\""; }

class ParseCipherBits : public ::testing::TestWithParam<BitsCase> {};

TEST_P(ParseCipherBits, Table) {
  EXPECT_EQ(parse_cipher_bits(GetParam().text), GetParam().expected)
      << "[" << GetParam().text << "]";
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseCipherBits,
    ::testing::Values(
        BitsCase{"0", 0u}, BitsCase{"40", 40u}, BitsCase{"56", 56u}, BitsCase{"112", 112u},
        BitsCase{"128", 128u}, BitsCase{"256", 256u}, BitsCase{"00256", 256u},
        BitsCase{"99999", 99999u},
        // rejected
        BitsCase{"", std::nullopt}, BitsCase{" ", std::nullopt}, BitsCase{"garbage", std::nullopt},
        BitsCase{"256 ", std::nullopt}, BitsCase{" 256", std::nullopt},
        BitsCase{"256\n", std::nullopt}, BitsCase{"-1", std::nullopt}, BitsCase{"+1", std::nullopt},
        BitsCase{"-256", std::nullopt}, BitsCase{"+256", std::nullopt},
        BitsCase{"100000", std::nullopt}, BitsCase{"000256", std::nullopt},
        BitsCase{"4294967296", std::nullopt},
        BitsCase{"4294967552", std::nullopt},  // 2^32 + 256: no wrap-around
        BitsCase{"18446744073709551872", std::nullopt},
        BitsCase{std::string(10000, '9'), std::nullopt}, BitsCase{"0x100", std::nullopt},
        BitsCase{"1e3", std::nullopt}, BitsCase{"2.56", std::nullopt},
        BitsCase{"256bits", std::nullopt}, BitsCase{"25\06"s, std::nullopt},
        BitsCase{"\xef\xbc\x92\xef\xbc\x95\xef\xbc\x96", std::nullopt}));  // fullwidth 256

// ---------------------------------------------------------------------------
// CipherSet::expand

using Family = CipherSet::Family;

CipherSet expand_ok(Family family, const std::string& spec) {
  auto r = CipherSet::expand(family, spec);
  if (auto* error = std::get_if<std::string>(&r)) {
    ADD_FAILURE() << spec << ": " << *error;
    return std::get<CipherSet>(CipherSet::expand(Family::tls13, "TLS_AES_128_GCM_SHA256"));
  }
  return std::get<CipherSet>(std::move(r));
}

std::vector<std::string> names_of(const CipherSet& set) {
  std::vector<std::string> names;
  std::stringstream in(set.expansion());
  for (std::string name; std::getline(in, name, ':');) names.push_back(name);
  return names;
}

struct ExpandCase {
  Family family;
  std::string spec;
  std::vector<std::string> contains;
  std::vector<std::string> excludes;
  std::size_t exact_size = 0;  // 0: not checked
};

void PrintTo(const ExpandCase& c, std::ostream* os) { *os << c.spec; }

class CipherSetExpand : public ::testing::TestWithParam<ExpandCase> {};

TEST_P(CipherSetExpand, Table) {
  const ExpandCase& c = GetParam();
  const CipherSet set = expand_ok(c.family, c.spec);
  for (const auto& name : c.contains) EXPECT_TRUE(set.contains(name)) << c.spec << " has " << name;
  for (const auto& name : c.excludes)
    EXPECT_FALSE(set.contains(name)) << c.spec << " lacks " << name;
  if (c.exact_size != 0) {
    EXPECT_EQ(set.size(), c.exact_size) << set.expansion();
  }

  // The expansion lists the set, each name once, and only names of its own family.
  const auto names = names_of(set);
  EXPECT_EQ(names.size(), set.size());
  for (const auto& name : names) {
    EXPECT_TRUE(set.contains(name)) << name;
    EXPECT_EQ(name.rfind("TLS_", 0) == 0, c.family == Family::tls13) << c.spec << ": " << name;
  }
  EXPECT_FALSE(set.contains(""));
}

INSTANTIATE_TEST_SUITE_P(
    Table, CipherSetExpand,
    ::testing::Values(
        ExpandCase{Family::tls12,
                   "ECDHE+AESGCM",
                   {"ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256",
                    "ECDHE-RSA-AES128-GCM-SHA256"},
                   {"AES256-SHA", "AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305",
                    "ECDHE-RSA-AES256-SHA", "TLS_AES_256_GCM_SHA384", "ecdhe-rsa-aes256-gcm-sha384",
                    "ECDHE-RSA-AES256-GCM-SHA384 "}},
        ExpandCase{
            Family::tls12,
            "HIGH:!aNULL",
            {"ECDHE-RSA-AES256-GCM-SHA384", "AES256-GCM-SHA384", "DHE-RSA-AES128-GCM-SHA256"},
            {"ADH-AES256-GCM-SHA384", "AECDH-AES256-SHA", "TLS_AES_256_GCM_SHA384",
             "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256", "RC4-SHA", "NULL-SHA256"}},
        ExpandCase{Family::tls12,
                   "HIGH:MEDIUM:!ADH:@STRENGTH",
                   {"ECDHE-RSA-AES256-GCM-SHA384", "AES128-SHA"},
                   {"ADH-AES256-GCM-SHA384", "TLS_AES_256_GCM_SHA384"}},
        ExpandCase{Family::tls12, "AES256-SHA", {"AES256-SHA"}, {"AES128-SHA"}, 1},
        ExpandCase{
            Family::tls12, "eNULL", {"NULL-SHA256"}, {"AES256-SHA", "TLS_AES_256_GCM_SHA384"}},
        ExpandCase{Family::tls13,
                   "TLS_AES_256_GCM_SHA384",
                   {"TLS_AES_256_GCM_SHA384"},
                   {"TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256",
                    "ECDHE-RSA-AES256-GCM-SHA384", "tls_aes_256_gcm_sha384"},
                   1},
        ExpandCase{Family::tls13,
                   "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
                   {"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"},
                   {"TLS_AES_128_GCM_SHA256"},
                   2},
        ExpandCase{Family::tls13,
                   "TLS_AES_128_CCM_8_SHA256",
                   {"TLS_AES_128_CCM_8_SHA256"},
                   {"TLS_AES_128_CCM_SHA256"},
                   1}));

TEST(CipherSetExpand, ExactExpansions) {
  EXPECT_EQ(expand_ok(Family::tls13, "TLS_AES_256_GCM_SHA384").expansion(),
            "TLS_AES_256_GCM_SHA384");
  // In the order written (OpenSSL's preference order).
  EXPECT_EQ(
      expand_ok(Family::tls13, "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384").expansion(),
      "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(expand_ok(Family::tls12, "AES128-SHA:AES256-SHA").expansion(), "AES128-SHA:AES256-SHA");
  // A plain ECDHE+AESGCM set holds exactly the four ECDHE AES-GCM suites.
  const CipherSet gcm = expand_ok(Family::tls12, "ECDHE+AESGCM");
  EXPECT_EQ(gcm.size(), 4u) << gcm.expansion();
}

TEST(CipherSetExpand, TheSecurityLevelDoesNotShrinkTheList) {
  // Expansion shows what the admin wrote, not what a live handshake at the default
  // security level would offer: weak ciphers stay listed.
  const CipherSet all = expand_ok(Family::tls12, "ALL:COMPLEMENTOFALL");
  EXPECT_TRUE(all.contains("NULL-SHA256"));
  EXPECT_TRUE(all.contains("AES128-SHA"));
}

struct RejectCase {
  Family family;
  std::string spec;
};

void PrintTo(const RejectCase& c, std::ostream* os) { *os << c.spec; }

class CipherSetRejects : public ::testing::TestWithParam<RejectCase> {};

TEST_P(CipherSetRejects, SaysWhat) {
  const RejectCase& c = GetParam();
  auto r = CipherSet::expand(c.family, c.spec);
  ASSERT_TRUE(std::holds_alternative<std::string>(r))
      << c.spec << " expanded to " << std::get<CipherSet>(r).expansion();
  const std::string& error = std::get<std::string>(r);
  // "OpenSSL rejects "SPEC": ..." or "OpenSSL expands "SPEC" to no cipher".
  EXPECT_TRUE(error.rfind("OpenSSL rejects \"" + c.spec + "\": ", 0) == 0 ||
              error == "OpenSSL expands \"" + c.spec + "\" to no cipher")
      << error;
}

INSTANTIATE_TEST_SUITE_P(Table, CipherSetRejects,
                         ::testing::Values(RejectCase{Family::tls12, "NOSUCHCIPHER"},
                                           RejectCase{Family::tls12, ""},
                                           RejectCase{Family::tls12, "!ALL"},
                                           RejectCase{Family::tls12, "TLS_AES_256_GCM_SHA384"},
                                           RejectCase{Family::tls12, "ecdhe+aesgcm"},
                                           RejectCase{Family::tls13, "NOSUCH"},
                                           RejectCase{Family::tls13, "HIGH"},
                                           RejectCase{Family::tls13, ""},
                                           RejectCase{Family::tls13, "ECDHE-RSA-AES256-GCM-SHA384"},
                                           RejectCase{Family::tls13, "tls_aes_256_gcm_sha384"}));

TEST(CipherSetRejects, ExactMessages) {
  auto r = CipherSet::expand(Family::tls13, "");
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_EQ(std::get<std::string>(r), "OpenSSL expands \"\" to no cipher");
  auto n = CipherSet::expand(Family::tls12, "NOSUCHCIPHER");
  ASSERT_TRUE(std::holds_alternative<std::string>(n));
  EXPECT_EQ(std::get<std::string>(n).rfind("OpenSSL rejects \"NOSUCHCIPHER\": ", 0), 0u)
      << std::get<std::string>(n);
  EXPECT_NE(std::get<std::string>(n).find("no cipher match"), std::string::npos);
}

}  // namespace
}  // namespace tlsgate::policy
