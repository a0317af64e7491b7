// Fuzz target: MTA macro values -> parse_facts -> decide(), and the same values
// through a milter Session, in any order of SMTP stages (macro caching, the AUTH
// history, MAIL/RCPT/EOM, the records it logs).
//
// Input: lines. Line 1 is the rule, space-separated words: starttls, nobefore (no
// require_starttls_before_auth), plain (allow_unencrypted_plain_auth), cert, tempfail,
// monitor, min=VERSION, bits=N, ciphers=K, tls13=K (K picks a prepared cipher set),
// issuer=TEXT, subject=TEXT, postfix (the MTA vouches for certificates). Then one macro a line:
// {tls_version}, {cipher}, {cipher_bits}, {cert_subject}, {cert_issuer}, {verify}, {auth_type},
// {auth_authen}, v, {i}, and the client address; then, optionally, the sequence of
// stages the Session sees, one letter each (default "HMRE"): H EHLO in clear (no
// macros), T EHLO with the TLS macros, A EHLO in clear with {auth_type} (an AUTH
// before STARTTLS), M MAIL and R RCPT with every macro, r RCPT with the AUTH macros
// and the cipher swapped, m MAIL with no macros, E end of message, X abort.
// \n \r \t \\ \xNN escapes are read; a value stops at a NUL byte, as a C string
// from libmilter does.
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
//  - the Session, for the clean sequence HMRE, refuses at MAIL exactly when decide()
//    does, logs each decision as one line and one CSV record, logs the accepted
//    message at EOM, and does not decide again at RCPT when nothing changed;
//  - for any sequence: no stage answers accept where the same facts presented
//    cleanly (EHLO with the TLS macros, then MAIL) are refused (history can only
//    make a session stricter: issue 19), and a refusal is never followed by an
//    accept for the same facts in the same transaction.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/log_format.h"
#include "engine/session.h"
#include "policy/decision.h"
#include "policy/facts.h"
#include "policy/loader.h"
#include "policy/schema.h"
#include "t/fuzz/fuzz_support.h"

