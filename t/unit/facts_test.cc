// facts_from_macros: session facts from MTA macro values, which come from the network.
#include "policy/facts.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "policy/decision.h"

namespace tlsgate::policy {
namespace {

using namespace std::string_literals;

// A TLS 1.3 session with a verified client certificate (Sendmail reports {verify}=OK).
MacroValues good_tls() {
  MacroValues m;
  m.tls_version = "TLSv1.3";
  m.cipher = "TLS_AES_256_GCM_SHA384";
  m.cipher_bits = "256";
  m.cert_subject = "CN=mx.example.net";
  m.cert_issuer = "CN=Example CA";
  m.verify = "OK";
  return m;
}

TEST(FactsFromMacros, NothingSentIsPlaintextWithoutAuth) {
  const SessionFacts f = facts_from_macros({});
  EXPECT_FALSE(f.tls_active);
  EXPECT_EQ(f.tls_version, std::nullopt);
  EXPECT_EQ(f.cipher, "");
  EXPECT_EQ(f.cipher_bits, std::nullopt);
  EXPECT_FALSE(f.cert_verified);
  EXPECT_EQ(f.auth_mechanism, "");
}

TEST(FactsFromMacros, GoodTlsSession) {
  MacroValues m = good_tls();
  m.auth_type = "PLAIN";
  const SessionFacts f = facts_from_macros(m);
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
  std::function<void(MacroValues&)> set;
  bool tls_active;
};

void PrintTo(const ActiveCase& c, std::ostream* os) { *os << c.name; }

class TlsActive : public ::testing::TestWithParam<ActiveCase> {};

TEST_P(TlsActive, AnyTlsMacroMeansTls) {
  MacroValues m;
  GetParam().set(m);
  EXPECT_EQ(facts_from_macros(m).tls_active, GetParam().tls_active);
}

INSTANTIATE_TEST_SUITE_P(
    Table, TlsActive,
    ::testing::Values(
        ActiveCase{"version", [](MacroValues& m) { m.tls_version = "TLSv1.2"; }, true},
        ActiveCase{"garbled_version", [](MacroValues& m) { m.tls_version = "??"; }, true},
        ActiveCase{"cipher", [](MacroValues& m) { m.cipher = "AES256-SHA"; }, true},
        ActiveCase{"bits", [](MacroValues& m) { m.cipher_bits = "256"; }, true},
        ActiveCase{"garbled_bits", [](MacroValues& m) { m.cipher_bits = "x"; }, true},
        // certificate and auth macros alone are not TLS
        ActiveCase{"cert_only",
                   [](MacroValues& m) {
                     m.cert_subject = "CN=x";
                     m.cert_issuer = "CN=y";
                     m.verify = "OK";
                   },
                   false},
        ActiveCase{"auth_only", [](MacroValues& m) { m.auth_type = "PLAIN"; }, false},
        ActiveCase{"verify_only", [](MacroValues& m) { m.verify = "OK"; }, false}),
    [](const auto& info) { return info.param.name; });

struct CertCase {
  std::string name;
  std::function<void(MacroValues&)> set;
  bool verified_by_mta;
  bool cert_verified;
};

void PrintTo(const CertCase& c, std::ostream* os) { *os << c.name; }

class CertVerified : public ::testing::TestWithParam<CertCase> {};

TEST_P(CertVerified, Table) {
  MacroValues m = good_tls();
  GetParam().set(m);
  EXPECT_EQ(facts_from_macros(m, GetParam().verified_by_mta).cert_verified,
            GetParam().cert_verified);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CertVerified,
    ::testing::Values(
        CertCase{"verify_ok", [](MacroValues&) {}, false, true},
        CertCase{"verify_fail", [](MacroValues& m) { m.verify = "FAIL"; }, false, false},
        CertCase{"verify_no", [](MacroValues& m) { m.verify = "NO"; }, false, false},
        CertCase{"verify_none", [](MacroValues& m) { m.verify = "NONE"; }, false, false},
        CertCase{"verify_empty", [](MacroValues& m) { m.verify = ""; }, false, false},
        CertCase{"verify_lowercase", [](MacroValues& m) { m.verify = "ok"; }, false, false},
        CertCase{"verify_ok_space", [](MacroValues& m) { m.verify = "OK "; }, false, false},
        CertCase{"verify_ok_nul", [](MacroValues& m) { m.verify = std::string_view("OK\0", 3); },
                 false, false},
        CertCase{"mta_verified", [](MacroValues& m) { m.verify = ""; }, true, true},
        CertCase{"mta_verified_subject_only",
                 [](MacroValues& m) {
                   m.verify = "";
                   m.cert_issuer = "";
                 },
                 true, true},
        CertCase{"no_certificate",
                 [](MacroValues& m) {
                   m.cert_subject = "";
                   m.cert_issuer = "";
                 },
                 false, false},
        CertCase{"no_certificate_mta",
                 [](MacroValues& m) {
                   m.cert_subject = "";
                   m.cert_issuer = "";
                 },
                 true, false},
        CertCase{"no_tls",
                 [](MacroValues& m) {
                   m.tls_version = "";
                   m.cipher = "";
                   m.cipher_bits = "";
                 },
                 true, false}),
    [](const auto& info) { return info.param.name; });

struct MechanismCase {
  std::string mechanism;
  bool plaintext;
};

void PrintTo(const MechanismCase& c, std::ostream* os) { *os << "\"" << c.mechanism << "\""; }

class PlaintextMechanism : public ::testing::TestWithParam<MechanismCase> {};

TEST_P(PlaintextMechanism, Table) {
  EXPECT_EQ(is_plaintext_mechanism(GetParam().mechanism), GetParam().plaintext);
}

INSTANTIATE_TEST_SUITE_P(
    Table, PlaintextMechanism,
    ::testing::Values(MechanismCase{"PLAIN", true}, MechanismCase{"LOGIN", true},
                      MechanismCase{"plain", true}, MechanismCase{"login", true},
                      MechanismCase{"Login", true}, MechanismCase{"pLAIN", true},
                      MechanismCase{"", false}, MechanismCase{"CRAM-MD5", false},
                      MechanismCase{"DIGEST-MD5", false}, MechanismCase{"SCRAM-SHA-256", false},
                      MechanismCase{"XOAUTH2", false}, MechanismCase{"EXTERNAL", false},
                      MechanismCase{"PLAINX", false}, MechanismCase{"PLAI", false},
                      MechanismCase{" PLAIN", false}, MechanismCase{"PLAIN\0"s, false},
                      MechanismCase{"LOGINLOGIN", false}));

// ---------------------------------------------------------------------------
// AuthHistory: was the AUTH that Sendmail reports at MAIL made before STARTTLS?

using Stage = AuthHistory::Stage;

struct Step {
  Stage stage;
  bool tls;
  bool auth;
};

struct HistoryCase {
  std::string name;
  std::vector<Step> steps;  // the callbacks, in order
  bool auth_before_tls;     // after the last one
};

void PrintTo(const HistoryCase& c, std::ostream* os) { *os << c.name; }

class History : public ::testing::TestWithParam<HistoryCase> {};

TEST_P(History, Table) {
  AuthHistory h;
  for (const Step& s : GetParam().steps) h.observe(s.stage, s.tls, s.auth);
  EXPECT_EQ(h.auth_before_tls(), GetParam().auth_before_tls);
}

constexpr Step kEhlo{Stage::helo, false, false};
constexpr Step kEhloAuth{Stage::helo, false, true};
constexpr Step kTlsEhlo{Stage::helo, true, false};
constexpr Step kTlsEhloAuth{Stage::helo, true, true};
constexpr Step kMail{Stage::mail, false, false};
constexpr Step kMailAuth{Stage::mail, false, true};
constexpr Step kTlsMail{Stage::mail, true, false};
constexpr Step kTlsMailAuth{Stage::mail, true, true};

INSTANTIATE_TEST_SUITE_P(
    Table, History,
    ::testing::Values(
        HistoryCase{"nothing", {}, false}, HistoryCase{"plaintext_no_auth", {kEhlo, kMail}, false},
        HistoryCase{"plaintext_auth", {kEhlo, kMailAuth}, true},
        HistoryCase{"tls_then_auth", {kEhlo, kTlsEhlo, kTlsMailAuth}, false},
        HistoryCase{
            "tls_then_auth_then_ehlo", {kEhlo, kTlsEhlo, kTlsEhloAuth, kTlsMailAuth}, false},
        // EHLO, AUTH, STARTTLS, EHLO, MAIL: Sendmail still reports the AUTH.
        HistoryCase{"auth_then_tls", {kEhlo, kTlsEhloAuth, kTlsMailAuth}, true},
        // EHLO, AUTH, EHLO, STARTTLS, EHLO, MAIL.
        HistoryCase{"auth_ehlo_then_tls", {kEhlo, kEhloAuth, kTlsEhloAuth, kTlsMailAuth}, true},
        // ... without the EHLO after STARTTLS: seen at the plaintext EHLO.
        HistoryCase{"auth_ehlo_then_tls_no_ehlo", {kEhlo, kEhloAuth, kTlsMailAuth}, true},
        // EHLO, AUTH, STARTTLS, MAIL: no callback in between, cannot be told.
        HistoryCase{"auth_then_tls_no_ehlo_known_limit", {kEhlo, kTlsMailAuth}, false},
        // A plaintext transaction with AUTH, then STARTTLS: still the same AUTH.
        HistoryCase{"plaintext_tx_then_tls", {kEhlo, kMailAuth, kTlsEhloAuth, kTlsMailAuth}, true},
        // The AUTH went away (an MTA that forgets it): nothing to remember.
        HistoryCase{"auth_forgotten", {kEhloAuth, kTlsEhlo, kTlsMail}, false},
        HistoryCase{"auth_forgotten_then_new_auth", {kEhloAuth, kTlsEhlo, kTlsMailAuth}, false},
        // Implicit TLS (SMTPS): TLS from the first EHLO, AUTH after it.
        HistoryCase{"smtps", {kTlsEhlo, kTlsMailAuth}, false},
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

enum class Field { tls_version, cipher, cipher_bits, cert_subject, cert_issuer, verify, auth_type };

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
                  Field::cert_issuer, Field::verify, Field::auth_type}) {
    for (auto& v : hostile_values()) cases.push_back({f, v});
  }
  return cases;
}

std::string_view& field_of(MacroValues& m, Field f) {
  switch (f) {
    case Field::tls_version: return m.tls_version;
    case Field::cipher: return m.cipher;
    case Field::cipher_bits: return m.cipher_bits;
    case Field::cert_subject: return m.cert_subject;
    case Field::cert_issuer: return m.cert_issuer;
    case Field::verify: return m.verify;
    case Field::auth_type: return m.auth_type;
  }
  return m.verify;
}

std::shared_ptr<const CipherSet> expanded(CipherSet::Family family, const std::string& spec) {
  auto r = CipherSet::expand(family, spec);
  if (auto* set = std::get_if<CipherSet>(&r)) return std::make_shared<const CipherSet>(*set);
  throw std::runtime_error(std::get<std::string>(r));
}

// A rule that accepts good_tls() and constrains every TLS fact.
Rule strict_rule() {
  Rule r;
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
  ASSERT_FALSE(decide(strict, facts_from_macros(good_tls())).refused());

  // 1. In a good TLS session, replacing any TLS or certificate fact with a hostile value
  //    makes the strict rule refuse (none of the values is a valid one).
  if (c.field != Field::auth_type) {
    MacroValues m = good_tls();
    field_of(m, c.field) = c.value;
    const SessionFacts f = facts_from_macros(m);
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
      case Field::verify: EXPECT_FALSE(f.cert_verified); break;
      case Field::auth_type: break;
    }
  }

