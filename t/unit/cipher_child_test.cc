// engine/cipher_child: the daemon's cipher expansion in a child process gives the
// same sets and the same errors as expanding in-process.
#include "engine/cipher_child.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "policy/loader.h"

namespace tlsgate {
namespace {

using policy::CipherSet;
using Family = CipherSet::Family;

struct Spec {
  Family family;
  std::string text;
};

void PrintTo(const Spec& s, std::ostream* os) { *os << s.text; }

class ExpandInChild : public ::testing::TestWithParam<Spec> {};

TEST_P(ExpandInChild, SameAnswerAsInProcess) {
  const Spec& s = GetParam();
  const auto here = CipherSet::expand(s.family, s.text);
  const auto there = engine::expand_in_child(s.family, s.text);
  ASSERT_EQ(here.index(), there.index())
      << (std::holds_alternative<std::string>(there) ? std::get<std::string>(there) : "");
  if (const auto* set = std::get_if<CipherSet>(&here)) {
    const auto& child_set = std::get<CipherSet>(there);
    EXPECT_EQ(child_set.expansion(), set->expansion());
    EXPECT_EQ(child_set.size(), set->size());
    EXPECT_TRUE(child_set.contains(set->expansion().substr(0, set->expansion().find(':'))));
  } else {
    EXPECT_EQ(std::get<std::string>(there), std::get<std::string>(here));
  }
}

INSTANTIATE_TEST_SUITE_P(Table, ExpandInChild,
                         ::testing::Values(Spec{Family::tls12, "ECDHE+AESGCM"},
                                           Spec{Family::tls12, "HIGH:!aNULL:!MD5"},
                                           Spec{Family::tls12, "ALL:COMPLEMENTOFALL"},
                                           Spec{Family::tls12, "NOSUCHCIPHER"},
                                           Spec{Family::tls12, "!ALL"}, Spec{Family::tls12, ""},
                                           Spec{Family::tls13, "TLS_AES_256_GCM_SHA384"},
                                           Spec{Family::tls13, "HIGH"}));

TEST(CipherSetFromExpansion, ReadsBackWhatExpansionWrote) {
  const auto set = CipherSet::from_expansion("AES128-SHA:AES256-SHA:AES128-SHA");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->expansion(), "AES128-SHA:AES256-SHA");
  EXPECT_EQ(set->size(), 2u);
  EXPECT_TRUE(set->contains("AES256-SHA"));
  EXPECT_FALSE(set->contains("AES"));
  EXPECT_FALSE(CipherSet::from_expansion(""));
  EXPECT_FALSE(CipherSet::from_expansion(":::"));
}

TEST(LoadOptions, TheExpanderRunsOncePerDistinctCipherString) {
  int calls = 0;
  policy::LoadOptions options;
  options.expand_ciphers = [&calls](Family family, const std::string& spec) {
    ++calls;
    return engine::expand_in_child(family, spec);
  };
  const auto r = policy::load_policy_text(
      "[source default]\nciphers = ECDHE+AESGCM\n"
      "[source a]\nnetworks = 192.0.2.0/24\nciphers = ECDHE+AESGCM\n"
      "tls13_ciphersuites = TLS_AES_256_GCM_SHA384\n"
      "[source b]\nnetworks = 198.51.100.0/24\nciphers = NOSUCHCIPHER\n",
      "child.ini", "", options);
  EXPECT_EQ(calls, 3);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].to_string().find("child.ini:9: ciphers: OpenSSL rejects \"NOSUCHCIPHER\""),
            std::string::npos)
      << r.errors[0].to_string();
}

}  // namespace
}  // namespace tlsgate
