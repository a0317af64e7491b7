// parse_facts: session facts from what the MTA reported (macro values, which come
// from the network); the SASL mechanism families; AuthHistory.
#include "policy/facts.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "policy/decision.h"
#include "policy/schema.h"

namespace tlsgate::policy {
namespace {

using namespace std::string_literals;

// A TLS 1.3 session with a client certificate the MTA verified.
FactText good_tls() {
  FactText t;
  t.tls_version = "TLSv1.3";
  t.cipher = "TLS_AES_256_GCM_SHA384";
  t.cipher_bits = "256";
  t.cert_subject = "CN=mx.example.net";
  t.cert_issuer = "CN=Example CA";
  t.cert_verified = true;
  return t;
}

TEST(ParseFacts, NothingSentIsPlaintextWithoutAuth) {
  const SessionFacts f = parse_facts({});
  EXPECT_FALSE(f.tls_active);
  EXPECT_EQ(f.tls_version, std::nullopt);
  EXPECT_EQ(f.cipher, "");
  EXPECT_EQ(f.cipher_bits, std::nullopt);
  EXPECT_FALSE(f.cert_verified);
  EXPECT_EQ(f.auth_mechanism, "");
}

TEST(ParseFacts, GoodTlsSession) {
  FactText t = good_tls();
  t.auth_type = "PLAIN";
  const SessionFacts f = parse_facts(t);
  EXPECT_TRUE(f.tls_active);
  EXPECT_EQ(f.tls_version, TlsVersion::tls1_3);
  EXPECT_EQ(f.cipher, "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(f.cipher_bits, 256u);
  EXPECT_TRUE(f.cert_verified);
  EXPECT_EQ(f.cert_subject, "CN=mx.example.net");
  EXPECT_EQ(f.cert_issuer, "CN=Example CA");
  EXPECT_EQ(f.auth_mechanism, "PLAIN");
}

struct ActiveCase {
  std::string name;
  std::function<void(FactText&)> set;
  bool tls_active;
};

void PrintTo(const ActiveCase& c, std::ostream* os) { *os << c.name; }

class TlsActive : public ::testing::TestWithParam<ActiveCase> {};

// Issue 19: TLS is active only when {tls_version} names a protocol tlsgate knows;
// whatever else is present (what milter_macro_defaults can supply) is no TLS.
TEST_P(TlsActive, OnlyAKnownVersionMeansTls) {
  FactText t;
  GetParam().set(t);
  const SessionFacts f = parse_facts(t);
  EXPECT_EQ(f.tls_active, GetParam().tls_active);
  EXPECT_EQ(f.tls_version.has_value(), GetParam().tls_active);
  EXPECT_EQ(f.tls_reported, t.tls_version) << "kept as sent, for the log";
}

INSTANTIATE_TEST_SUITE_P(
    Table, TlsActive,
    ::testing::Values(
        ActiveCase{"version", [](FactText& t) { t.tls_version = "TLSv1.2"; }, true},
        ActiveCase{"tls1", [](FactText& t) { t.tls_version = "TLSv1"; }, true},
        ActiveCase{"garbled_version", [](FactText& t) { t.tls_version = "??"; }, false},
        ActiveCase{"NONE", [](FactText& t) { t.tls_version = "NONE"; }, false},
        ActiveCase{"paren_NONE", [](FactText& t) { t.tls_version = "(NONE)"; }, false},
        ActiveCase{"none", [](FactText& t) { t.tls_version = "none"; }, false},
        ActiveCase{"lowercase_version", [](FactText& t) { t.tls_version = "tlsv1.3"; }, false},
        ActiveCase{"future_version", [](FactText& t) { t.tls_version = "TLSv1.4"; }, false},
        ActiveCase{"sslv3", [](FactText& t) { t.tls_version = "SSLv3"; }, false},
        ActiveCase{"cipher_only", [](FactText& t) { t.cipher = "AES256-SHA"; }, false},
        ActiveCase{"bits_only", [](FactText& t) { t.cipher_bits = "256"; }, false},
        ActiveCase{"bits_zero_only", [](FactText& t) { t.cipher_bits = "0"; }, false},
        ActiveCase{"cipher_and_bits",
                   [](FactText& t) {
                     t.cipher = "TLS_AES_256_GCM_SHA384";
                     t.cipher_bits = "256";
                   },
                   false},
        ActiveCase{"version_garbled_bits",
                   [](FactText& t) {
                     t.tls_version = "TLSv1.3";
                     t.cipher_bits = "x";
                   },
                   true},
        // certificate and auth macros alone are not TLS
        ActiveCase{"cert_only",
                   [](FactText& t) {
                     t.cert_subject = "CN=x";
                     t.cert_issuer = "CN=y";
                     t.cert_verified = true;
                   },
                   false},
        ActiveCase{"auth_only", [](FactText& t) { t.auth_type = "PLAIN"; }, false}),
    [](const auto& info) { return info.param.name; });

struct CertCase {
  std::string name;
  std::function<void(FactText&)> set;
  bool cert_verified;
};

void PrintTo(const CertCase& c, std::ostream* os) { *os << c.name; }

class CertVerified : public ::testing::TestWithParam<CertCase> {};

TEST_P(CertVerified, Table) {
  FactText t = good_tls();
  GetParam().set(t);
  EXPECT_EQ(parse_facts(t).cert_verified, GetParam().cert_verified);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CertVerified,
    ::testing::Values(CertCase{"verified", [](FactText&) {}, true},
                      CertCase{"not_verified", [](FactText& t) { t.cert_verified = false; }, false},
                      CertCase{"subject_only", [](FactText& t) { t.cert_issuer = ""; }, true},
                      CertCase{"issuer_only", [](FactText& t) { t.cert_subject = ""; }, true},
                      // "verified" with no certificate named is nothing verified (--explain agrees)
                      CertCase{"no_certificate",
                               [](FactText& t) {
                                 t.cert_subject = "";
                                 t.cert_issuer = "";
                               },
                               false},
                      CertCase{"no_tls",
                               [](FactText& t) {
                                 t.tls_version = "";
                                 t.cipher = "";
                                 t.cipher_bits = "";
                               },
                               false},
                      CertCase{"version_not_known", [](FactText& t) { t.tls_version = "NONE"; },
                               false}),
    [](const auto& info) { return info.param.name; });

// ---------------------------------------------------------------------------
// SASL mechanisms: which carry the secret itself.

struct MechanismCase {
  std::string mechanism;
  std::string family;
  bool sends_secret;
};

void PrintTo(const MechanismCase& c, std::ostream* os) { *os << "\"" << c.mechanism << "\""; }

class Mechanism : public ::testing::TestWithParam<MechanismCase> {};

TEST_P(Mechanism, Table) {
  EXPECT_EQ(mechanism_family(GetParam().mechanism), GetParam().family);
  EXPECT_EQ(sends_secret(GetParam().mechanism), GetParam().sends_secret);
}

INSTANTIATE_TEST_SUITE_P(
    Table, Mechanism,
    ::testing::Values(
        MechanismCase{"PLAIN", "PLAIN", true}, MechanismCase{"LOGIN", "LOGIN", true},
        MechanismCase{"plain", "PLAIN", true}, MechanismCase{"login", "LOGIN", true},
        MechanismCase{"Login", "LOGIN", true}, MechanismCase{"pLAIN", "PLAIN", true},
        // Cyrus SASL 2.1.27+ strips a trailing -PLUS and authenticates the rest.
        MechanismCase{"PLAIN-PLUS", "PLAIN", true}, MechanismCase{"plain-plus", "PLAIN", true},
        MechanismCase{"LOGIN-PLUS", "LOGIN", true}, MechanismCase{"Login-Plus", "LOGIN", true},
        MechanismCase{"PLAIN-PLUS-PLUS", "PLAIN", true},
        // Bearer tokens cross in clear too.
        MechanismCase{"XOAUTH2", "XOAUTH2", true}, MechanismCase{"xoauth2", "XOAUTH2", true},
        MechanismCase{"OAUTHBEARER", "OAUTHBEARER", true},
        MechanismCase{"OAUTHBEARER-PLUS", "OAUTHBEARER", true},
        // Challenge-response mechanisms do not send the secret.
        MechanismCase{"", "", false}, MechanismCase{"CRAM-MD5", "CRAM-MD5", false},
        MechanismCase{"DIGEST-MD5", "DIGEST-MD5", false},
        MechanismCase{"SCRAM-SHA-256", "SCRAM-SHA-256", false},
        MechanismCase{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", false},
        MechanismCase{"EXTERNAL", "EXTERNAL", false}, MechanismCase{"GSSAPI", "GSSAPI", false},
        MechanismCase{"PLAINX", "PLAINX", false}, MechanismCase{"PLAI", "PLAI", false},
        MechanismCase{" PLAIN", " PLAIN", false}, MechanismCase{"PLAIN\0"s, "PLAIN\0"s, false},
        MechanismCase{"LOGINLOGIN", "LOGINLOGIN", false}, MechanismCase{"-PLUS", "-PLUS", false},
        MechanismCase{"PLUS", "PLUS", false}, MechanismCase{"PLAIN-PLU", "PLAIN-PLU", false}));

// ---------------------------------------------------------------------------
// AuthHistory: was the AUTH an MTA reports at MAIL made before STARTTLS, and did a
// secret cross in clear at some stage?

struct Step {
  bool helo;  // false: MAIL (or RCPT)
  bool tls;
  std::string_view auth;
};

struct HistoryCase {
  std::string name;
  std::vector<Step> steps;  // the callbacks, in order
  bool auth_before_tls;     // after the last one
  bool secret_sent_in_clear = false;
};

void PrintTo(const HistoryCase& c, std::ostream* os) { *os << c.name; }

class History : public ::testing::TestWithParam<HistoryCase> {};

TEST_P(History, Table) {
  AuthHistory h;
  for (const Step& s : GetParam().steps) {
    if (s.helo) {
      h.at_helo(s.tls, s.auth);
    } else {
      h.at_mail(s.tls, s.auth);
    }
  }
  EXPECT_EQ(h.auth_before_tls(), GetParam().auth_before_tls);
  EXPECT_EQ(h.secret_sent_in_clear(), GetParam().secret_sent_in_clear);
}

constexpr Step kEhlo{true, false, ""};
constexpr Step kEhloAuth{true, false, "CRAM-MD5"};
constexpr Step kEhloPlain{true, false, "PLAIN"};
constexpr Step kTlsEhlo{true, true, ""};
constexpr Step kTlsEhloAuth{true, true, "CRAM-MD5"};
constexpr Step kTlsEhloPlain{true, true, "PLAIN"};
constexpr Step kMail{false, false, ""};
constexpr Step kMailAuth{false, false, "CRAM-MD5"};
constexpr Step kMailPlainPlus{false, false, "PLAIN-PLUS"};
constexpr Step kTlsMail{false, true, ""};
constexpr Step kTlsMailAuth{false, true, "CRAM-MD5"};
constexpr Step kTlsMailPlain{false, true, "PLAIN"};

INSTANTIATE_TEST_SUITE_P(
    Table, History,
    ::testing::Values(
        HistoryCase{"nothing", {}, false}, HistoryCase{"plaintext_no_auth", {kEhlo, kMail}, false},
        HistoryCase{"plaintext_auth", {kEhlo, kMailAuth}, true},
        HistoryCase{"plaintext_plain_plus", {kEhlo, kMailPlainPlus}, true, true},
        HistoryCase{"tls_then_auth", {kEhlo, kTlsEhlo, kTlsMailAuth}, false},
        HistoryCase{"tls_then_plain", {kEhlo, kTlsEhlo, kTlsMailPlain}, false, false},
        HistoryCase{
            "tls_then_auth_then_ehlo", {kEhlo, kTlsEhlo, kTlsEhloAuth, kTlsMailAuth}, false},
        // EHLO, AUTH, STARTTLS, EHLO, MAIL: Sendmail still reports the AUTH.
        HistoryCase{"auth_then_tls", {kEhlo, kTlsEhloAuth, kTlsMailAuth}, true},
        HistoryCase{"plain_then_tls", {kEhlo, kTlsEhloPlain, kTlsMailPlain}, true, false},
        // EHLO, AUTH, EHLO, STARTTLS, EHLO, MAIL.
        HistoryCase{"auth_ehlo_then_tls", {kEhlo, kEhloAuth, kTlsEhloAuth, kTlsMailAuth}, true},
        HistoryCase{
            "plain_ehlo_then_tls", {kEhlo, kEhloPlain, kTlsEhloPlain, kTlsMailPlain}, true, true},
        // ... without the EHLO after STARTTLS: seen at the plaintext EHLO.
        HistoryCase{"auth_ehlo_then_tls_no_ehlo", {kEhlo, kEhloAuth, kTlsMailAuth}, true},
        // EHLO, AUTH, STARTTLS, MAIL: no EHLO under TLS shows the AUTH came after
        // STARTTLS, so it counts as before (issue 19: fail closed).
        HistoryCase{"auth_then_tls_no_ehlo", {kEhlo, kTlsMailAuth}, true},
        // A plaintext transaction with AUTH, then STARTTLS: still the same AUTH.
        HistoryCase{"plaintext_tx_then_tls", {kEhlo, kMailAuth, kTlsEhloAuth, kTlsMailAuth}, true},
        // The AUTH went away (an MTA that forgets it): nothing to remember...
        HistoryCase{"auth_forgotten", {kEhloAuth, kTlsEhlo, kTlsMail}, false},
        HistoryCase{"auth_forgotten_then_new_auth", {kEhloAuth, kTlsEhlo, kTlsMailAuth}, false},
        // ... except a password that crossed in clear: Postfix, EHLO, AUTH PLAIN, EHLO,
        // STARTTLS, MAIL (the stale {auth_type} of issue 19).
        HistoryCase{"plain_forgotten_still_exposed", {kEhlo, kEhloPlain, kTlsMail}, false, true},
        // Implicit TLS (SMTPS): TLS from the first EHLO, AUTH after it.
        HistoryCase{"smtps", {kTlsEhlo, kTlsMailAuth}, false},
        HistoryCase{"smtps_plain", {kTlsEhlo, kTlsMailPlain}, false, false},
        HistoryCase{"second_transaction_keeps_it",
                    {kEhlo, kTlsEhloAuth, kTlsMailAuth, kTlsMailAuth},
                    true}),
    [](const auto& info) { return info.param.name; });

// ---------------------------------------------------------------------------
// xtext (RFC 3461): how Sendmail encodes certificate names in its macros.

struct XtextCase {
  std::string name;
  std::string in;
  std::string out;
};

void PrintTo(const XtextCase& c, std::ostream* os) { *os << c.name; }

class Xtext : public ::testing::TestWithParam<XtextCase> {};

TEST_P(Xtext, Decode) { EXPECT_EQ(xtext_decode(GetParam().in), GetParam().out); }

INSTANTIATE_TEST_SUITE_P(
    Table, Xtext,
    ::testing::Values(
        XtextCase{"empty", "", ""},
        XtextCase{"plain", "client.example.test", "client.example.test"},
        // What Sendmail 8.17 sent for the test CA and certificates (sendmail-e2e.sh).
        XtextCase{"sendmail_cn_issuer", "tlsgate+20test+20CA", "tlsgate test CA"},
        XtextCase{"sendmail_dn", "/O=tlsgate+20test/CN=tlsgate+20test+20CA",
                  "/O=tlsgate test/CN=tlsgate test CA"},
        XtextCase{"plus_equals_paren", "ops+2Brelay+20+3D+201+20(test+29", "ops+relay = 1 (test)"},
        XtextCase{"lowercase_hex", "a+2bb", "a+b"},
        XtextCase{"encoded_plus_then_hex", "+2B41", "+41"},  // decoded once, not twice
        XtextCase{"control_and_high_bytes", "x+0Ay+00z+FF", "x\ny\0z\xff"s},
        // Not xtext: kept as they are, never a crash.
        XtextCase{"lone_plus", "a+b", "a+b"}, XtextCase{"plus_at_end", "ab+", "ab+"},
        XtextCase{"plus_one_digit_at_end", "ab+4", "ab+4"},
        XtextCase{"plus_non_hex", "+G1+1G", "+G1+1G"}, XtextCase{"plus_plus", "++41", "+A"}),
    [](const auto& info) { return info.param.name; });

// ---------------------------------------------------------------------------
// Hostile macro values: never a crash, never a refusal turned into an accept.

std::vector<std::string> hostile_values() {
  return {
      ""s,
      std::string(100000, 'A'),
      std::string(1 << 20, '9'),
      "\x01\x02\x03\x7f\x1b[31m"s,
      "\"quoted\" 'single'"s,
      "TLSv1.3\n"s,
      "TLSv1.3\r\nX-Injected: yes"s,
      "line1\nline2"s,
      "="s,
      "key=value other=thing"s,
      "action=accept reason=none"s,
      "\xff\xfe\xc0\x80\xed\xa0\x80"s,  // not UTF-8
      "99999999999999999999999999999999"s,
      "18446744073709551616"s,
      "4294967552"s,  // 2^32 + 256
      "-256"s,
      "+256"s,
      "256 "s,
      " 256"s,
      "256\0"s,
      "TLSv1.3\0"s,
      "TLS_AES_256_GCM_SHA384\0"s,
      "\0TLSv1.3"s,
      "tlsv1.3"s,
      "TLSv1.4"s,
      "TLSv9"s,
      "SSLv3"s,
      "OK\n"s,
      "%s%s%s%n"s,
      "${jndi:ldap://x}"s,
  };
}

enum class Field { tls_version, cipher, cipher_bits, cert_subject, cert_issuer, auth_type };

struct HostileCase {
  Field field;
  std::string value;
};

void PrintTo(const HostileCase& c, std::ostream* os) {
  *os << "field " << static_cast<int>(c.field) << " value of " << c.value.size() << " bytes";
}

std::vector<HostileCase> hostile_cases() {
  std::vector<HostileCase> cases;
  for (Field f : {Field::tls_version, Field::cipher, Field::cipher_bits, Field::cert_subject,
                  Field::cert_issuer, Field::auth_type}) {
    for (auto& v : hostile_values()) cases.push_back({f, v});
  }
  return cases;
}

std::string_view& field_of(FactText& m, Field f) {
  switch (f) {
    case Field::tls_version: return m.tls_version;
    case Field::cipher: return m.cipher;
    case Field::cipher_bits: return m.cipher_bits;
    case Field::cert_subject: return m.cert_subject;
    case Field::cert_issuer: return m.cert_issuer;
    case Field::auth_type: return m.auth_type;
  }
  return m.auth_type;
}

std::shared_ptr<const CipherSet> expanded(CipherSet::Family family, const std::string& spec) {
  auto r = CipherSet::expand(family, spec);
  if (auto* set = std::get_if<CipherSet>(&r)) return std::make_shared<const CipherSet>(*set);
  throw std::runtime_error(std::get<std::string>(r));
}

// A rule that accepts good_tls() and constrains every TLS fact.
Rule strict_rule() {
  Rule r = built_in_rule();
  r.require_starttls = true;
  r.min_tls_version = TlsVersion::tls1_2;
  r.min_cipher_bits = 128;
  r.ciphers = expanded(CipherSet::Family::tls12, "ECDHE+AESGCM");
  r.tls13_ciphersuites = expanded(CipherSet::Family::tls13, "TLS_AES_256_GCM_SHA384");
  r.require_client_cert = true;
  r.client_cert_subject = "CN=mx.example.net";
  r.client_cert_issuer = "CN=Example CA";
  return r;
}

class HostileMacros : public ::testing::TestWithParam<HostileCase> {};

TEST_P(HostileMacros, NeverLoosensTheVerdict) {
  const HostileCase& c = GetParam();
  const Rule strict = strict_rule();
  ASSERT_FALSE(decide(strict, parse_facts(good_tls())).refused());

  // 1. In a good TLS session, replacing any TLS or certificate fact with a hostile value
  //    makes the strict rule refuse (none of the values is a valid one).
  if (c.field != Field::auth_type) {
    FactText m = good_tls();
    field_of(m, c.field) = c.value;
    const SessionFacts f = parse_facts(m);
    const Decision d = decide(strict, f);
    EXPECT_TRUE(d.refused()) << "accepted with a hostile value";
    EXPECT_NE(d.verdict, Verdict::accept);
    EXPECT_FALSE(d.credentials_exposed);
    // The values are kept verbatim (for the log to escape), never reinterpreted.
    switch (c.field) {
      case Field::cipher: EXPECT_EQ(f.cipher, c.value); break;
      case Field::cert_subject: EXPECT_EQ(f.cert_subject, c.value); break;
      case Field::cert_issuer: EXPECT_EQ(f.cert_issuer, c.value); break;
      case Field::tls_version: EXPECT_EQ(f.tls_version, std::nullopt); break;
      case Field::cipher_bits: EXPECT_EQ(f.cipher_bits, std::nullopt); break;
      case Field::auth_type: break;
    }
  }

  // 2. On a plaintext session, a hostile value in any macro never makes a rule that
  //    refuses the session accept it (a garbled {tls_version} is no TLS).
  for (const bool require_tls : {true, false}) {
    Rule r = built_in_rule();
    r.require_starttls = require_tls;
    FactText m;
    m.auth_type = "CRAM-MD5";  // AUTH before STARTTLS: refused under the defaults
    field_of(m, c.field) = c.value;
    const SessionFacts f = parse_facts(m);
    if (c.field == Field::auth_type && c.value.empty() && !require_tls) continue;  // no AUTH
    const Decision d = decide(r, f);
    EXPECT_TRUE(d.refused()) << "require_starttls=" << require_tls;
  }

  // 3. A hostile auth_type after STARTTLS is just a mechanism name: accepted, and
  //    no credentials are exposed.
  if (c.field == Field::auth_type) {
    FactText m = good_tls();
    m.auth_type = c.value;
    const SessionFacts f = parse_facts(m);
    EXPECT_EQ(f.auth_mechanism, c.value);
    const Decision d = decide(strict, f);
    EXPECT_FALSE(d.refused());
    EXPECT_FALSE(d.credentials_exposed);
  }

  // 4. Monitor mode accepts what it would refuse, and says so.
  {
    FactText m = good_tls();
    field_of(m, c.field) = c.value;
    Rule r = strict;
    r.mode = Mode::monitor;
    const Decision enforce = decide(strict, parse_facts(m));
    const Decision monitor = decide(r, parse_facts(m));
    EXPECT_EQ(monitor.would_reject, enforce.refused());
    EXPECT_EQ(monitor.reason, enforce.reason);
  }
}

INSTANTIATE_TEST_SUITE_P(Table, HostileMacros, ::testing::ValuesIn(hostile_cases()));

TEST(HostileMacros, EveryMacroHostileAtOnce) {
  const Rule strict = strict_rule();
  for (const std::string& v : hostile_values()) {
    FactText m;
    m.tls_version = m.cipher = m.cipher_bits = m.cert_subject = m.cert_issuer = m.auth_type = v;
    for (const bool by_mta : {false, true}) {
      m.cert_verified = by_mta;
      const SessionFacts f = parse_facts(m);
      const Decision d = decide(strict, f);
      EXPECT_TRUE(d.refused()) << v.size() << " bytes, by_mta=" << by_mta;
      EXPECT_EQ(d.verdict, Verdict::reject);
    }
  }
}

}  // namespace
}  // namespace tlsgate::policy