  // 2. On a plaintext session, a hostile value in a certificate or AUTH macro never
  //    makes a rule that refuses the session accept it. (Any TLS macro at all means
  //    the MTA did TLS: part 1 covers garbled TLS values.)
  const bool tls_field =
      c.field == Field::tls_version || c.field == Field::cipher || c.field == Field::cipher_bits;
  for (const bool require_tls : {true, false}) {
    if (tls_field) break;
    Rule r;
    r.require_starttls = require_tls;
    MacroValues m;
    m.auth_type = "CRAM-MD5";  // AUTH before STARTTLS: refused under the defaults
    field_of(m, c.field) = c.value;
    const SessionFacts f = facts_from_macros(m);
    if (c.field == Field::auth_type && c.value.empty() && !require_tls) continue;  // no AUTH
    const Decision d = decide(r, f);
    EXPECT_TRUE(d.refused()) << "require_starttls=" << require_tls;
  }

  // 3. A hostile auth_type after STARTTLS is just a mechanism name: accepted, and
  //    no credentials are exposed.
  if (c.field == Field::auth_type) {
    MacroValues m = good_tls();
    m.auth_type = c.value;
    const SessionFacts f = facts_from_macros(m);
    EXPECT_EQ(f.auth_mechanism, c.value);
    const Decision d = decide(strict, f);
    EXPECT_FALSE(d.refused());
    EXPECT_FALSE(d.credentials_exposed);
  }