namespace tlsgate::fuzz {
namespace {

using policy::Decision;
using policy::FactText;
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
  Rule rule = policy::built_in_rule();
  bool by_mta = false;
  // tls_version, cipher, cipher_bits, cert_subject, cert_issuer, verify, auth_type,
  // auth_authen, v, i, client
  std::string macro[11];
  std::string sequence = "HMRE";
};

Input read_input(std::string_view text) {
  std::vector<std::string_view> lines;
  for (std::size_t pos = 0; pos <= text.size() && lines.size() < 13;) {
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
  }
  for (std::size_t i = 1; i < lines.size() && i <= 11; ++i)
    in.macro[i - 1] = unescape_loose(lines[i]);
  if (lines.size() > 12 && !lines[12].empty()) in.sequence = std::string(lines[12].substr(0, 16));
  return in;
}

FactText values_of(const Input& in) {
  FactText m;
  m.tls_version = in.macro[0];
  m.cipher = in.macro[1];
  m.cipher_bits = in.macro[2];
  m.cert_subject = in.macro[3];
  m.cert_issuer = in.macro[4];
  m.cert_verified = in.by_mta || in.macro[5] == "OK";
  m.auth_type = in.macro[6];
  return m;
}

int version_of(std::string_view v) {  // 0: not a version tlsgate knows
  if (v == "TLSv1") return 1;
  if (v == "TLSv1.1") return 2;
  if (v == "TLSv1.2") return 3;
  if (v == "TLSv1.3") return 4;
  return 0;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// The README's list: PLAIN, LOGIN, XOAUTH2, OAUTHBEARER, any case, any "-PLUS".
bool secret_bearing(std::string_view mech) {
  std::string m = upper(mech);
  while (m.size() > 5 && m.ends_with("-PLUS")) m.resize(m.size() - 5);
  return m == "PLAIN" || m == "LOGIN" || m == "XOAUTH2" || m == "OAUTHBEARER";
}

// The README's "How a session is judged", from the raw macro values.
Reason reference_reason(const Rule& rule, const FactText& m) {
  const int version = version_of(m.tls_version);
  const bool tls = version != 0;
  long bits = -1;  // -1: unknown
  if (!m.cipher_bits.empty() && m.cipher_bits.size() <= 5 &&
      m.cipher_bits.find_first_not_of("0123456789") == std::string_view::npos) {
    bits = std::stol(std::string(m.cipher_bits));
  }
  const bool auth = !m.auth_type.empty();
  const bool plain = secret_bearing(m.auth_type);

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
    const auto& list = version == 4 ? rule.tls13_ciphersuites : rule.ciphers;
    if (list && !list->contains(m.cipher)) return Reason::cipher_not_allowed;
  }
  if (rule.require_client_cert) {
    const bool has_cert = !m.cert_subject.empty() || !m.cert_issuer.empty();
    const bool verified = tls && has_cert && m.cert_verified;
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
  const FactText m = values_of(in);
  const policy::SessionFacts f = policy::parse_facts(m);
  const Decision d = policy::decide(rule, f);
  const Reason want = reference_reason(rule, m);
  FUZZ_CHECK(d.reason == want, "decide says %s, the README's table %s (tls_version=\"%s\")",
             std::string(policy::reason_name(d.reason)).c_str(),
             std::string(policy::reason_name(want)).c_str(), show(m.tls_version).c_str());
  check_decision_shape(rule, d);

  const bool tls = version_of(m.tls_version) != 0;
  const bool plain = secret_bearing(m.auth_type);
  FUZZ_CHECK(d.credentials_exposed == (!tls && plain), "credentials_exposed");
  FUZZ_CHECK(f.tls_active == tls, "tls_active");
  if (!tls && rule.require_starttls) FUZZ_CHECK(d.refused(), "plaintext accepted under starttls");
  if (!tls && plain && !rule.allow_unencrypted_plain_auth) {
    FUZZ_CHECK(d.refused(), "a password or token in clear accepted");
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
  Rule lax = policy::built_in_rule();
  lax.require_starttls_before_auth = false;
  lax.allow_unencrypted_plain_auth = true;
  FUZZ_CHECK(!policy::decide(lax, f).refused(), "a rule that requires nothing refuses");
}

// ---- the Session ----

struct Logged {
  engine::Severity severity;
  std::string line;
  std::string action;
  bool credentials_exposed;
};

void check_record(const engine::LogRecord& r, std::vector<Logged>& out, engine::Severity sev) {
  const std::string line = engine::format_log_line(r);
  for (const char ch : line) {
    const auto c = static_cast<unsigned char>(ch);
    FUZZ_CHECK(c >= 0x20 && c <= 0x7e, "log line with byte 0x%02x: %s", c, show(line).c_str());
  }
  const std::string row = engine::format_csv_row(r, 1700000000);
  FUZZ_CHECK(row.find_first_of("\r\n") == row.size() - 2, "CSV row spans lines: %s",
             show(row).c_str());
  static const std::size_t columns = parse_csv_record(engine::csv_header())->size();
  const auto fields = parse_csv_record(row);
  FUZZ_CHECK(fields && fields->size() == columns, "CSV row is not %zu fields: %s", columns,
             show(row).c_str());
  out.push_back({sev, line, std::string(r.action), r.credentials_exposed});
}

constexpr const char* kNames[] = {"{tls_version}",
                                  "{cipher}",
                                  "{cipher_bits}",
                                  "{cert_subject}",
                                  "{cert_issuer}",
                                  "{verify}",
                                  "{auth_type}",
                                  "{auth_authen}",
                                  "v",
                                  "{i}"};

// One stage's macros: kNames[i] -> values[i] (empty: not sent). Sendmail's CN
// macros carry the certificate names too.
struct StageMacros {
  std::string values[10];
  const char* get(const char* name) const {
    const std::string_view n(name);
    const auto value = [&](std::size_t i) -> const char* {
      return values[i].empty() ? nullptr : values[i].c_str();
    };
    if (n == "{cn_subject}") return value(3);
    if (n == "{cn_issuer}") return value(4);
    for (std::size_t i = 0; i < std::size(kNames); ++i) {
      if (n == kNames[i]) return value(i);
    }
    return nullptr;
  }
  engine::MacroLookup lookup() const {
    return [this](const char* name) { return get(name); };
  }
};

bool accepted(const Decision& d) { return d.verdict == policy::Verdict::accept; }

// The same facts presented cleanly: EHLO with the TLS macros (no AUTH), then MAIL.
Decision clean_verdict(const std::optional<policy::Address>& client, const std::string& mta_name,
                       const StageMacros& facts) {
  engine::Session s(session_policy, client, [](engine::Severity, const engine::LogRecord&) {});
  StageMacros connect;
  connect.values[8] = mta_name;
  s.at_connect(connect.lookup());
  StageMacros helo = facts;
  helo.values[6].clear();
  helo.values[7].clear();
  s.at_helo(helo.lookup());
  return s.at_mail(facts.lookup());
}

// HMRE: the Session agrees with decide() on the facts parsed the way the Session
// reads them, logs what it decides, and logs the message at its end.
void check_clean_session(const Input& in, const std::optional<policy::Address>& client,
                         const StageMacros& all) {
  std::vector<Logged> logged;
  engine::Session s(session_policy, client,
                    [&logged](engine::Severity sev, const engine::LogRecord& r) {
                      check_record(r, logged, sev);
                    });
  FUZZ_CHECK(&s.rule() == &session_policy->rule_for(client), "the session's rule");
  const Rule& rule = s.rule();
  StageMacros connect;
  connect.values[8] = all.values[8];
  s.at_connect(connect.lookup());
  StageMacros helo;  // EHLO in clear
  s.at_helo(helo.lookup());
  const Decision mail = s.at_mail(all.lookup());

  // The reference: what the Session should have parsed.
  // The MTA as the Session tells it: under TLS by {verify}, else by the name in v.
  const bool tls = version_of(in.macro[0]) != 0;
  const bool sendmail_kind =
      tls ? all.get("{verify}") != nullptr : !in.macro[8].starts_with("Postfix");
  FactText m;
  m.tls_version = in.macro[0];
  m.cipher = in.macro[1];
  m.cipher_bits = in.macro[2];
  const std::string subject = sendmail_kind ? policy::xtext_decode(in.macro[3]) : in.macro[3];
  const std::string issuer = sendmail_kind ? policy::xtext_decode(in.macro[4]) : in.macro[4];
  m.cert_subject = subject;
  m.cert_issuer = issuer;
  m.cert_verified = sendmail_kind ? in.macro[5] == "OK" : true;
  // {auth_type} counts at MAIL only beside {auth_authen} (issue 19.5).
  m.auth_type = in.macro[7].empty() ? std::string_view() : std::string_view(in.macro[6]);
  policy::SessionFacts facts = policy::parse_facts(m);
  // Sendmail keeps AUTH over STARTTLS: with no EHLO under TLS, an AUTH at MAIL under
  // TLS counts as made before it.
  facts.auth_before_tls = sendmail_kind && !m.auth_type.empty();
  const Decision d = policy::decide(rule, facts);
  const bool refuse = d.refused() && !d.would_reject;
  FUZZ_CHECK(!accepted(mail) == refuse, "MAIL answer vs decide() (%s)",
             std::string(policy::reason_name(d.reason)).c_str());
  FUZZ_CHECK(logged.size() == (d.refused() ? 1u : 0u), "%zu records at MAIL", logged.size());
  if (refuse) {
    FUZZ_CHECK(mail.smtp_code == d.smtp_code && logged[0].action == policy::action_name(d),
               "the refusal sent and logged");
  }
  if (!logged.empty()) {
    FUZZ_CHECK(logged[0].credentials_exposed == d.credentials_exposed, "credentials_exposed");
  }
  const std::size_t before = logged.size();
  const Decision rcpt = s.at_rcpt(all.lookup());
  FUZZ_CHECK(logged.size() == before, "RCPT re-decided unchanged facts");
  FUZZ_CHECK(accepted(rcpt) == accepted(mail), "RCPT answers otherwise than MAIL");
  const Decision eom = s.at_end_of_message(all.lookup());
  FUZZ_CHECK(accepted(eom) == accepted(mail), "end of message answers otherwise than MAIL");
  if (accepted(mail)) {
    FUZZ_CHECK(logged.size() == before + 1 && logged.back().action == "accept",
               "the accepted message was not logged at its end");
  } else {
    FUZZ_CHECK(logged.size() == before, "a refused message logged at its end");
  }
}

// Any sequence of stages: never an accept that the clean presentation refuses.
void check_sequence(const Input& in, const std::optional<policy::Address>& client,
                    const StageMacros& all) {
  std::vector<Logged> logged;
  engine::Session s(session_policy, client,
                    [&logged](engine::Severity sev, const engine::LogRecord& r) {
                      check_record(r, logged, sev);
                    });
  StageMacros connect;
  connect.values[8] = all.values[8];
  s.at_connect(connect.lookup());
  StageMacros changed = all;
  std::swap(changed.values[6], changed.values[1]);
  StageMacros tls_helo = all;
  tls_helo.values[6].clear();
  tls_helo.values[7].clear();
  StageMacros auth_helo;
  auth_helo.values[6] = all.values[6];
  const StageMacros empty;
  // The macros of the transaction's last decision, and whether it refused; a HELO,
  // an abort or the end of the message ends the transaction.
  const StageMacros* decided = nullptr;
  bool refused = false;
  for (const char step : in.sequence) {
    const StageMacros* facts = nullptr;
    Decision d;
    switch (step) {
      case 'H':
        s.at_helo(empty.lookup());
        decided = nullptr;
        continue;
      case 'T':
        s.at_helo(tls_helo.lookup());
        decided = nullptr;
        continue;
      case 'A':
        s.at_helo(auth_helo.lookup());
        decided = nullptr;
        continue;
      case 'X':
        s.at_abort();
        decided = nullptr;
        continue;
      case 'M': d = s.at_mail((facts = &all)->lookup()); break;
      case 'm': d = s.at_mail((facts = &empty)->lookup()); break;
      case 'R': d = s.at_rcpt((facts = &all)->lookup()); break;
      case 'r': d = s.at_rcpt((facts = &changed)->lookup()); break;
      case 'E':
        d = s.at_end_of_message(empty.lookup());
        if (decided != nullptr) {
          FUZZ_CHECK(accepted(d) == !refused, "end of message answers otherwise than its facts");
          facts = decided;
        }
        decided = nullptr;
        break;
      default: continue;
    }
    if (facts == nullptr) continue;
    if (accepted(d)) {
      const Decision clean = clean_verdict(client, all.values[8], *facts);
      FUZZ_CHECK(accepted(clean), "stage %c accepts what a clean session refuses (%s), sequence %s",
                 step, std::string(policy::reason_name(clean.reason)).c_str(), in.sequence.c_str());
    }
    if (step == 'R' || step == 'r') {
      FUZZ_CHECK(!(decided == facts && refused && accepted(d)),
                 "the same facts refused, then accepted (sequence %s)", in.sequence.c_str());
    }
    if (step != 'E') {
      decided = facts;
      refused = !accepted(d);
    }
  }
}

void check_session(const Input& in) {
  const auto client = policy::Address::parse(in.macro[10]);
  StageMacros all;
  for (std::size_t i = 0; i < std::size(kNames); ++i) all.values[i] = in.macro[i];
  check_clean_session(in, client, all);
  check_sequence(in, client, all);
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
