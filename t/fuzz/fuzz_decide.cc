// Fuzz target: MTA macro values -> facts_from_macros -> decide(), and the same values
// through a milter Session (macro caching, MAIL/RCPT/EOM, the records it logs).
//
// Input: lines. Line 1 is the rule, space-separated words: starttls, nobefore (no
// require_starttls_before_auth), plain (allow_unencrypted_plain_auth), cert, tempfail,
// monitor, min=VERSION, bits=N, ciphers=K, tls13=K (K picks a prepared cipher set),
// issuer=TEXT, subject=TEXT, postfix (the MTA vouches for certificates), change (the
// AUTH macros change between MAIL and RCPT). Then one macro a line: {tls_version},
// {cipher}, {cipher_bits}, {cert_subject}, {cert_issuer}, {verify}, {auth_type},
// {auth_authen}, v, {i}, and the client address. \n \r \t \\ \xNN escapes are read;
// a value stops at a NUL byte, as a C string from libmilter does.
//
// Properties:
//  - decide() agrees with a reference written from the README's table (the order of
//    the checks, what a garbled version or key size means);
//  - no accept (in enforce mode) without TLS when the rule requires STARTTLS, for a
//    PLAIN/LOGIN password in clear unless allowed, for AUTH before STARTTLS when that is
//    required, or with TLS below min_tls_version / a garbled version;
//  - monitor mode never refuses and says would-reject exactly when enforce refuses;
//    replies are 5xx for reject and 4xx for tempfail, with a matching status class;
//  - a stricter rule never accepts what the looser one refused; a rule that requires
//    nothing accepts everything;
//  - the Session refuses at MAIL exactly when decide() does, logs each decision as one
//    line and one CSV record, logs the accepted message at EOM, and decides again at
//    RCPT only when the macros changed.
#include <strings.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "milter/log_format.h"
#include "milter/session.h"
#include "policy/decision.h"
#include "policy/facts.h"
#include "policy/loader.h"
#include "t/fuzz/fuzz_support.h"