  // 4. Monitor mode accepts what it would refuse, and says so.
  {
    MacroValues m = good_tls();
    field_of(m, c.field) = c.value;
    Rule r = strict;
    r.mode = Mode::monitor;
    const Decision enforce = decide(strict, facts_from_macros(m));
    const Decision monitor = decide(r, facts_from_macros(m));
    EXPECT_EQ(monitor.would_reject, enforce.refused());
    EXPECT_EQ(monitor.reason, enforce.reason);
  }
}

INSTANTIATE_TEST_SUITE_P(Table, HostileMacros, ::testing::ValuesIn(hostile_cases()));

TEST(HostileMacros, EveryMacroHostileAtOnce) {
  const Rule strict = strict_rule();
  for (const std::string& v : hostile_values()) {
    MacroValues m;
    m.tls_version = m.cipher = m.cipher_bits = m.cert_subject = m.cert_issuer = m.verify =
        m.auth_type = v;
    for (const bool by_mta : {false, true}) {
      const SessionFacts f = facts_from_macros(m, by_mta);
      const Decision d = decide(strict, f);
      EXPECT_TRUE(d.refused()) << v.size() << " bytes, by_mta=" << by_mta;
      EXPECT_EQ(d.verdict, Verdict::reject);
    }
  }
}

}  // namespace
}  // namespace tlsgate::policy
