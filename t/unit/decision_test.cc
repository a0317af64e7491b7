// decide(): which check fails first, and the exact reply for each reason under
// action=reject, action=tempfail and monitor mode (design §3).
#include "policy/decision.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "policy/netblock_table.h"
#include "policy/schema.h"
#include "t/unit/test_support.h"

namespace tlsgate::policy {
namespace {

std::shared_ptr<const CipherSet> ciphers(CipherSet::Family family, const std::string& spec) {
  auto r = CipherSet::expand(family, spec);
  if (auto* set = std::get_if<CipherSet>(&r)) return std::make_shared<const CipherSet>(*set);
  throw std::runtime_error(std::get<std::string>(r));
}

// Sessions, as the milter would see them.
SessionFacts plaintext(std::string_view auth = "") {
  SessionFacts f;
  f.auth_mechanism = auth;
  return f;
}

SessionFacts tls(std::optional<TlsVersion> version = TlsVersion::tls1_3,
                 std::string_view cipher = "TLS_AES_256_GCM_SHA384",
                 std::optional<unsigned> bits = 256u, std::string_view auth = "") {
  SessionFacts f;
  f.tls_active = true;
  f.tls_version = version;
  f.cipher = cipher;
  f.cipher_bits = bits;
  f.auth_mechanism = auth;
  return f;
}

// TLS now, but the AUTH was made before STARTTLS and kept (Sendmail).
SessionFacts tls_auth_before(std::string_view auth) {
  SessionFacts f = tls(TlsVersion::tls1_3, "TLS_AES_256_GCM_SHA384", 256u, auth);
  f.auth_before_tls = true;
  return f;
}

SessionFacts with_cert(SessionFacts f, std::string_view subject = "CN=mx.example.net",
                       std::string_view issuer = "CN=Example CA", bool verified = true) {
  f.cert_subject = subject;
  f.cert_issuer = issuer;
  f.cert_verified = verified;
  return f;
}

using RuleEdit = std::function<void(Rule&)>;

Rule rule_with(const RuleEdit& edit) {
  Rule r = built_in_rule();
  if (edit) edit(r);
  return r;
}

// ---------------------------------------------------------------------------
// Which reason, for which rule and session.

struct ReasonCase {
  std::string name;
  RuleEdit rule;
  SessionFacts facts;
  Reason expected;
  bool credentials_exposed = false;
};

void PrintTo(const ReasonCase& c, std::ostream* os) { *os << c.name; }

class DecideReason : public ::testing::TestWithParam<ReasonCase> {};

TEST_P(DecideReason, Table) {
  const ReasonCase& c = GetParam();
  const Decision d = decide(rule_with(c.rule), c.facts);
  EXPECT_EQ(reason_name(d.reason), reason_name(c.expected));
  EXPECT_EQ(d.refused(), c.expected != Reason::none);
  EXPECT_EQ(d.verdict, c.expected == Reason::none ? Verdict::accept : Verdict::reject);
  EXPECT_EQ(d.credentials_exposed, c.credentials_exposed);
  EXPECT_FALSE(d.would_reject);
}

const RuleEdit kDefaults = nullptr;
const RuleEdit kRequireTls = [](Rule& r) { r.require_starttls = true; };
const RuleEdit kAllowPlain = [](Rule& r) {
  r.allow_unencrypted_plain_auth = true;
  r.require_starttls_before_auth = false;
};
const RuleEdit kEverything = [](Rule& r) {
  r.require_starttls = true;
  r.require_starttls_before_auth = true;
  r.allow_unencrypted_plain_auth = false;
  r.min_tls_version = TlsVersion::tls1_2;
  r.min_cipher_bits = 128;
  r.ciphers = ciphers(CipherSet::Family::tls12, "ECDHE+AESGCM");
  r.tls13_ciphersuites = ciphers(CipherSet::Family::tls13, "TLS_AES_256_GCM_SHA384");
  r.require_client_cert = true;
  r.client_cert_issuer = "CN=Example CA";
};

INSTANTIATE_TEST_SUITE_P(
    Table, DecideReason,
    ::testing::Values(
        // Defaults: plaintext mail is fine, AUTH must come after STARTTLS.
        ReasonCase{"defaults_plaintext", kDefaults, plaintext(), Reason::none},
        ReasonCase{"defaults_tls", kDefaults, tls(), Reason::none},
        ReasonCase{"defaults_tls_unknown_everything", kDefaults, tls(std::nullopt, "", std::nullopt),
                   Reason::none},

        // plaintext_auth and credentials_exposed, any case.
        ReasonCase{"plain_without_tls", kDefaults, plaintext("PLAIN"), Reason::plaintext_auth, true},
        ReasonCase{"login_without_tls", kDefaults, plaintext("LOGIN"), Reason::plaintext_auth, true},
        ReasonCase{"plain_lowercase", kDefaults, plaintext("plain"), Reason::plaintext_auth, true},
        ReasonCase{"login_mixed_case", kDefaults, plaintext("Login"), Reason::plaintext_auth, true},
        ReasonCase{"plain_odd_case", kDefaults, plaintext("pLaIn"), Reason::plaintext_auth, true},
        // Cyrus SASL authenticates PLAIN-PLUS as PLAIN (issue 19); bearer tokens are
        // secrets too.
        ReasonCase{"plain_plus_without_tls", kDefaults, plaintext("PLAIN-PLUS"),
                   Reason::plaintext_auth, true},
        ReasonCase{"login_plus_lowercase", kDefaults, plaintext("login-plus"),
                   Reason::plaintext_auth, true},
        ReasonCase{"xoauth2_without_tls", kDefaults, plaintext("XOAUTH2"), Reason::plaintext_auth,
                   true},
        ReasonCase{"oauthbearer_without_tls", kDefaults, plaintext("oauthbearer"),
                   Reason::plaintext_auth, true},
        ReasonCase{"scram_plus_is_no_secret", kDefaults, plaintext("SCRAM-SHA-256-PLUS"),
                   Reason::auth_before_starttls},
        ReasonCase{"plain_plus_after_starttls", kDefaults,
                   tls(TlsVersion::tls1_3, "TLS_AES_256_GCM_SHA384", 256u, "PLAIN-PLUS"),
                   Reason::none},
        ReasonCase{"plain_plus_allowed_still_exposed", kAllowPlain, plaintext("PLAIN-PLUS"),
                   Reason::none, true},
        // A password sent in clear earlier in the session (an AUTH Postfix then forgot
        // at STARTTLS) is reported, and refuses nothing by itself.
        ReasonCase{"secret_sent_earlier",
                   kDefaults,
                   [] {
                     SessionFacts f = tls();
                     f.secret_sent_in_clear_earlier = true;
                     return f;
                   }(),
                   Reason::none, true},
        ReasonCase{"plain_after_starttls", kDefaults, tls(TlsVersion::tls1_3,
                   "TLS_AES_256_GCM_SHA384", 256u, "PLAIN"), Reason::none, false},
        ReasonCase{"login_after_starttls", kDefaults, tls(TlsVersion::tls1_2,
                   "ECDHE-RSA-AES256-GCM-SHA384", 256u, "login"), Reason::none, false},
        // Not PLAIN/LOGIN: no password crossed, but AUTH before STARTTLS is still refused.
        ReasonCase{"cram_md5_without_tls", kDefaults, plaintext("CRAM-MD5"),
                   Reason::auth_before_starttls},
        ReasonCase{"scram_without_tls", kDefaults, plaintext("SCRAM-SHA-256"),
                   Reason::auth_before_starttls},
        ReasonCase{"plainx_is_not_plain", kDefaults, plaintext("PLAINX"),
                   Reason::auth_before_starttls},
        ReasonCase{"logi_is_not_login", kDefaults, plaintext("LOGI"), Reason::auth_before_starttls},
        ReasonCase{"cram_md5_after_starttls", kDefaults,
                   tls(TlsVersion::tls1_2, "AES256-SHA", 256u, "CRAM-MD5"), Reason::none},

        // allow_unencrypted_plain_auth: needs require_starttls_before_auth = no as well;
        // the password is exposed either way.
        ReasonCase{"allowed_plain", kAllowPlain, plaintext("PLAIN"), Reason::none, true},
        ReasonCase{"allowed_login_lowercase", kAllowPlain, plaintext("login"), Reason::none, true},
        ReasonCase{"allow_plain_but_before_auth_required",
                   [](Rule& r) { r.allow_unencrypted_plain_auth = true; }, plaintext("PLAIN"),
                   Reason::auth_before_starttls, true},
        ReasonCase{"before_auth_off_plain_still_refused",
                   [](Rule& r) { r.require_starttls_before_auth = false; }, plaintext("PLAIN"),
                   Reason::plaintext_auth, true},
        ReasonCase{"before_auth_off_cram_md5",
                   [](Rule& r) { r.require_starttls_before_auth = false; }, plaintext("CRAM-MD5"),
                   Reason::none},

        // starttls_required
        ReasonCase{"require_tls_plaintext", kRequireTls, plaintext(), Reason::starttls_required},
        ReasonCase{"require_tls_with_tls", kRequireTls, tls(), Reason::none},
        ReasonCase{"require_tls_unknown_version", kRequireTls, tls(std::nullopt), Reason::none},

        // tls_version_too_low: minimums, boundaries, unknown versions never pass
        ReasonCase{"min12_tls10", [](Rule& r) { r.min_tls_version = TlsVersion::tls1_2; },
                   tls(TlsVersion::tls1_0, "AES256-SHA"), Reason::tls_version_too_low},
        ReasonCase{"min12_tls11", [](Rule& r) { r.min_tls_version = TlsVersion::tls1_2; },
                   tls(TlsVersion::tls1_1, "AES256-SHA"), Reason::tls_version_too_low},
        ReasonCase{"min12_tls12", [](Rule& r) { r.min_tls_version = TlsVersion::tls1_2; },
                   tls(TlsVersion::tls1_2, "AES256-SHA"), Reason::none},
        ReasonCase{"min12_tls13", [](Rule& r) { r.min_tls_version = TlsVersion::tls1_2; }, tls(),
                   Reason::none},
        ReasonCase{"min13_tls12", [](Rule& r) { r.min_tls_version = TlsVersion::tls1_3; },
                   tls(TlsVersion::tls1_2, "AES256-SHA"), Reason::tls_version_too_low},
        ReasonCase{"min10_unknown_version", [](Rule& r) { r.min_tls_version = TlsVersion::tls1_0; },
                   tls(std::nullopt), Reason::tls_version_too_low},
        ReasonCase{"min12_unknown_version", [](Rule& r) { r.min_tls_version = TlsVersion::tls1_2; },
                   tls(std::nullopt), Reason::tls_version_too_low},
        ReasonCase{"min_version_plaintext_is_not_checked",
                   [](Rule& r) { r.min_tls_version = TlsVersion::tls1_3; }, plaintext(),
                   Reason::none},

        // cipher_too_weak: boundaries, unknown bits never pass a minimum
        ReasonCase{"bits128_got127", [](Rule& r) { r.min_cipher_bits = 128; },
                   tls(TlsVersion::tls1_3, "TLS_AES_128_GCM_SHA256", 127u), Reason::cipher_too_weak},
        ReasonCase{"bits128_got128", [](Rule& r) { r.min_cipher_bits = 128; },
                   tls(TlsVersion::tls1_3, "TLS_AES_128_GCM_SHA256", 128u), Reason::none},
        ReasonCase{"bits128_got0", [](Rule& r) { r.min_cipher_bits = 128; },
                   tls(TlsVersion::tls1_2, "NULL-SHA256", 0u), Reason::cipher_too_weak},
        ReasonCase{"bits1_unknown", [](Rule& r) { r.min_cipher_bits = 1; },
                   tls(TlsVersion::tls1_3, "TLS_AES_256_GCM_SHA384", std::nullopt),
                   Reason::cipher_too_weak},
        ReasonCase{"bits0_unknown", [](Rule& r) { r.min_cipher_bits = 0; },
                   tls(TlsVersion::tls1_3, "TLS_AES_256_GCM_SHA384", std::nullopt), Reason::none},
        ReasonCase{"bits_huge_minimum", [](Rule& r) { r.min_cipher_bits = 999999999; },
                   tls(TlsVersion::tls1_3, "TLS_AES_256_GCM_SHA384", 99999u),
                   Reason::cipher_too_weak},

        // cipher_not_allowed: each list restricts only its own protocol family
        ReasonCase{"tls12_list_tls12_cipher_in",
                   [](Rule& r) { r.ciphers = ciphers(CipherSet::Family::tls12, "ECDHE+AESGCM"); },
                   tls(TlsVersion::tls1_2, "ECDHE-RSA-AES256-GCM-SHA384"), Reason::none},
        ReasonCase{"tls12_list_tls12_cipher_out",
                   [](Rule& r) { r.ciphers = ciphers(CipherSet::Family::tls12, "ECDHE+AESGCM"); },
                   tls(TlsVersion::tls1_2, "AES256-SHA"), Reason::cipher_not_allowed},
        ReasonCase{"tls12_list_applies_to_tls10",
                   [](Rule& r) { r.ciphers = ciphers(CipherSet::Family::tls12, "ECDHE+AESGCM"); },
                   tls(TlsVersion::tls1_0, "ECDHE-RSA-AES256-SHA"), Reason::cipher_not_allowed},
        ReasonCase{"tls12_list_does_not_restrict_tls13",
                   [](Rule& r) { r.ciphers = ciphers(CipherSet::Family::tls12, "ECDHE+AESGCM"); },
                   tls(TlsVersion::tls1_3, "TLS_CHACHA20_POLY1305_SHA256"), Reason::none},
        ReasonCase{"tls13_list_tls13_suite_in",
                   [](Rule& r) {
                     r.tls13_ciphersuites =
                         ciphers(CipherSet::Family::tls13, "TLS_AES_256_GCM_SHA384");
                   },
                   tls(TlsVersion::tls1_3, "TLS_AES_256_GCM_SHA384"), Reason::none},
        ReasonCase{"tls13_list_tls13_suite_out",
                   [](Rule& r) {
                     r.tls13_ciphersuites =
                         ciphers(CipherSet::Family::tls13, "TLS_AES_256_GCM_SHA384");
                   },
                   tls(TlsVersion::tls1_3, "TLS_AES_128_GCM_SHA256"), Reason::cipher_not_allowed},
        ReasonCase{"tls13_list_does_not_restrict_tls12",
                   [](Rule& r) {
                     r.tls13_ciphersuites =
                         ciphers(CipherSet::Family::tls13, "TLS_AES_256_GCM_SHA384");
                   },
                   tls(TlsVersion::tls1_2, "AES128-SHA"), Reason::none},
        ReasonCase{"tls13_name_on_tls12_session",
                   [](Rule& r) {
                     r.ciphers = ciphers(CipherSet::Family::tls12, "ECDHE+AESGCM");
                     r.tls13_ciphersuites =
                         ciphers(CipherSet::Family::tls13, "TLS_AES_256_GCM_SHA384");
                   },
                   tls(TlsVersion::tls1_2, "TLS_AES_256_GCM_SHA384"), Reason::cipher_not_allowed},
        ReasonCase{"tls12_name_on_tls13_session",
                   [](Rule& r) {
                     r.ciphers = ciphers(CipherSet::Family::tls12, "ECDHE+AESGCM");
                     r.tls13_ciphersuites =
                         ciphers(CipherSet::Family::tls13, "TLS_AES_256_GCM_SHA384");
                   },
                   tls(TlsVersion::tls1_3, "ECDHE-RSA-AES256-GCM-SHA384"),
                   Reason::cipher_not_allowed},
        ReasonCase{"unknown_version_with_a_list",
                   [](Rule& r) {
                     r.tls13_ciphersuites =
                         ciphers(CipherSet::Family::tls13, "TLS_AES_256_GCM_SHA384");
                   },
                   tls(std::nullopt, "TLS_AES_256_GCM_SHA384"), Reason::cipher_not_allowed},
        ReasonCase{"unknown_version_with_tls12_list",
                   [](Rule& r) { r.ciphers = ciphers(CipherSet::Family::tls12, "ECDHE+AESGCM"); },
                   tls(std::nullopt, "ECDHE-RSA-AES256-GCM-SHA384"), Reason::cipher_not_allowed},
        ReasonCase{"empty_cipher_name_with_a_list",
                   [](Rule& r) { r.ciphers = ciphers(CipherSet::Family::tls12, "ECDHE+AESGCM"); },
                   tls(TlsVersion::tls1_2, ""), Reason::cipher_not_allowed},
        ReasonCase{"cipher_list_plaintext_is_not_checked",
                   [](Rule& r) { r.ciphers = ciphers(CipherSet::Family::tls12, "ECDHE+AESGCM"); },
                   plaintext(), Reason::none},

        // client_cert_required
        ReasonCase{"cert_required_none", [](Rule& r) { r.require_client_cert = true; }, tls(),
                   Reason::client_cert_required},
        ReasonCase{"cert_required_verified", [](Rule& r) { r.require_client_cert = true; },
                   with_cert(tls()), Reason::none},
        ReasonCase{"cert_required_not_verified", [](Rule& r) { r.require_client_cert = true; },
                   with_cert(tls(), "CN=mx.example.net", "CN=Example CA", false),
                   Reason::client_cert_required},
        ReasonCase{"cert_required_plaintext", [](Rule& r) { r.require_client_cert = true; },
                   plaintext(), Reason::client_cert_required},
        ReasonCase{"cert_required_plaintext_even_if_flagged",
                   [](Rule& r) { r.require_client_cert = true; }, with_cert(plaintext()),
                   Reason::client_cert_required},
        ReasonCase{"issuer_matches",
                   [](Rule& r) {
                     r.require_client_cert = true;
                     r.client_cert_issuer = "CN=Example CA";
                   },
                   with_cert(tls()), Reason::none},
        ReasonCase{"issuer_differs",
                   [](Rule& r) {
                     r.require_client_cert = true;
                     r.client_cert_issuer = "CN=Example CA";
                   },
                   with_cert(tls(), "CN=mx.example.net", "CN=Other CA"),
                   Reason::client_cert_required},
        ReasonCase{"issuer_case_matters",
                   [](Rule& r) {
                     r.require_client_cert = true;
                     r.client_cert_issuer = "CN=Example CA";
                   },
                   with_cert(tls(), "CN=mx.example.net", "cn=example ca"),
                   Reason::client_cert_required},
        ReasonCase{"issuer_prefix_is_not_a_match",
                   [](Rule& r) {
                     r.require_client_cert = true;
                     r.client_cert_issuer = "CN=Example CA";
                   },
                   with_cert(tls(), "CN=mx.example.net", "CN=Example CA Evil"),
                   Reason::client_cert_required},
        ReasonCase{"subject_matches",
                   [](Rule& r) {
                     r.require_client_cert = true;
                     r.client_cert_subject = "CN=mx.example.net";
                   },
                   with_cert(tls()), Reason::none},
        ReasonCase{"subject_differs",
                   [](Rule& r) {
                     r.require_client_cert = true;
                     r.client_cert_subject = "CN=mx.example.net";
                   },
                   with_cert(tls(), "CN=mx.attacker.example"), Reason::client_cert_required},
        ReasonCase{"both_match",
                   [](Rule& r) {
                     r.require_client_cert = true;
                     r.client_cert_subject = "CN=mx.example.net";
                     r.client_cert_issuer = "CN=Example CA";
                   },
                   with_cert(tls()), Reason::none},
        ReasonCase{"issuer_matches_subject_not",
                   [](Rule& r) {
                     r.require_client_cert = true;
                     r.client_cert_subject = "CN=mx.example.net";
                     r.client_cert_issuer = "CN=Example CA";
                   },
                   with_cert(tls(), "CN=other.example.net"), Reason::client_cert_required},
        ReasonCase{"subject_matches_issuer_not",
                   [](Rule& r) {
                     r.require_client_cert = true;
                     r.client_cert_subject = "CN=mx.example.net";
                     r.client_cert_issuer = "CN=Example CA";
                   },
                   with_cert(tls(), "CN=mx.example.net", "CN=Other CA"),
                   Reason::client_cert_required},
        ReasonCase{"unverified_cert_with_matching_names",
                   [](Rule& r) {
                     r.require_client_cert = true;
                     r.client_cert_subject = "CN=mx.example.net";
                     r.client_cert_issuer = "CN=Example CA";
                   },
                   with_cert(tls(), "CN=mx.example.net", "CN=Example CA", false),
                   Reason::client_cert_required},

        // The order: when two or more checks fail, the first in the documented order wins.
        ReasonCase{"order_plain_before_everything", kEverything, plaintext("PLAIN"),
                   Reason::plaintext_auth, true},
        ReasonCase{"order_auth_before_starttls_before_require_tls", kEverything,
                   plaintext("CRAM-MD5"), Reason::auth_before_starttls},
        ReasonCase{"order_starttls_before_cert", kEverything, plaintext(),
                   Reason::starttls_required},
        ReasonCase{"order_version_before_bits_cipher_cert", kEverything,
                   tls(TlsVersion::tls1_0, "RC4-MD5", 40u), Reason::tls_version_too_low},
        ReasonCase{"order_bits_before_cipher_and_cert", kEverything,
                   tls(TlsVersion::tls1_2, "DES-CBC3-SHA", 112u), Reason::cipher_too_weak},
        ReasonCase{"order_cipher_before_cert", kEverything,
                   tls(TlsVersion::tls1_2, "AES256-SHA", 256u), Reason::cipher_not_allowed},
        ReasonCase{"order_cert_last", kEverything,
                   tls(TlsVersion::tls1_3, "TLS_AES_256_GCM_SHA384", 256u),
                   Reason::client_cert_required},
        ReasonCase{"order_all_pass", kEverything,
                   with_cert(tls(TlsVersion::tls1_3, "TLS_AES_256_GCM_SHA384", 256u, "PLAIN")),
                   Reason::none},
        ReasonCase{"order_allowed_plain_then_require_tls",
                   [](Rule& r) {
                     r.allow_unencrypted_plain_auth = true;
                     r.require_starttls_before_auth = false;
                     r.require_starttls = true;
                   },
                   plaintext("PLAIN"), Reason::starttls_required, true},
        ReasonCase{"order_allowed_plain_then_cert",
                   [](Rule& r) {
                     r.allow_unencrypted_plain_auth = true;
                     r.require_starttls_before_auth = false;
                     r.require_client_cert = true;
                   },
                   plaintext("LOGIN"), Reason::client_cert_required, true},
        ReasonCase{"order_plain_before_require_tls",
                   [](Rule& r) {
                     r.require_starttls_before_auth = false;
                     r.require_starttls = true;
                   },
                   plaintext("plain"), Reason::plaintext_auth, true},
        // An AUTH made in clear before STARTTLS and kept across it (Sendmail) is
        // judged like an AUTH without TLS; the TLS checks come after.
        ReasonCase{"auth_before_tls_plain", kDefaults, tls_auth_before("PLAIN"),
                   Reason::plaintext_auth, true},
        ReasonCase{"auth_before_tls_login_lowercase", kDefaults, tls_auth_before("login"),
                   Reason::plaintext_auth, true},
        ReasonCase{"auth_before_tls_cram_md5", kDefaults, tls_auth_before("CRAM-MD5"),
                   Reason::auth_before_starttls},
        ReasonCase{"auth_before_tls_allowed_plain", kAllowPlain, tls_auth_before("PLAIN"),
                   Reason::none, true},
        ReasonCase{"auth_before_tls_allowed_plain_require_tls",
                   [](Rule& r) {
                     kAllowPlain(r);
                     r.require_starttls = true;
                   },
                   tls_auth_before("PLAIN"), Reason::none, true},
        ReasonCase{"auth_before_tls_allowed_plain_then_version",
                   [](Rule& r) {
                     kAllowPlain(r);
                     r.min_tls_version = TlsVersion::tls1_3;
                   },
                   [] {
                     SessionFacts f = tls_auth_before("LOGIN");
                     f.tls_version = TlsVersion::tls1_2;
                     return f;
                   }(),
                   Reason::tls_version_too_low, true},
        ReasonCase{"auth_before_tls_without_auth_is_nothing", kEverything,
                   [] {
                     SessionFacts f = with_cert(tls_auth_before(""));
                     return f;
                   }(),
                   Reason::none},
        ReasonCase{"order_unknown_version_and_bits",
                   [](Rule& r) {
                     r.min_tls_version = TlsVersion::tls1_0;
                     r.min_cipher_bits = 1;
                   },
                   tls(std::nullopt, "x", std::nullopt), Reason::tls_version_too_low}),
    [](const auto& info) { return info.param.name; });

// ---------------------------------------------------------------------------
// The reply for each reason, under each action and mode.

struct Reply {
  Reason reason;
  std::string name;
  int reject_code;
  std::string reject_status;
  int tempfail_code;
  std::string tempfail_status;
  std::string text;
};

// Design §3, copied by hand.
const std::vector<Reply> kReplies = {
    {Reason::partner_network, "partner_network", 550, "5.7.1", 450, "4.7.1",
     "Mail from this sender domain is not accepted from this network"},
    {Reason::starttls_required, "starttls_required", 530, "5.7.0", 450, "4.7.0",
     "Must issue a STARTTLS command first"},
    {Reason::auth_before_starttls, "auth_before_starttls", 530, "5.7.10", 450, "4.7.10",
     "Encryption needed: authenticate after STARTTLS"},
    {Reason::plaintext_auth, "plaintext_auth", 530, "5.7.10", 450, "4.7.10",
     "Encryption needed for PLAIN/LOGIN authentication"},
    {Reason::tls_version_too_low, "tls_version_too_low", 554, "5.7.0", 454, "4.7.0",
     "TLS protocol or cipher not accepted"},
    {Reason::cipher_too_weak, "cipher_too_weak", 554, "5.7.0", 454, "4.7.0",
     "TLS protocol or cipher not accepted"},
    {Reason::cipher_not_allowed, "cipher_not_allowed", 554, "5.7.0", 454, "4.7.0",
     "TLS protocol or cipher not accepted"},
    {Reason::client_cert_required, "client_cert_required", 530, "5.7.0", 450, "4.7.0",
     "A trusted client certificate is required"},
};

// A partner's networks.
std::shared_ptr<const NetblockTable> networks(const std::vector<std::string>& cidrs) {
  std::vector<NetblockTable::Entry> entries;
  for (const auto& c : cidrs) entries.push_back({testing::prefix(c), 0});
  return std::make_shared<const NetblockTable>(NetblockTable::build(
      entries, [](std::uint32_t p, std::uint32_t) { return p; }, [](std::size_t, std::size_t) {}));
}

// A rule and a session that fail exactly at `reason`.
std::pair<Rule, SessionFacts> scenario(Reason reason) {
  Rule r = built_in_rule();
  switch (reason) {
    case Reason::partner_network: {
      r.partner = "bank";
      r.partner_networks = networks({"192.0.2.0/24"});
      SessionFacts f = tls();
      f.client = testing::addr("198.51.100.7");
      return {r, f};
    }
    case Reason::plaintext_auth: return {r, plaintext("LOGIN")};
    case Reason::auth_before_starttls: return {r, plaintext("CRAM-MD5")};
    case Reason::starttls_required: r.require_starttls = true; return {r, plaintext()};
    case Reason::tls_version_too_low:
      r.min_tls_version = TlsVersion::tls1_2;
      return {r, tls(TlsVersion::tls1_1, "AES256-SHA")};
    case Reason::cipher_too_weak:
      r.min_cipher_bits = 128;
      return {r, tls(TlsVersion::tls1_2, "DES-CBC3-SHA", 112u)};
    case Reason::cipher_not_allowed:
      r.ciphers = ciphers(CipherSet::Family::tls12, "ECDHE+AESGCM");
      return {r, tls(TlsVersion::tls1_2, "AES256-SHA")};
    case Reason::client_cert_required: r.require_client_cert = true; return {r, tls()};
    case Reason::none: break;
  }
  return {r, tls()};
}

struct ReplyCase {
  Reply reply;
  Action action;
  Mode mode;
};

void PrintTo(const ReplyCase& c, std::ostream* os) {
  *os << c.reply.name << (c.action == Action::reject ? " reject" : " tempfail")
      << (c.mode == Mode::monitor ? " monitor" : " enforce");
}

class DecideReply : public ::testing::TestWithParam<ReplyCase> {};

TEST_P(DecideReply, ExactReply) {
  const ReplyCase& c = GetParam();
  auto [rule, facts] = scenario(c.reply.reason);
  rule.action = c.action;
  rule.mode = c.mode;
  const Decision d = decide(rule, facts);
  ASSERT_EQ(reason_name(d.reason), c.reply.name);
  EXPECT_EQ(d.reason, c.reply.reason);
  EXPECT_TRUE(d.refused());
  const bool tempfail = c.action == Action::tempfail;
  // The reply is what enforce mode answers; monitor mode logs it and accepts.
  EXPECT_EQ(d.smtp_code, tempfail ? c.reply.tempfail_code : c.reply.reject_code);
  EXPECT_EQ(d.status_code, tempfail ? c.reply.tempfail_status : c.reply.reject_status);
  EXPECT_EQ(d.text, c.reply.text);
  if (c.mode == Mode::monitor) {
    EXPECT_EQ(d.verdict, Verdict::accept);
    EXPECT_TRUE(d.would_reject);
    EXPECT_EQ(action_name(d), "would-reject");
  } else {
    EXPECT_EQ(d.verdict, tempfail ? Verdict::tempfail : Verdict::reject);
    EXPECT_FALSE(d.would_reject);
    EXPECT_EQ(action_name(d), tempfail ? "tempfail" : "reject");
  }
  // The status code's class matches the reply code's.
  EXPECT_EQ(d.status_code.front(), std::to_string(d.smtp_code).front());
}

std::vector<ReplyCase> all_reply_cases() {
  std::vector<ReplyCase> cases;
  for (const Reply& r : kReplies) {
    for (Action a : {Action::reject, Action::tempfail}) {
      for (Mode m : {Mode::enforce, Mode::monitor}) cases.push_back({r, a, m});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Table, DecideReply, ::testing::ValuesIn(all_reply_cases()));

TEST(DecideReply, AcceptHasNoReply) {
  for (Action a : {Action::reject, Action::tempfail}) {
    for (Mode m : {Mode::enforce, Mode::monitor}) {
      Rule r = built_in_rule();
      r.action = a;
      r.mode = m;
      const Decision d = decide(r, tls());
      EXPECT_EQ(d.verdict, Verdict::accept);
      EXPECT_EQ(d.reason, Reason::none);
      EXPECT_FALSE(d.refused());
      EXPECT_FALSE(d.would_reject);
      EXPECT_FALSE(d.credentials_exposed);
      EXPECT_EQ(d.smtp_code, 0);
      EXPECT_EQ(d.status_code, "");
      EXPECT_EQ(d.text, "");
      EXPECT_EQ(action_name(d), "accept");
      EXPECT_EQ(reason_name(d.reason), "none");
    }
  }
}

TEST(DecideReply, MonitorKeepsCredentialsExposed) {
  Rule r = built_in_rule();
  r.mode = Mode::monitor;
  const Decision d = decide(r, plaintext("Plain"));
  EXPECT_EQ(d.verdict, Verdict::accept);
  EXPECT_TRUE(d.would_reject);
  EXPECT_TRUE(d.credentials_exposed);
  EXPECT_EQ(d.reason, Reason::plaintext_auth);
}

TEST(DecideReply, ReasonNames) {
  for (const Reply& r : kReplies) EXPECT_EQ(reason_name(r.reason), r.name);
  EXPECT_EQ(reason_name(Reason::none), "none");
}

// Arrays indexed by Reason (the report's counts) are kReasonCount long: every value
// below it has a name, none above.
TEST(DecideReply, ReasonCountCoversEveryReason) {
  EXPECT_EQ(kReasonCount, kReplies.size() + 1);
  for (std::size_t r = 1; r < kReasonCount; ++r) {
    EXPECT_NE(reason_name(static_cast<Reason>(r)), "none") << r;
  }
  EXPECT_EQ(reason_name(static_cast<Reason>(kReasonCount)), "none");
}

// ---------------------------------------------------------------------------
// The source's rule and the partners' rules together (issue 21): the source first,
// then the partners in file order; a partner's networks before its TLS checks; the
// first refusal in enforce mode decides; monitor mode per rule.

// A partner's rule that imposes nothing but what `edit` sets.
Rule partner_rule(const std::string& name, const RuleEdit& edit = nullptr) {
  Rule r = built_in_rule();
  r.partner = name;
  r.require_starttls_before_auth = false;
  r.allow_unencrypted_plain_auth = true;
  if (edit) edit(r);
  return r;
}

struct RulesCase {
  std::string name;
  std::vector<Rule> rules;  // the source's first
  SessionFacts facts;
  Reason reason;
  std::string partner;  // the one that decided
  Verdict verdict;
  bool would_reject = false;
  int smtp_code = 0;
};

void PrintTo(const RulesCase& c, std::ostream* os) { *os << c.name; }

class DecideRules : public ::testing::TestWithParam<RulesCase> {};

TEST_P(DecideRules, FirstRefusalDecides) {
  const RulesCase& c = GetParam();
  std::vector<const Rule*> rules;
  std::vector<std::string_view> partners;
  for (const Rule& r : c.rules) {
    rules.push_back(&r);
    if (!r.partner.empty()) partners.push_back(r.partner);
  }
  const Decision d = decide(rules, c.facts);
  EXPECT_EQ(reason_name(d.reason), reason_name(c.reason));
  EXPECT_EQ(d.partner, c.partner);
  EXPECT_EQ(d.verdict, c.verdict);
  EXPECT_EQ(d.would_reject, c.would_reject);
  EXPECT_EQ(d.smtp_code, c.smtp_code);
  EXPECT_EQ(d.partners, partners) << "every partner decided on, in order";
}

SessionFacts from(SessionFacts f, std::optional<std::string> client) {
  if (client) f.client = testing::addr(*client);
  return f;
}

const Rule kLaxSource = rule_with([](Rule& r) {
  r.require_starttls_before_auth = false;
  r.allow_unencrypted_plain_auth = true;
});
const Rule kTlsSource = rule_with([](Rule& r) { r.require_starttls = true; });
const RuleEdit kNeedsTls = [](Rule& r) { r.require_starttls = true; };
const RuleEdit kBankNetworks = [](Rule& r) { r.partner_networks = networks({"192.0.2.0/24"}); };

INSTANTIATE_TEST_SUITE_P(
    Table, DecideRules,
    ::testing::Values(RulesCase{"source_first",
                                {kTlsSource, partner_rule("bank", kNeedsTls)},
                                plaintext(),
                                Reason::starttls_required,
                                "",
                                Verdict::reject,
                                false,
                                530},
                      RulesCase{"partner_refuses_after_the_source_passes",
                                {kLaxSource, partner_rule("bank", kNeedsTls)},
                                plaintext(),
                                Reason::starttls_required,
                                "bank",
                                Verdict::reject,
                                false,
                                530},
                      RulesCase{"partner_network_before_its_tls_checks",
                                {kLaxSource, partner_rule("bank",
                                                          [](Rule& r) {
                                                            kNeedsTls(r);
                                                            kBankNetworks(r);
                                                          })},
                                from(plaintext(), "198.51.100.7"),
                                Reason::partner_network,
                                "bank",
                                Verdict::reject,
                                false,
                                550},
                      RulesCase{"inside_its_networks_the_tls_checks_apply",
                                {kLaxSource, partner_rule("bank",
                                                          [](Rule& r) {
                                                            kNeedsTls(r);
                                                            kBankNetworks(r);
                                                          })},
                                from(plaintext(), "192.0.2.7"),
                                Reason::starttls_required,
                                "bank",
                                Verdict::reject,
                                false,
                                530},
                      RulesCase{"inside_its_networks_over_tls",
                                {kLaxSource, partner_rule("bank", kBankNetworks)},
                                from(tls(), "192.0.2.7"),
                                Reason::none,
                                "",
                                Verdict::accept},
                      RulesCase{"unknown_client_is_outside_the_networks",
                                {kLaxSource, partner_rule("bank", kBankNetworks)},
                                from(tls(), std::nullopt),
                                Reason::partner_network,
                                "bank",
                                Verdict::reject,
                                false,
                                550},
                      RulesCase{"tempfail_partner_network",
                                {kLaxSource, partner_rule("bank",
                                                          [](Rule& r) {
                                                            kBankNetworks(r);
                                                            r.action = Action::tempfail;
                                                          })},
                                from(tls(), "2001:db8::1"),
                                Reason::partner_network,
                                "bank",
                                Verdict::tempfail,
                                false,
                                450},
                      RulesCase{"file_order_the_first_refusal_decides",
                                {kLaxSource,
                                 partner_rule("p1",
                                              [](Rule& r) {
                                                r.min_tls_version = TlsVersion::tls1_3;
                                                r.action = Action::tempfail;
                                              }),
                                 partner_rule("p2", [](Rule& r) { r.require_client_cert = true; })},
                                tls(TlsVersion::tls1_2, "ECDHE-RSA-AES256-GCM-SHA384"),
                                Reason::tls_version_too_low,
                                "p1",
                                Verdict::tempfail,
                                false,
                                454},
                      RulesCase{"a_later_partner_refuses_what_an_earlier_allows",
                                {kLaxSource, partner_rule("p1"), partner_rule("p2", kNeedsTls)},
                                plaintext(),
                                Reason::starttls_required,
                                "p2",
                                Verdict::reject,
                                false,
                                530},
                      RulesCase{"monitor_partner_passes_and_the_next_refuses",
                                {kLaxSource,
                                 partner_rule("p1",
                                              [](Rule& r) {
                                                kNeedsTls(r);
                                                r.mode = Mode::monitor;
                                              }),
                                 partner_rule("p2",
                                              [](Rule& r) {
                                                kNeedsTls(r);
                                                r.action = Action::tempfail;
                                              })},
                                plaintext(),
                                Reason::starttls_required,
                                "p2",
                                Verdict::tempfail,
                                false,
                                450},
                      RulesCase{"monitor_partner_alone_would_reject",
                                {kLaxSource, partner_rule("p1",
                                                          [](Rule& r) {
                                                            kNeedsTls(r);
                                                            r.mode = Mode::monitor;
                                                          })},
                                plaintext(),
                                Reason::starttls_required,
                                "p1",
                                Verdict::accept,
                                true,
                                530},
                      RulesCase{"monitor_source_then_enforcing_partner",
                                {rule_with([](Rule& r) {
                                   r.require_starttls = true;
                                   r.mode = Mode::monitor;
                                 }),
                                 partner_rule("bank", kNeedsTls)},
                                plaintext(),
                                Reason::starttls_required,
                                "bank",
                                Verdict::reject,
                                false,
                                530},
                      RulesCase{"the_first_would_reject_stands",
                                {rule_with([](Rule& r) {
                                   r.require_starttls = true;
                                   r.mode = Mode::monitor;
                                 }),
                                 partner_rule("p1",
                                              [](Rule& r) {
                                                r.require_client_cert = true;
                                                r.mode = Mode::monitor;
                                              })},
                                plaintext(),
                                Reason::starttls_required,
                                "",
                                Verdict::accept,
                                true,
                                530},
                      RulesCase{"all_pass",
                                {kTlsSource, partner_rule("p1", kNeedsTls),
                                 partner_rule("p2", kBankNetworks)},
                                from(tls(), "192.0.2.1"),
                                Reason::none,
                                "",
                                Verdict::accept},
                      RulesCase{"a_partner_that_sets_nothing_refuses_nothing",
                                {kLaxSource, partner_rule("p1")},
                                plaintext("PLAIN"),
                                Reason::none,
                                "",
                                Verdict::accept}),
    [](const auto& info) { return info.param.name; });

TEST(DecideRules, NoRulesAcceptsAndCredentialsAreStillNoted) {
  const Decision d = decide(std::span<const Rule* const>(), plaintext("LOGIN"));
  EXPECT_EQ(d.verdict, Verdict::accept);
  EXPECT_FALSE(d.refused());
  EXPECT_TRUE(d.credentials_exposed);
  EXPECT_TRUE(d.partners.empty());
}

}  // namespace
}  // namespace tlsgate::policy