namespace tlsgate::fuzz {
namespace {

using policy::Decision;
using policy::MacroValues;
using policy::Reason;
using policy::Rule;
using policy::TlsVersion;

std::vector<std::shared_ptr<const policy::CipherSet>> tls12_sets;
std::vector<std::shared_ptr<const policy::CipherSet>> tls13_sets;
std::shared_ptr<const policy::Policy> session_policy;

std::shared_ptr<const policy::CipherSet> expand(policy::CipherSet::Family f, const char* spec) {
  auto r = policy::CipherSet::expand(f, spec);
  FUZZ_CHECK(std::holds_alternative<policy::CipherSet>(r), "cannot expand %s", spec);
  return std::make_shared<const policy::CipherSet>(std::get<policy::CipherSet>(std::move(r)));
}

// Sources with different rules; the client address picks one.
constexpr const char* kSessionConfig = R"([milter]
mode = enforce
[source default]
[source tls]
networks = 192.0.2.0/24
require_starttls = yes
min_tls_version = TLSv1.2
min_cipher_bits = 128
ciphers = ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL
tls13_ciphersuites = TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256
[source cert]
networks = 192.0.2.25/32, 2001:db8:25::/48
require_client_cert = yes
client_cert_issuer = Example CA
client_cert_subject = relay.example
[source monitor]
networks = 198.51.100.0/24
require_starttls = yes
mode = monitor
[source lax]
networks = 203.0.113.0/24, 2001:db8::/32
require_starttls_before_auth = no
allow_unencrypted_plain_auth = yes
action = tempfail
)";

void init() {
  using F = policy::CipherSet::Family;
  tls12_sets = {nullptr, expand(F::tls12, "HIGH:!aNULL"), expand(F::tls12, "ECDHE+AESGCM"),
                expand(F::tls12, "AES128-SHA")};
  tls13_sets = {nullptr, expand(F::tls13, "TLS_AES_256_GCM_SHA384"),
                expand(F::tls13, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256")};
  auto loaded = policy::load_policy_text(kSessionConfig, "session.ini", "");
  FUZZ_CHECK(loaded.policy != nullptr, "the session config does not load");
  session_policy = loaded.policy;
}

std::string unescape_loose(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    const char n = s[i + 1];
    if (n == 'n' || n == 'r' || n == 't' || n == '\\') {
      out += n == 'n' ? '\n' : n == 'r' ? '\r' : n == 't' ? '\t' : '\\';
      ++i;
    } else if (n == 'x' && i + 3 < s.size() && hex_digit(s[i + 2]) >= 0 &&
               hex_digit(s[i + 3]) >= 0) {
      out += static_cast<char>(hex_digit(s[i + 2]) * 16 + hex_digit(s[i + 3]));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out.substr(0, out.find('\0'));  // a C string ends at its NUL
}

struct Input {
  Rule rule;
  bool by_mta = false;
  bool change = false;
  // tls_version, cipher, cipher_bits, cert_subject, cert_issuer, verify, auth_type,
  // auth_authen, v, i, client
  std::string macro[11];
};

Input read_input(std::string_view text) {
  std::vector<std::string_view> lines;
  for (std::size_t pos = 0; pos <= text.size() && lines.size() < 12;) {
    const std::size_t nl = std::min(text.find('\n', pos), text.size());
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  Input in;
  Rule& r = in.rule;
  r.source = "fuzz";
  r.chain = {"fuzz", "default"};
  std::string_view spec = lines[0];
  for (std::size_t pos = 0; pos < spec.size();) {
    const std::size_t end = std::min(spec.find(' ', pos), spec.size());
    const std::string_view word = spec.substr(pos, end - pos);
    pos = end + 1;
    const std::size_t eq = word.find('=');
    const std::string_view key = word.substr(0, eq);
    const std::string value =
        eq == std::string_view::npos ? "" : unescape_loose(word.substr(eq + 1));
    auto number = [&value]() -> unsigned {
      unsigned n = 0;
      for (const char c : value.substr(0, 9)) n = c >= '0' && c <= '9' ? n * 10 + (c - '0') : n;
      return n;
    };
    if (key == "starttls") r.require_starttls = true;
    if (key == "nobefore") r.require_starttls_before_auth = false;
    if (key == "plain") r.allow_unencrypted_plain_auth = true;
    if (key == "cert") r.require_client_cert = true;
    if (key == "tempfail") r.action = policy::Action::tempfail;
    if (key == "monitor") r.mode = policy::Mode::monitor;
    if (key == "min") r.min_tls_version = policy::parse_tls_version(value);
    if (key == "bits") r.min_cipher_bits = number();
    if (key == "ciphers") r.ciphers = tls12_sets[number() % tls12_sets.size()];
    if (key == "tls13") r.tls13_ciphersuites = tls13_sets[number() % tls13_sets.size()];
    if (key == "issuer") r.client_cert_issuer = value;
    if (key == "subject") r.client_cert_subject = value;
    if (key == "postfix") in.by_mta = true;
    if (key == "change") in.change = true;
  }
  for (std::size_t i = 1; i < lines.size() && i <= 11; ++i)
    in.macro[i - 1] = unescape_loose(lines[i]);
  return in;
}

MacroValues values_of(const Input& in) {
  MacroValues m;
  m.tls_version = in.macro[0];
  m.cipher = in.macro[1];
  m.cipher_bits = in.macro[2];
  m.cert_subject = in.macro[3];
  m.cert_issuer = in.macro[4];
  m.verify = in.macro[5];
  m.auth_type = in.macro[6];
  return m;
}

bool ieq(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// The README's "How a session is judged", from the raw macro values.
Reason reference_reason(const Rule& rule, const MacroValues& m, bool by_mta) {
  const bool tls = !m.tls_version.empty() || !m.cipher.empty() || !m.cipher_bits.empty();
  int version = 0;  // 0: unknown
  if (m.tls_version == "TLSv1") version = 1;
  if (m.tls_version == "TLSv1.1") version = 2;
  if (m.tls_version == "TLSv1.2") version = 3;
  if (m.tls_version == "TLSv1.3") version = 4;
  long bits = -1;  // -1: unknown
  if (!m.cipher_bits.empty() && m.cipher_bits.size() <= 5 &&
      m.cipher_bits.find_first_not_of("0123456789") == std::string_view::npos) {
    bits = std::stol(std::string(m.cipher_bits));
  }
  const bool auth = !m.auth_type.empty();
  const bool plain = ieq(m.auth_type, "PLAIN") || ieq(m.auth_type, "LOGIN");

  if (auth && !tls && plain && !rule.allow_unencrypted_plain_auth) return Reason::plaintext_auth;
  if (auth && !tls && rule.require_starttls_before_auth) return Reason::auth_before_starttls;
  if (!tls && rule.require_starttls) return Reason::starttls_required;
  if (tls && rule.min_tls_version &&
      (version == 0 || version < static_cast<int>(*rule.min_tls_version))) {
    return Reason::tls_version_too_low;
  }
  if (tls && rule.min_cipher_bits > 0 && (bits < 0 || bits < long{rule.min_cipher_bits})) {
    return Reason::cipher_too_weak;
  }
  if (tls) {
    if (version == 0) {
      if (rule.ciphers || rule.tls13_ciphersuites) return Reason::cipher_not_allowed;
    } else {
      const auto& list = version == 4 ? rule.tls13_ciphersuites : rule.ciphers;
      if (list && !list->contains(m.cipher)) return Reason::cipher_not_allowed;
    }
  }
  if (rule.require_client_cert) {
    const bool has_cert = !m.cert_subject.empty() || !m.cert_issuer.empty();
    const bool verified = tls && has_cert && (by_mta || m.verify == "OK");
    if (!verified ||
        (!rule.client_cert_issuer.empty() && m.cert_issuer != rule.client_cert_issuer) ||
        (!rule.client_cert_subject.empty() && m.cert_subject != rule.client_cert_subject)) {
      return Reason::client_cert_required;
    }
  }
  return Reason::none;
}

void check_decision_shape(const Rule& rule, const Decision& d) {
  const bool enforce = rule.mode == policy::Mode::enforce;
  FUZZ_CHECK(d.refused() == (d.reason != Reason::none), "refused()");
  if (!d.refused()) {
    FUZZ_CHECK(d.verdict == policy::Verdict::accept && !d.would_reject && d.smtp_code == 0,
               "an accepted session with a refusal's fields");
    FUZZ_CHECK(policy::action_name(d) == "accept", "action %s",
               std::string(policy::action_name(d)).c_str());
    return;
  }
  FUZZ_CHECK(d.would_reject == !enforce, "would_reject %d in %s mode", d.would_reject,
             enforce ? "enforce" : "monitor");
  FUZZ_CHECK(enforce ? d.verdict != policy::Verdict::accept : d.verdict == policy::Verdict::accept,
             "verdict");
  const bool tempfail = rule.action == policy::Action::tempfail;
  FUZZ_CHECK(d.smtp_code / 100 == (tempfail ? 4 : 5) && !d.status_code.empty() &&
                 d.status_code[0] == (tempfail ? '4' : '5') && !d.text.empty(),
             "reply %d %s for action %s", d.smtp_code, std::string(d.status_code).c_str(),
             tempfail ? "tempfail" : "reject");
  if (enforce) {
    FUZZ_CHECK(d.verdict == (tempfail ? policy::Verdict::tempfail : policy::Verdict::reject),
               "verdict vs action");
  }
  FUZZ_CHECK(policy::reason_name(d.reason) != "none", "reason name");
}

void check_decide(const Input& in) {
  const Rule& rule = in.rule;
  const MacroValues m = values_of(in);
  const policy::SessionFacts f = policy::facts_from_macros(m, in.by_mta);
  const Decision d = policy::decide(rule, f);
  const Reason want = reference_reason(rule, m, in.by_mta);
  FUZZ_CHECK(d.reason == want, "decide says %s, the README's table %s (tls_version=\"%s\")",
             std::string(policy::reason_name(d.reason)).c_str(),
             std::string(policy::reason_name(want)).c_str(), show(m.tls_version).c_str());
  check_decision_shape(rule, d);

  const bool tls = !m.tls_version.empty() || !m.cipher.empty() || !m.cipher_bits.empty();
  const bool plain = ieq(m.auth_type, "PLAIN") || ieq(m.auth_type, "LOGIN");
  FUZZ_CHECK(d.credentials_exposed == (!tls && plain), "credentials_exposed");
  FUZZ_CHECK(f.tls_active == tls, "tls_active");
  if (!tls && rule.require_starttls) FUZZ_CHECK(d.refused(), "plaintext accepted under starttls");
  if (!tls && plain && !rule.allow_unencrypted_plain_auth) {
    FUZZ_CHECK(d.refused(), "a PLAIN/LOGIN password in clear accepted");
  }
  if (!tls && !m.auth_type.empty() && rule.require_starttls_before_auth) {
    FUZZ_CHECK(d.refused(), "AUTH before STARTTLS accepted");
  }
  if (tls && rule.min_tls_version && !d.refused()) {
    FUZZ_CHECK(f.tls_version && *f.tls_version >= *rule.min_tls_version,
               "TLS version \"%s\" accepted under min %d", show(m.tls_version).c_str(),
               static_cast<int>(*rule.min_tls_version));
  }

  // Stricter rules never accept what this one refused.
  std::vector<Rule> stricter(7, rule);
  stricter[0].require_starttls = true;
  stricter[1].require_client_cert = true;
  stricter[2].min_cipher_bits = rule.min_cipher_bits + 1;
  stricter[3].min_tls_version = TlsVersion::tls1_3;
  stricter[4].allow_unencrypted_plain_auth = false;
  stricter[5].require_starttls_before_auth = true;
  stricter[6].mode = policy::Mode::enforce;
  for (std::size_t i = 0; i < stricter.size(); ++i) {
    const Decision s = policy::decide(stricter[i], f);
    if (d.refused()) FUZZ_CHECK(s.refused(), "stricter rule %zu accepts what the rule refused", i);
  }
  // A rule that requires nothing accepts everything.
  Rule lax;
  lax.require_starttls_before_auth = false;
  lax.allow_unencrypted_plain_auth = true;
  FUZZ_CHECK(!policy::decide(lax, f).refused(), "a rule that requires nothing refuses");
}

// ---- the Session ----

struct Logged {
  milter::Severity severity;
  std::string line;
  std::string csv;
  std::string action, tls, cert_subject;
  bool credentials_exposed;
};

void check_record(const milter::LogRecord& r, std::vector<Logged>& out, milter::Severity sev) {
  const std::string line = milter::format_log_line(r);
  for (const char ch : line) {
    const auto c = static_cast<unsigned char>(ch);
    FUZZ_CHECK(c >= 0x20 && c <= 0x7e, "log line with byte 0x%02x: %s", c, show(line).c_str());
  }
  const std::string row = milter::format_csv_row(r, 1700000000);
  FUZZ_CHECK(row.find_first_of("\r\n") == row.size() - 2, "CSV row spans lines: %s",
             show(row).c_str());
  const auto fields = parse_csv_record(row);
  FUZZ_CHECK(fields && fields->size() == 14, "CSV row is not 14 fields: %s", show(row).c_str());
  out.push_back({sev, line, row, std::string(r.action), std::string(r.tls),
                 std::string(r.cert_subject), r.credentials_exposed});
}

void check_session(const Input& in) {
  const auto client = policy::Address::parse(in.macro[10]);
  std::vector<Logged> logged;
  milter::Session s(session_policy, client,
                    [&logged](milter::Severity sev, const milter::LogRecord& r) {
                      check_record(r, logged, sev);
                    });
  FUZZ_CHECK(&s.rule() == &session_policy->rule_for(client), "the session's rule");
  const Rule& rule = s.rule();

  std::string macros[11];
  std::copy(std::begin(in.macro), std::end(in.macro), std::begin(macros));
  const char* names[] = {"{tls_version}",
                         "{cipher}",
                         "{cipher_bits}",
                         "{cert_subject}",
                         "{cert_issuer}",
                         "{verify}",
                         "{auth_type}",
                         "{auth_authen}",
                         "v",
                         "{i}"};
  auto getter = [&](const char* name) -> const char* {
    // Sendmail: the session reads the certificate CNs, xtext-encoded, from these.
    if (std::string_view(name) == "{cn_subject}")
      return macros[3].empty() ? nullptr : macros[3].c_str();
    if (std::string_view(name) == "{cn_issuer}")
      return macros[4].empty() ? nullptr : macros[4].c_str();
    for (std::size_t i = 0; i < std::size(names); ++i) {
      if (std::string_view(name) == names[i]) {
        return macros[i].empty() ? nullptr : macros[i].c_str();
      }
    }
    return nullptr;
  };
  s.on_connect_macros(getter);
  s.on_tls_macros(getter);
  s.on_mail_macros(getter);

  const bool postfix = macros[8].starts_with("Postfix");
  const std::string subject = postfix ? macros[3] : policy::xtext_decode(macros[3]);
  const std::string issuer = postfix ? macros[4] : policy::xtext_decode(macros[4]);
  MacroValues m;
  m.tls_version = macros[0];
  m.cipher = macros[1];
  m.cipher_bits = macros[2];
  m.cert_subject = subject;
  m.cert_issuer = issuer;
  m.verify = macros[5];
  m.auth_type = macros[6];
  policy::SessionFacts facts = policy::facts_from_macros(m, postfix);
  policy::AuthHistory history;
  if (!postfix) {  // Sendmail keeps an AUTH across STARTTLS: the session tracks it
    history.observe(policy::AuthHistory::Stage::helo, facts.tls_active, !m.auth_type.empty());
    history.observe(policy::AuthHistory::Stage::mail, facts.tls_active, !m.auth_type.empty());
    facts.auth_before_tls = history.auth_before_tls();
  }
  const Decision d = policy::decide(rule, facts);
  const bool refuse = d.refused() && !d.would_reject;

  const milter::Outcome mail = s.on_mail();
  FUZZ_CHECK((mail.step != milter::Outcome::Step::proceed) == refuse,
             "MAIL outcome vs decide() (%s)", std::string(policy::reason_name(d.reason)).c_str());
  FUZZ_CHECK(logged.size() == (d.refused() ? 1u : 0u), "%zu records at MAIL", logged.size());
  if (refuse) {
    FUZZ_CHECK(mail.code == std::to_string(d.smtp_code) && mail.status == d.status_code &&
                   logged[0].action == policy::action_name(d),
               "the refusal sent and logged");
  }
  if (!logged.empty()) {
    const bool tls = !m.tls_version.empty() || !m.cipher.empty() || !m.cipher_bits.empty();
    FUZZ_CHECK((logged[0].tls == "none") == !tls, "tls=%s", logged[0].tls.c_str());
    FUZZ_CHECK(logged[0].credentials_exposed == d.credentials_exposed, "credentials_exposed");
  }

  // RCPT with the same macros decides nothing new. (After a refused MAIL the MTA
  // sends no RCPT: the session need not repeat the refusal.)
  const std::size_t before = logged.size();
  const milter::Outcome rcpt = s.on_rcpt();
  FUZZ_CHECK(logged.size() == before, "RCPT re-decided unchanged facts");
  if (!refuse) FUZZ_CHECK(rcpt.step == milter::Outcome::Step::proceed, "RCPT refused after MAIL");

  if (in.change) {  // AUTH state changes before the next RCPT: decided afresh
    std::swap(macros[6], macros[1]);
    s.on_mail_macros(getter);
    m.auth_type = macros[6];
    m.cipher = macros[1];
    policy::SessionFacts facts2 = policy::facts_from_macros(m, postfix);
    if (!postfix) {
      history.observe(policy::AuthHistory::Stage::mail, facts2.tls_active, !m.auth_type.empty());
      facts2.auth_before_tls = history.auth_before_tls();
    }
    const Decision d2 = policy::decide(rule, facts2);
    const milter::Outcome again = s.on_rcpt();
    const bool refuse2 = d2.refused() && !d2.would_reject;
    if (macros[6] != macros[1]) {
      FUZZ_CHECK((again.step != milter::Outcome::Step::proceed) == refuse2,
                 "RCPT outcome after a change vs decide()");
    }
    if (refuse2) return;
  } else if (refuse) {
    return;
  }
  const std::size_t at_eom = logged.size();
  s.on_eom_macros(getter);
  s.on_eom();
  FUZZ_CHECK(logged.size() == at_eom + 1 && logged.back().action == "accept",
             "the accepted message was not logged at EOM");
  s.on_eom();
  FUZZ_CHECK(logged.size() == at_eom + 1, "a second EOM logged again");
}

}  // namespace
}  // namespace tlsgate::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tlsgate::fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tlsgate::fuzz;
  const Input in = read_input(std::string_view(reinterpret_cast<const char*>(data), size));
  check_decide(in);
  check_session(in);
  return 0;
}
