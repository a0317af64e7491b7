// [partner NAME] sections (issue 21): every mistake as FILE:LINE, what a good file
// loads to (a partner imposes only what it sets), and which partners an envelope
// brings in.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policy/loader.h"
#include "t/unit/test_support.h"

namespace tlsgate::policy {
namespace {

using ::testing::ElementsAreArray;
using testing::error_strings;
using testing::TempDir;
using testing::with_dir;

struct ErrorCase {
  std::string name;
  std::string text;                 // "{dir}": the scratch directory
  std::vector<std::string> errors;  // exactly these, in this order
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class PartnerErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(PartnerErrors, ReportsEveryMistake) {
  const ErrorCase& c = GetParam();
  TempDir dir;
  dir.write("nets.txt", "192.0.2.0/24\n");
  dir.write("bad-nets.txt", "192.0.2.0/24\n198.51.100.1/24\n");
  const LoadResult r = load_policy_text(with_dir(c.text, dir.path()), "test.ini", dir.path());
  std::vector<std::string> expected;
  for (const auto& e : c.errors) expected.push_back(with_dir(e, dir.path()));
  EXPECT_THAT(error_strings(r.errors), ElementsAreArray(expected));
  EXPECT_EQ(r.policy, nullptr);
}

const std::string kNeither =
    " has neither sender_domains nor recipient_domains (a partner applies to mail by its "
    "envelope domains)";
const std::string kOnlyBesideSender =
    ", which [partner legal] does not set (they say where the partner's sender domains may send "
    "from)";

INSTANTIATE_TEST_SUITE_P(
    Table, PartnerErrors,
    ::testing::Values(
        ErrorCase{"empty_value",
                  "[partner a]\nsender_domains =\n",
                  {"test.ini:2: sender_domains: empty value"}},
        ErrorCase{"malformed_domains_each_named",
                  "[partner a]\n"
                  "sender_domains = bank..example, *., bank example, b\xc3\xa4nk.example, "
                  "ok.example\n"
                  "recipient_domains = legal.example.org,\n",
                  {"test.ini:2: sender_domains: \"bank..example\": empty label; \"*.\": no "
                   "domain after \"*.\"; \"bank example\": a space inside; "
                   "\"b\xc3\xa4nk.example\": a non-ASCII label (write it in its A-label form: "
                   "xn--bnk-qla.example)",
                   "test.ini:3: recipient_domains: empty domain (two commas, or one at an end)"}},
        ErrorCase{"neither_domain_key",
                  "[partner b]\nrequire_starttls = yes\n[partner c]\n; nothing yet\n",
                  {"test.ini:1: [partner b]" + kNeither, "test.ini:3: [partner c]" + kNeither}},
        ErrorCase{
            "networks_without_sender_domains",
            "[partner legal]\nrecipient_domains = legal.example.org\n"
            "networks = 192.0.2.0/24\nnetworks_file = nets.txt\n",
            {"test.ini:3: networks: applies only beside sender_domains" + kOnlyBesideSender,
             "test.ini:4: networks_file: applies only beside sender_domains" + kOnlyBesideSender}},
        ErrorCase{"unknown_keys",
                  "[partner a]\nsender_domains = a.example\ncolour = blue\n"
                  "socket = inet:1@127.0.0.1\n",
                  {"test.ini:3: unknown key 'colour' in [partner a]",
                   "test.ini:4: unknown key 'socket' in [partner a]"}},
        ErrorCase{"partner_keys_are_not_source_keys",
                  "[source a]\nnetworks = 192.0.2.0/24\nsender_domains = a.example\n"
                  "[milter]\nrecipient_domains = b.example\n",
                  {"test.ini:3: unknown key 'sender_domains' in [source a]",
                   "test.ini:5: unknown key 'recipient_domains' in [milter]"}},
        ErrorCase{"certificate_name_needs_the_requirement",
                  "[partner bank]\nsender_domains = bank.example\n"
                  "client_cert_subject = mx.bank.example\n",
                  {"test.ini:3: client_cert_subject: applies only with require_client_cert = "
                   "yes, which [partner bank] does not set"}},
        ErrorCase{"bad_values_as_in_a_source",
                  "[partner bank]\nsender_domains = bank.example\nnetworks = 192.0.2.1/24\n"
                  "min_tls_version = TLSv9\nmode = audit\nnetworks_file = bad-nets.txt\n",
                  {"{dir}/bad-nets.txt:2: 198.51.100.1/24: host bits set; perhaps 198.51.100.0/24",
                   "test.ini:3: 192.0.2.1/24: host bits set; perhaps 192.0.2.0/24",
                   "test.ini:4: min_tls_version: \"TLSv9\" is not one of TLSv1, TLSv1.1, "
                   "TLSv1.2, TLSv1.3",
                   "test.ini:5: mode: \"audit\" is not enforce or monitor"}},
        ErrorCase{"twice",
                  "[partner a]\nsender_domains = a.example\nsender_domains = b.example\n"
                  "[partner a]\nrequire_starttls = yes\n",
                  {"test.ini:3: sender_domains is set twice in [partner a] (first at line 2)",
                   "test.ini:4: [partner a] appears twice (first at line 1)"}},
        ErrorCase{"bad_partner_name",
                  "[partner a/b]\nsender_domains = a.example\n",
                  {"test.ini:1: unknown section [partner a/b] (expected [milter], [source NAME] "
                   "or [partner NAME], NAME of letters, digits, - _ .)"}}),
    [](const auto& info) { return info.param.name; });

// What is not a mistake: a partner may be named like a source (even "default") and
// list a netblock a source lists; a domain may be in two partners.
TEST(PartnerLoad, NamesAndNetblocksSharedWithSources) {
  const LoadResult r = load_policy_text(
      "[source default]\n"
      "[source bank]\nnetworks = 192.0.2.0/24\n"
      "[partner default]\nsender_domains = a.example\nnetworks = 192.0.2.0/24\n"
      "[partner bank]\nsender_domains = a.example, *.a.example\nnetworks = 192.0.2.0/24\n",
      "test.ini", "");
  ASSERT_NE(r.policy, nullptr) << (r.errors.empty() ? "" : r.errors[0].to_string());
  EXPECT_EQ(r.policy->summary(), "2 sources, 1 netblock, 2 partners; monitor: none");
  const SenderPartners s = r.policy->partners_for_sender(envelope_domain("<x@A.example>"));
  ASSERT_EQ(s.for_transaction.size(), 2u);
  EXPECT_EQ(s.for_transaction[0]->partner, "default");
  EXPECT_EQ(s.for_transaction[1]->partner, "bank");
}

constexpr const char* kPartners = R"([milter]
mode = monitor

[source default]
mode = enforce
require_starttls = yes
min_tls_version = TLSv1.2

[partner bank]
sender_domains = bank.example, *.bank.example
networks = 192.0.2.0/24, 2001:db8:5::/48
require_starttls = yes
require_client_cert = yes
client_cert_subject = mx.bank.example
mode = enforce

[partner legal]
recipient_domains = legal.example.org
require_starttls = yes
action = tempfail

[partner pair]
sender_domains = sender.example
recipient_domains = hr.example.org
min_tls_version = TLSv1.3
)";

TEST(PartnerLoad, APartnerImposesOnlyWhatItSets) {
  const LoadResult r = load_policy_text(kPartners, "p.ini", "", {.keep_netblocks = true});
  ASSERT_NE(r.policy, nullptr) << (r.errors.empty() ? "" : r.errors[0].to_string());
  const Policy& p = *r.policy;
  ASSERT_EQ(p.partners().size(), 3u);
  const Rule& bank = p.partners()[0];
  const Rule& legal = p.partners()[1];
  const Rule& pair = p.partners()[2];
  EXPECT_EQ(bank.partner, "bank");
  EXPECT_EQ(legal.partner, "legal");
  EXPECT_EQ(pair.partner, "pair");
  EXPECT_TRUE(bank.require_starttls);
  EXPECT_TRUE(bank.require_client_cert);
  EXPECT_EQ(bank.client_cert_subject, "mx.bank.example");
  EXPECT_EQ(bank.mode, Mode::enforce);
  EXPECT_TRUE(bank.partner_networks);
  EXPECT_NE(bank.partner_networks->lookup(testing::addr("2001:db8:5::25")), NetblockTable::kNone);
  EXPECT_NE(bank.partner_networks->lookup(testing::addr("192.0.2.200")), NetblockTable::kNone);
  EXPECT_EQ(bank.partner_networks->lookup(testing::addr("198.51.100.1")), NetblockTable::kNone);
  // Nothing of [source default], nor the built-in defaults that impose something.
  for (const Rule* r : {&bank, &legal, &pair}) {
    EXPECT_FALSE(r->require_starttls_before_auth) << r->partner;
    EXPECT_TRUE(r->allow_unencrypted_plain_auth) << r->partner;
    EXPECT_EQ(r->min_cipher_bits, 0u) << r->partner;
    EXPECT_FALSE(r->ciphers) << r->partner;
  }
  EXPECT_FALSE(bank.min_tls_version) << "[source default] min_tls_version is not inherited";
  EXPECT_FALSE(legal.require_client_cert);
  EXPECT_EQ(legal.action, Action::tempfail);
  EXPECT_EQ(legal.mode, Mode::monitor) << "mode defaults to [milter] mode";
  EXPECT_FALSE(legal.partner_networks);
  EXPECT_FALSE(legal.sender_domains);
  ASSERT_TRUE(legal.recipient_domains);
  EXPECT_EQ(pair.min_tls_version, TlsVersion::tls1_3);
  EXPECT_FALSE(pair.require_starttls);
  // For --explain: what it sets, its mode and action however set, with their lines.
  std::vector<std::string> listed;
  for (const ResolvedSetting& s : legal.settings) {
    listed.push_back(std::string(s.key->name) + "@" + std::to_string(s.origin.line));
  }
  EXPECT_EQ(listed, (std::vector<std::string>{"recipient_domains@18", "require_starttls@19",
                                              "action@20", "mode@2"}));
  EXPECT_EQ(p.summary(), "1 source, 0 netblocks, 3 partners; monitor: partner legal, partner pair");
  EXPECT_TRUE(p.has_recipient_partners());
}

// A daemon does not hold what only --explain prints.
TEST(PartnerLoad, SettingsAreKeptForExplainOnly) {
  const LoadResult r = load_policy_text(kPartners, "p.ini", "");
  ASSERT_NE(r.policy, nullptr);
  for (const Rule& p : r.policy->partners()) EXPECT_TRUE(p.settings.empty()) << p.partner;
  EXPECT_TRUE(r.policy->partners()[0].require_client_cert) << "the rule itself is whole";
}

struct EnvelopeCase {
  std::string sender;
  std::vector<std::string> at_mail;         // partners for the transaction
  std::vector<std::string> for_recipients;  // pending on the recipient
  std::string recipient;
  std::vector<std::string> at_rcpt;
};

std::vector<std::string> names(const std::vector<const Rule*>& rules) {
  std::vector<std::string> out;
  for (const Rule* r : rules) out.push_back(r->partner);
  return out;
}

TEST(PartnerLoad, WhichPartnersAnEnvelopeBringsIn) {
  const LoadResult r = load_policy_text(kPartners, "p.ini", "");
  ASSERT_NE(r.policy, nullptr);
  const std::vector<EnvelopeCase> cases = {
      {"<ceo@bank.example>", {"bank"}, {}, "<a@other.example>", {}},
      {"<ceo@MX.Bank.Example.>", {"bank"}, {}, "<legal@legal.example.org>", {"legal"}},
      {"<ceo@notbank.example>", {}, {}, "<x@LEGAL.example.org>", {"legal"}},
      {"<>", {}, {}, "<x@sub.legal.example.org>", {}},
      {"<\"a@bank.example\"@evil.example>", {}, {}, "<hr@hr.example.org>", {}},
      {"<x@sender.example>", {}, {"pair"}, "<hr@hr.example.org>", {"pair"}},
      {"<x@sender.example>", {}, {"pair"}, "<x@legal.example.org>", {"legal"}},
      {"<x@sub.sender.example>", {}, {}, "<hr@hr.example.org>", {}},
      {"<@relay.example:ceo@bank.example>", {"bank"}, {}, "<postmaster>", {}},
      {"ceo@bank..example", {}, {}, "<x@[192.0.2.1]>", {}},
  };
  for (const EnvelopeCase& c : cases) {
    const SenderPartners s = r.policy->partners_for_sender(envelope_domain(c.sender));
    EXPECT_EQ(names(s.for_transaction), c.at_mail) << c.sender;
    EXPECT_EQ(names(s.for_recipients), c.for_recipients) << c.sender;
    EXPECT_EQ(names(r.policy->partners_for_recipient(envelope_domain(c.recipient), s)), c.at_rcpt)
        << c.sender << " to " << c.recipient;
  }
}

TEST(PartnerLoad, NoPartnersNoChange) {
  const LoadResult r = load_policy_text("[source a]\nnetworks = 192.0.2.0/24\n", "a.ini", "");
  ASSERT_NE(r.policy, nullptr);
  EXPECT_EQ(r.policy->summary(), "1 source, 1 netblock; monitor: none");
  EXPECT_FALSE(r.policy->has_recipient_partners());
  EXPECT_TRUE(
      r.policy->partners_for_sender(envelope_domain("<a@b.example>")).for_transaction.empty());
}

}  // namespace
}  // namespace tlsgate::policy
