// The milter session: a sequence of events (connect, HELO with its macros, MAIL,
// RCPT, end of message, abort) -> the answer at each step, and the exact log lines
// and CSV rows the session writes. Each row is one SMTP session as an MTA would
// report it; the macro values are what libmilter would hand the callbacks.
#include "engine/session.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "engine/accounting.h"
#include "engine/metrics.h"
#include "policy/loader.h"
#include "t/unit/test_support.h"

namespace tlsgate::engine {
namespace {

using policy::testing::addr;

constexpr const char* kConfig = R"([source default]
[source tls]
networks = 192.0.2.0/24
require_starttls = yes
min_tls_version = TLSv1.2
[source cert]
networks = 192.0.2.25
require_starttls = yes
require_client_cert = yes
client_cert_issuer = Example CA
[source monitor]
networks = 198.51.100.0/24
require_starttls = yes
mode = monitor
[source lax]
networks = 203.0.113.0/24
require_starttls_before_auth = no
allow_unencrypted_plain_auth = yes
action = tempfail
[partner bank]
sender_domains = bank.example, *.bank.example
networks = 192.0.2.0/24
require_starttls = yes
min_tls_version = TLSv1.3
[partner legal]
recipient_domains = legal.example.org
require_starttls = yes
[partner watch]
sender_domains = watch.example
require_starttls = yes
mode = monitor
[partner soft]
recipient_domains = soft.example
min_tls_version = TLSv1.3
action = tempfail
[partner pair]
sender_domains = pair.example
recipient_domains = hr.example.org
require_client_cert = yes
)";

std::shared_ptr<const policy::Policy> load(const std::string& extra = "") {
  auto loaded = policy::load_policy_text(extra + kConfig, "session.ini", "");
  if (!loaded.policy) throw std::runtime_error(loaded.errors.at(0).to_string());
  return loaded.policy;
}

using MacroMap = std::map<std::string, std::string>;

struct Step {
  enum Kind { connect, helo, mail, rcpt, eom, abort } kind;
  MacroMap macros;
  std::string answer = "";  // mail/rcpt/eom: "continue", or "reject 530 5.7.0" ...
  std::optional<std::string> address = std::nullopt;  // MAIL FROM's or RCPT TO's
};

struct SessionCase {
  std::string name;
  std::string client;  // an address, or "" for an unknown client
  std::vector<Step> steps;
  std::vector<std::string> lines;  // "severity: line", in order
  std::string milter_config = "";  // [milter] lines
};

void PrintTo(const SessionCase& c, std::ostream* os) { *os << c.name; }

std::string severity_name(Severity s) {
  switch (s) {
    case Severity::error: return "err";
    case Severity::warning: return "warning";
    case Severity::notice: return "notice";
    case Severity::info: return "info";
  }
  return "?";
}

std::string answer_of(const policy::Decision& d) {
  switch (d.verdict) {
    case policy::Verdict::accept: return "continue";
    case policy::Verdict::reject:
      return "reject " + std::to_string(d.smtp_code) + " " + std::string(d.status_code);
    case policy::Verdict::tempfail:
      return "tempfail " + std::to_string(d.smtp_code) + " " + std::string(d.status_code);
  }
  return "?";
}

struct Logged {
  std::vector<std::string> lines;
  std::vector<std::string> rows;
};

Logged run(const SessionCase& c) {
  Logged out;
  const std::optional<policy::Address> client =
      c.client.empty() ? std::nullopt : std::optional(addr(c.client));
  const std::string milter = c.milter_config.empty() ? "" : "[milter]\n" + c.milter_config + "\n";
  Session s(load(milter), client, [&out](Severity sev, const LogRecord& r) {
    out.lines.push_back(severity_name(sev) + ": " + format_log_line(r));
    out.rows.push_back(format_csv_row(r, 0));
  });
  for (std::size_t i = 0; i < c.steps.size(); ++i) {
    const Step& step = c.steps[i];
    const MacroLookup lookup = [&step](const char* name) -> const char* {
      const auto it = step.macros.find(name);
      return it == step.macros.end() ? nullptr : it->second.c_str();
    };
    std::string answer;
    switch (step.kind) {
      case Step::connect: s.at_connect(lookup); break;
      case Step::helo: s.at_helo(lookup); break;
      case Step::mail: answer = answer_of(s.at_mail(lookup, step.address)); break;
      case Step::rcpt: answer = answer_of(s.at_rcpt(lookup, step.address)); break;
      case Step::eom: answer = answer_of(s.at_end_of_message(lookup)); break;
      case Step::abort: s.at_abort(); break;
    }
    EXPECT_EQ(answer, step.answer) << "step " << i;
  }
  return out;
}

class SessionTable : public ::testing::TestWithParam<SessionCase> {};

TEST_P(SessionTable, AnswersAndLogLines) {
  const Logged r = run(GetParam());
  EXPECT_EQ(r.lines, GetParam().lines);
  // One CSV row per log line, one line each, always the header's 14 columns.
  ASSERT_EQ(r.rows.size(), r.lines.size());
  for (const std::string& row : r.rows) {
    EXPECT_EQ(row.find_first_of("\r\n"), row.size() - 2) << row;
  }
}

// Macros a step can carry (the names libmilter gives).
const MacroMap kPostfix{{"v", "Postfix 3.7.11"}};
const MacroMap kSendmail{{"v", "8.17.1.9"}};
const MacroMap kTls13{
    {"{tls_version}", "TLSv1.3"}, {"{cipher}", "TLS_AES_256_GCM_SHA384"}, {"{cipher_bits}", "256"}};

MacroMap with(MacroMap base, const MacroMap& more) {
  for (const auto& [k, v] : more) base[k] = v;
  return base;
}

MacroMap tls13(const MacroMap& more = {}) { return with(kTls13, more); }
MacroMap sendmail_tls13(const MacroMap& more = {}) {
  return with(with(kTls13, {{"{verify}", "NO"}}), more);
}

const std::string kAcceptTls13 =
    "tls=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 auth=none cert=none";

INSTANTIATE_TEST_SUITE_P(
    Table, SessionTable,
    ::testing::Values(
        SessionCase{"plaintext_accepted_and_logged_at_end_of_message",
                    "10.0.0.1",
                    {{Step::connect, kPostfix},
                     {Step::helo, {}},
                     {Step::mail, {}, "continue"},
                     {Step::rcpt, {}, "continue"},
                     {Step::eom, {{"{i}", "4Xk2Lz0c1Qz9"}}, "continue"}},
                    {"info: 4Xk2Lz0c1Qz9: action=accept client=10.0.0.1 source=default tls=none "
                     "auth=none cert=none"}},
        SessionCase{"tls13_two_messages",
                    "192.0.2.10",
                    {{Step::connect, kPostfix},
                     {Step::helo, tls13()},
                     {Step::mail, tls13(), "continue"},
                     {Step::rcpt, tls13(), "continue"},
                     {Step::eom, {{"{i}", "A1"}}, "continue"},
                     {Step::mail, tls13(), "continue"},
                     {Step::eom, {{"{i}", "A2"}}, "continue"}},
                    {"info: A1: action=accept client=192.0.2.10 source=tls " + kAcceptTls13,
                     "info: A2: action=accept client=192.0.2.10 source=tls " + kAcceptTls13}},
        // Issue 19.1: Cyrus SASL authenticates PLAIN-PLUS as PLAIN.
        SessionCase{"plain_plus_in_clear_refused",
                    "10.0.0.1",
                    {{Step::connect, kPostfix},
                     {Step::helo, {}},
                     {Step::mail,
                      {{"{auth_type}", "PLAIN-PLUS"}, {"{auth_authen}", "alice"}},
                      "reject 530 5.7.10"}},
                    {"warning: NOQUEUE: action=reject reason=plaintext_auth client=10.0.0.1 "
                     "source=default tls=none auth=PLAIN-PLUS auth_user=alice cert=none "
                     "reply=\"530 5.7.10 Encryption needed for PLAIN/LOGIN authentication\" "
                     "credentials_exposed=yes"}},
        SessionCase{
            "xoauth2_in_clear_exposes_a_token",
            "203.0.113.5",
            {{Step::connect, kPostfix},
             {Step::mail, {{"{auth_type}", "XOAUTH2"}, {"{auth_authen}", "bob"}}, "continue"},
             {Step::eom, {{"{i}", "Q1"}}, "continue"}},
            {"warning: Q1: action=accept client=203.0.113.5 source=lax tls=none "
             "auth=XOAUTH2 auth_user=bob cert=none credentials_exposed=yes"}},
        // Issue 19.2: only a known {tls_version} is TLS; the rest is logged as sent.
        SessionCase{
            "tls_version_NONE_is_no_tls",
            "192.0.2.10",
            {{Step::connect, kPostfix},
             {Step::mail, {{"{tls_version}", "NONE"}, {"{cipher_bits}", "0"}}, "reject 530 5.7.0"}},
            {"notice: NOQUEUE: action=reject reason=starttls_required client=192.0.2.10 "
             "source=tls tls=NONE cipher=none bits=0 auth=none cert=none "
             "reply=\"530 5.7.0 Must issue a STARTTLS command first\""}},
        SessionCase{"tls_version_literal_none_is_quoted",
                    "192.0.2.10",
                    {{Step::connect, kPostfix},
                     {Step::mail, {{"{tls_version}", "none"}}, "reject 530 5.7.0"}},
                    {"notice: NOQUEUE: action=reject reason=starttls_required client=192.0.2.10 "
                     "source=tls tls=\"none\" cipher=none bits=none auth=none cert=none "
                     "reply=\"530 5.7.0 Must issue a STARTTLS command first\""}},
        SessionCase{"cipher_alone_is_no_tls",
                    "192.0.2.10",
                    {{Step::connect, kPostfix},
                     {Step::mail,
                      {{"{cipher}", "TLS_AES_256_GCM_SHA384"}, {"{cipher_bits}", "256"}},
                      "reject 530 5.7.0"}},
                    {"notice: NOQUEUE: action=reject reason=starttls_required client=192.0.2.10 "
                     "source=tls tls=none cipher=TLS_AES_256_GCM_SHA384 bits=256 auth=none "
                     "cert=none reply=\"530 5.7.0 Must issue a STARTTLS command first\""}},
        SessionCase{
            "plain_under_a_bogus_version_is_in_clear",
            "10.0.0.1",
            {{Step::connect, kPostfix},
             {Step::mail,
              {{"{tls_version}", "(NONE)"}, {"{auth_type}", "PLAIN"}, {"{auth_authen}", "carol"}},
              "reject 530 5.7.10"}},
            {"warning: NOQUEUE: action=reject reason=plaintext_auth client=10.0.0.1 "
             "source=default tls=(NONE) cipher=none bits=none auth=PLAIN auth_user=carol "
             "cert=none reply=\"530 5.7.10 Encryption needed for PLAIN/LOGIN "
             "authentication\" credentials_exposed=yes"}},
        // Issue 19.3: Sendmail keeps an AUTH over STARTTLS; with no EHLO under TLS it
        // cannot be shown to follow STARTTLS.
        SessionCase{"sendmail_auth_then_starttls_without_ehlo_refused",
                    "10.0.0.1",
                    {{Step::connect, kSendmail},
                     {Step::helo, {{"{verify}", "NONE"}}},
                     {Step::mail,
                      {{"{i}", "SM1"},
                       {"{auth_type}", "CRAM-MD5"},
                       {"{auth_authen}", "dave"},
                       {"{tls_version}", "TLSv1.3"},
                       {"{cipher}", "TLS_AES_256_GCM_SHA384"},
                       {"{cipher_bits}", "256"},
                       {"{verify}", "NO"}},
                      "reject 530 5.7.10"}},
                    {"notice: SM1: action=reject reason=auth_before_starttls client=10.0.0.1 "
                     "source=default tls=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 "
                     "auth=CRAM-MD5 auth_user=dave cert=none reply=\"530 5.7.10 Encryption "
                     "needed: authenticate after STARTTLS\""}},
        SessionCase{
            "sendmail_ehlo_starttls_ehlo_auth_accepted",
            "10.0.0.1",
            {{Step::connect, kSendmail},
             {Step::helo, {{"{verify}", "NONE"}}},
             {Step::helo, sendmail_tls13()},
             {Step::mail,
              sendmail_tls13({{"{i}", "SM2"}, {"{auth_type}", "PLAIN"}, {"{auth_authen}", "dave"}}),
              "continue"},
             {Step::eom, {{"{i}", "SM2"}}, "continue"}},
            {"info: SM2: action=accept client=10.0.0.1 source=default " +
             std::string("tls=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 auth=PLAIN "
                         "auth_user=dave cert=none")}},
        SessionCase{
            "sendmail_plain_before_starttls_with_ehlo_refused",
            "10.0.0.1",
            {{Step::connect, kSendmail},
             {Step::helo, {}},
             {Step::helo, sendmail_tls13({{"{auth_type}", "PLAIN"}})},
             {Step::mail, sendmail_tls13({{"{auth_type}", "PLAIN"}, {"{auth_authen}", "erin"}}),
              "reject 530 5.7.10"}},
            {"warning: NOQUEUE: action=reject reason=plaintext_auth client=10.0.0.1 "
             "source=default tls=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 "
             "auth=PLAIN auth_user=erin cert=none reply=\"530 5.7.10 Encryption needed "
             "for PLAIN/LOGIN authentication\" credentials_exposed=yes"}},
        // Issue 19.4: the same facts give the same answer; a message that reaches the
        // end of message is logged, and a refused one is refused there too.
        SessionCase{"rcpt_after_a_refused_rcpt_is_refused",
                    "192.0.2.10",
                    {{Step::connect, kPostfix},
                     {Step::mail, tls13(), "continue"},
                     {Step::rcpt, {}, "reject 530 5.7.0"},
                     {Step::rcpt, {}, "reject 530 5.7.0"},
                     {Step::eom, {{"{i}", "R1"}}, "reject 530 5.7.0"}},
                    {"notice: NOQUEUE: action=reject reason=starttls_required client=192.0.2.10 "
                     "source=tls tls=none auth=none cert=none reply=\"530 5.7.0 Must issue a "
                     "STARTTLS command first\""}},
        SessionCase{"rcpt_after_a_refused_mail_is_refused",
                    "192.0.2.10",
                    {{Step::connect, kPostfix},
                     {Step::mail, {}, "reject 530 5.7.0"},
                     {Step::rcpt, {}, "reject 530 5.7.0"}},
                    {"notice: NOQUEUE: action=reject reason=starttls_required client=192.0.2.10 "
                     "source=tls tls=none auth=none cert=none reply=\"530 5.7.0 Must issue a "
                     "STARTTLS command first\""}},
        SessionCase{"refused_then_accepted_facts_then_message_logged",
                    "192.0.2.10",
                    {{Step::connect, kPostfix},
                     {Step::mail, tls13(), "continue"},
                     {Step::rcpt, {}, "reject 530 5.7.0"},
                     {Step::rcpt, tls13(), "continue"},
                     {Step::eom, {{"{i}", "R2"}}, "continue"}},
                    {"notice: NOQUEUE: action=reject reason=starttls_required client=192.0.2.10 "
                     "source=tls tls=none auth=none cert=none reply=\"530 5.7.0 Must issue a "
                     "STARTTLS command first\"",
                     "info: R2: action=accept client=192.0.2.10 source=tls " + kAcceptTls13}},
        // Issue 19.5: libmilter hands MAIL the HELO stage's {auth_type} when MAIL has
        // none; Postfix forgot that AUTH at STARTTLS. Not an AUTH now, but the password
        // did cross in clear.
        SessionCase{"stale_helo_auth_type_is_not_an_auth",
                    "10.0.0.1",
                    {{Step::connect, kPostfix},
                     {Step::helo, {}},
                     {Step::helo, {{"{auth_type}", "PLAIN"}}},
                     {Step::mail, tls13({{"{auth_type}", "PLAIN"}}), "continue"},
                     {Step::eom, {{"{i}", "S1"}}, "continue"}},
                    {"warning: S1: action=accept client=10.0.0.1 source=default " + kAcceptTls13 +
                     " credentials_exposed=yes"}},
        // Issue 19.6: the MTA is recognised by what it sends, not only by its name.
        SessionCase{"renamed_postfix_verified_certificate",
                    "192.0.2.25",
                    {{Step::connect, {{"v", "MyMail 3.7.11"}}},
                     {Step::helo, tls13()},
                     {Step::mail,
                      tls13({{"{cert_subject}", "relay.example"}, {"{cert_issuer}", "Example CA"}}),
                      "continue"},
                     {Step::eom, {{"{i}", "P1"}}, "continue"}},
                    {"info: P1: action=accept client=192.0.2.25 source=cert tls=TLSv1.3 "
                     "cipher=TLS_AES_256_GCM_SHA384 bits=256 auth=none cert=relay.example "
                     "cert_issuer=\"Example CA\""}},
        SessionCase{
            "sendmail_unverified_certificate_refused",
            "192.0.2.25",
            {{Step::connect, kSendmail},
             {Step::helo, sendmail_tls13()},
             {Step::mail,
              tls13({{"{verify}", "FAIL"},
                     {"{cn_subject}", "relay.example"},
                     {"{cn_issuer}", "Example+20CA"},
                     {"{cert_subject}", "/CN=relay.example"},
                     {"{cert_issuer}", "/CN=Example+20CA"}}),
              "reject 530 5.7.0"}},
            {"notice: NOQUEUE: action=reject reason=client_cert_required "
             "client=192.0.2.25 source=cert " +
             kAcceptTls13 + " reply=\"530 5.7.0 A trusted client certificate is required\""}},
        SessionCase{"sendmail_verified_certificate_cn_decoded",
                    "192.0.2.25",
                    {{Step::connect, kSendmail},
                     {Step::mail,
                      tls13({{"{i}", "SM3"},
                             {"{verify}", "OK"},
                             {"{cn_subject}", "relay.example"},
                             {"{cn_issuer}", "Example+20CA"}}),
                      "continue"},
                     {Step::eom, {}, "continue"}},
                    {"info: SM3: action=accept client=192.0.2.25 source=cert tls=TLSv1.3 "
                     "cipher=TLS_AES_256_GCM_SHA384 bits=256 auth=none cert=relay.example "
                     "cert_issuer=\"Example CA\""}},
        SessionCase{
            "postfix_by_name_but_verify_sent_needs_ok",
            "192.0.2.25",
            {{Step::connect, kPostfix},
             {Step::mail,
              tls13({{"{verify}", "FAIL"},
                     {"{cert_subject}", "relay.example"},
                     {"{cert_issuer}", "Example CA"}}),
              "reject 530 5.7.0"}},
            {"notice: NOQUEUE: action=reject reason=client_cert_required "
             "client=192.0.2.25 source=cert " +
             kAcceptTls13 + " reply=\"530 5.7.0 A trusted client certificate is required\""}},
        SessionCase{
            "configured_sendmail_ignores_the_name",
            "192.0.2.25",
            {{Step::connect, kPostfix},
             {Step::mail,
              tls13({{"{cert_subject}", "relay.example"}, {"{cert_issuer}", "Example CA"}}),
              "reject 530 5.7.0"}},
            {"notice: NOQUEUE: action=reject reason=client_cert_required "
             "client=192.0.2.25 source=cert " +
             kAcceptTls13 + " reply=\"530 5.7.0 A trusted client certificate is required\""},
            "mta = sendmail"},
        SessionCase{"literal_none_certificate_name_is_quoted",
                    "192.0.2.30",
                    {{Step::connect, kPostfix},
                     {Step::mail, tls13({{"{cert_subject}", "none"}}), "continue"},
                     {Step::eom, {{"{i}", "N1"}}, "continue"}},
                    {"info: N1: action=accept client=192.0.2.30 source=tls tls=TLSv1.3 "
                     "cipher=TLS_AES_256_GCM_SHA384 bits=256 auth=none cert=\"none\""}},
        // Monitor mode: the would-reject line at MAIL, the message at its end.
        SessionCase{"monitor_logs_would_reject_then_the_message",
                    "198.51.100.7",
                    {{Step::connect, kPostfix},
                     {Step::mail, {}, "continue"},
                     {Step::rcpt, {}, "continue"},
                     {Step::eom, {{"{i}", "M1"}}, "continue"}},
                    {"warning: NOQUEUE: action=would-reject reason=starttls_required "
                     "client=198.51.100.7 source=monitor tls=none auth=none cert=none",
                     "info: M1: action=accept client=198.51.100.7 source=monitor tls=none "
                     "auth=none cert=none"}},
        SessionCase{
            "tempfail_source",
            "203.0.113.5",
            {{Step::connect, kPostfix},
             {Step::mail, {{"{auth_type}", "CRAM-MD5"}, {"{auth_authen}", "f"}}, "continue"},
             {Step::abort, {}},
             {Step::mail, tls13(), "continue"},
             {Step::eom, {{"{i}", "T1"}}, "continue"}},
            {"info: T1: action=accept client=203.0.113.5 source=lax " + kAcceptTls13}},
        SessionCase{"abort_forgets_the_transaction",
                    "192.0.2.10",
                    {{Step::connect, kPostfix},
                     {Step::mail, {}, "reject 530 5.7.0"},
                     {Step::abort, {}},
                     {Step::mail, tls13(), "continue"},
                     {Step::eom, {{"{i}", "B1"}}, "continue"}},
                    {"notice: NOQUEUE: action=reject reason=starttls_required client=192.0.2.10 "
                     "source=tls tls=none auth=none cert=none reply=\"530 5.7.0 Must issue a "
                     "STARTTLS command first\"",
                     "info: B1: action=accept client=192.0.2.10 source=tls " + kAcceptTls13}},
        SessionCase{
            "unknown_client_gets_the_default_rule",
            "",
            {{Step::connect, kPostfix},
             {Step::mail, {{"{auth_type}", "login"}, {"{auth_authen}", "g"}}, "reject 530 5.7.10"}},
            {"warning: NOQUEUE: action=reject reason=plaintext_auth client=unknown "
             "source=default tls=none auth=login auth_user=g cert=none reply=\"530 "
             "5.7.10 Encryption needed for PLAIN/LOGIN authentication\" "
             "credentials_exposed=yes"}},
        SessionCase{"end_of_message_without_mail_is_judged",
                    "192.0.2.10",
                    {{Step::connect, kPostfix}, {Step::eom, {{"{i}", "E1"}}, "reject 530 5.7.0"}},
                    {"notice: E1: action=reject reason=starttls_required client=192.0.2.10 "
                     "source=tls tls=none auth=none cert=none reply=\"530 5.7.0 Must issue a "
                     "STARTTLS command first\""}}),
    [](const auto& info) { return info.param.name; });

// Partners (issue 21): the envelope at MAIL and RCPT. The sender's partners decide
// for the transaction after the source's rule; a recipient's partners refuse that
// recipient only; the message's accept line names every partner that applied.
const std::string kPlaintext = "tls=none auth=none cert=none";
const std::string kNetworkReply =
    "reply=\"550 5.7.1 Mail from this sender domain is not accepted from this network\"";
const std::string kStarttlsReply = "reply=\"530 5.7.0 Must issue a STARTTLS command first\"";

Step mail(const std::string& from, const std::string& answer, MacroMap m = {}) {
  return {Step::mail, std::move(m), answer, from};
}
Step rcpt(const std::string& to, const std::string& answer, MacroMap m = {}) {
  return {Step::rcpt, std::move(m), answer, to};
}
Step eom(const std::string& id, const std::string& answer = "continue") {
  return {Step::eom, {{"{i}", id}}, answer};
}

INSTANTIATE_TEST_SUITE_P(
    Partners, SessionTable,
    ::testing::Values(
        SessionCase{"forged_sender_from_outside_its_networks",
                    "10.0.0.1",
                    {{Step::connect, kPostfix},
                     mail("<ceo@bank.example>", "reject 550 5.7.1"),
                     rcpt("<bob@example.org>", "reject 550 5.7.1")},
                    {"notice: NOQUEUE: action=reject reason=partner_network client=10.0.0.1 "
                     "source=default partner=bank sender_domain=bank.example " +
                     kPlaintext + " " + kNetworkReply}},
        SessionCase{"upper_case_subdomain_forged",
                    "10.0.0.1",
                    {{Step::connect, kPostfix},
                     mail("<ceo@MX.Bank.EXAMPLE.>", "reject 550 5.7.1", tls13())},
                    {"notice: NOQUEUE: action=reject reason=partner_network client=10.0.0.1 "
                     "source=default partner=bank sender_domain=mx.bank.example " +
                     kAcceptTls13 + " " + kNetworkReply}},
        SessionCase{"the_source_rule_first",
                    "192.0.2.10",
                    {{Step::connect, kPostfix}, mail("<ceo@bank.example>", "reject 530 5.7.0")},
                    {"notice: NOQUEUE: action=reject reason=starttls_required client=192.0.2.10 "
                     "source=tls sender_domain=bank.example " +
                     kPlaintext + " " + kStarttlsReply}},
        SessionCase{"partner_tls_checks_inside_its_networks",
                    "192.0.2.10",
                    {{Step::connect, kPostfix},
                     mail("<ceo@bank.example>", "reject 554 5.7.0",
                          {{"{tls_version}", "TLSv1.2"},
                           {"{cipher}", "ECDHE-RSA-AES256-GCM-SHA384"},
                           {"{cipher_bits}", "256"}})},
                    {"notice: NOQUEUE: action=reject reason=tls_version_too_low "
                     "client=192.0.2.10 source=tls partner=bank sender_domain=bank.example "
                     "tls=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 bits=256 auth=none "
                     "cert=none reply=\"554 5.7.0 TLS protocol or cipher not accepted\""}},
        SessionCase{"partner_passes_and_is_named_on_the_accept_line",
                    "192.0.2.10",
                    {{Step::connect, kPostfix},
                     mail("<ceo@bank.example>", "continue", tls13()),
                     rcpt("<bob@example.org>", "continue", tls13()),
                     eom("P1")},
                    {"info: P1: action=accept client=192.0.2.10 source=tls partner=bank "
                     "sender_domain=bank.example " +
                     kAcceptTls13}},
        SessionCase{
            "look_alike_domain_is_not_the_partner",
            "10.0.0.1",
            {{Step::connect, kPostfix}, mail("<ceo@notbank.example>", "continue"), eom("L1")},
            {"info: L1: action=accept client=10.0.0.1 source=default "
             "sender_domain=notbank.example " +
             kPlaintext}},
        SessionCase{"null_sender_matches_no_partner",
                    "10.0.0.1",
                    {{Step::connect, kPostfix}, mail("<>", "continue"), eom("N2")},
                    {"info: N2: action=accept client=10.0.0.1 source=default sender_domain=<> " +
                     kPlaintext}},
        // Postfix and Sendmail unquote it: Postfix delivers it as ceo@bank.example.
        SessionCase{"quoted_whole_address_is_the_partners",
                    "10.0.0.1",
                    {{Step::connect, kPostfix}, mail("<\"ceo@bank.example\">", "reject 550 5.7.1")},
                    {"notice: NOQUEUE: action=reject reason=partner_network client=10.0.0.1 "
                     "source=default partner=bank sender_domain=bank.example " +
                     kPlaintext + " " + kNetworkReply}},
        // A comment: the MTA's sender is ceo@bank.example (it let this through).
        SessionCase{
            "comment_after_the_domain",
            "10.0.0.1",
            {{Step::connect, kPostfix}, mail("<ceo@bank.example (comment)>", "reject 550 5.7.1")},
            {"notice: NOQUEUE: action=reject reason=partner_network client=10.0.0.1 "
             "source=default partner=bank sender_domain=bank.example " +
             kPlaintext + " " + kNetworkReply}},
        SessionCase{"quoted_at_before_the_partner_domain",
                    "10.0.0.1",
                    {{Step::connect, kPostfix},
                     mail("<\"a@evil.example\"@bank.example>", "reject 550 5.7.1")},
                    {"notice: NOQUEUE: action=reject reason=partner_network client=10.0.0.1 "
                     "source=default partner=bank sender_domain=bank.example " +
                     kPlaintext + " " + kNetworkReply}},
        SessionCase{"unparsable_sender_is_logged_as_such",
                    "10.0.0.1",
                    {{Step::connect, kPostfix}, mail("<ceo@bank..example>", "continue"), eom("U1")},
                    {"info: U1: action=accept client=10.0.0.1 source=default "
                     "sender_domain=(unparsable) " +
                     kPlaintext}},
        SessionCase{"recipient_partner_refuses_that_recipient_only",
                    "10.0.0.1",
                    {{Step::connect, kPostfix},
                     mail("<a@x.example>", "continue"),
                     rcpt("<bob@example.org>", "continue"),
                     rcpt("<counsel@Legal.Example.org>", "reject 530 5.7.0"),
                     rcpt("<carol@example.org>", "continue"),
                     eom("R3")},
                    {"notice: NOQUEUE: action=reject reason=starttls_required client=10.0.0.1 "
                     "source=default partner=legal sender_domain=x.example "
                     "rcpt_domain=legal.example.org " +
                         kPlaintext + " " + kStarttlsReply,
                     "info: R3: action=accept client=10.0.0.1 source=default "
                     "sender_domain=x.example " +
                         kPlaintext}},
        SessionCase{"recipient_partner_passes_and_is_named",
                    "10.0.0.1",
                    {{Step::connect, kPostfix},
                     mail("<a@x.example>", "continue", tls13()),
                     rcpt("<counsel@legal.example.org>", "continue", tls13()),
                     eom("R4")},
                    {"info: R4: action=accept client=10.0.0.1 source=default partner=legal "
                     "sender_domain=x.example " +
                     kAcceptTls13}},
        SessionCase{"sender_and_recipient_partners_in_file_order",
                    "192.0.2.10",
                    {{Step::connect, kPostfix},
                     mail("<ceo@bank.example>", "continue", tls13()),
                     rcpt("<x@soft.example>", "continue", tls13()),
                     rcpt("<counsel@legal.example.org>", "continue", tls13()),
                     eom("R5")},
                    {"info: R5: action=accept client=192.0.2.10 source=tls "
                     "partner=bank,legal,soft sender_domain=bank.example " +
                     kAcceptTls13}},
        SessionCase{"tempfail_recipient_partner",
                    "10.0.0.1",
                    {{Step::connect, kPostfix},
                     mail("<a@x.example>", "continue",
                          {{"{tls_version}", "TLSv1.2"}, {"{cipher}", "AES256-SHA"}}),
                     rcpt("<x@soft.example>", "tempfail 454 4.7.0",
                          {{"{tls_version}", "TLSv1.2"}, {"{cipher}", "AES256-SHA"}})},
                    {"notice: NOQUEUE: action=tempfail reason=tls_version_too_low "
                     "client=10.0.0.1 source=default partner=soft sender_domain=x.example "
                     "rcpt_domain=soft.example tls=TLSv1.2 cipher=AES256-SHA bits=none "
                     "auth=none cert=none reply=\"454 4.7.0 TLS protocol or cipher not "
                     "accepted\""}},
        SessionCase{"monitor_partner_logs_and_passes",
                    "10.0.0.1",
                    {{Step::connect, kPostfix},
                     mail("<ceo@watch.example>", "continue"),
                     rcpt("<b@example.org>", "continue"),
                     eom("W1")},
                    {"warning: NOQUEUE: action=would-reject reason=starttls_required "
                     "client=10.0.0.1 source=default partner=watch sender_domain=watch.example " +
                         kPlaintext,
                     "info: W1: action=accept client=10.0.0.1 source=default partner=watch "
                     "sender_domain=watch.example " +
                         kPlaintext}},
        SessionCase{
            "both_domains_partner_applies_to_that_pair",
            "10.0.0.1",
            {{Step::connect, kPostfix},
             mail("<boss@pair.example>", "continue", tls13()),
             rcpt("<x@example.org>", "continue", tls13()),
             rcpt("<jobs@hr.example.org>", "reject 530 5.7.0", tls13()),
             eom("B2")},
            {"notice: NOQUEUE: action=reject reason=client_cert_required "
             "client=10.0.0.1 source=default partner=pair sender_domain=pair.example "
             "rcpt_domain=hr.example.org " +
                 kAcceptTls13 + " reply=\"530 5.7.0 A trusted client certificate is required\"",
             "info: B2: action=accept client=10.0.0.1 source=default "
             "sender_domain=pair.example " +
                 kAcceptTls13}},
        SessionCase{"both_domains_partner_not_for_another_sender",
                    "10.0.0.1",
                    {{Step::connect, kPostfix},
                     mail("<boss@other.example>", "continue", tls13()),
                     rcpt("<jobs@hr.example.org>", "continue", tls13()),
                     eom("B3")},
                    {"info: B3: action=accept client=10.0.0.1 source=default "
                     "sender_domain=other.example " +
                     kAcceptTls13}},
        SessionCase{"a_refused_transaction_refuses_every_recipient_once",
                    "192.0.2.10",
                    {{Step::connect, kPostfix},
                     mail("<a@x.example>", "reject 530 5.7.0"),
                     rcpt("<c@legal.example.org>", "reject 530 5.7.0")},
                    {"notice: NOQUEUE: action=reject reason=starttls_required client=192.0.2.10 "
                     "source=tls sender_domain=x.example " +
                     kPlaintext + " " + kStarttlsReply}},
        SessionCase{"monitor_source_and_a_refusing_recipient_partner",
                    "198.51.100.7",
                    {{Step::connect, kPostfix},
                     mail("<a@x.example>", "continue"),
                     rcpt("<c@legal.example.org>", "reject 530 5.7.0"),
                     rcpt("<d@example.org>", "continue"),
                     eom("M2")},
                    {"warning: NOQUEUE: action=would-reject reason=starttls_required "
                     "client=198.51.100.7 source=monitor sender_domain=x.example " +
                         kPlaintext,
                     "notice: NOQUEUE: action=reject reason=starttls_required "
                     "client=198.51.100.7 source=monitor partner=legal sender_domain=x.example "
                     "rcpt_domain=legal.example.org " +
                         kPlaintext + " " + kStarttlsReply,
                     "info: M2: action=accept client=198.51.100.7 source=monitor "
                     "sender_domain=x.example " +
                         kPlaintext}},
        SessionCase{"the_next_transaction_forgets_the_envelope",
                    "10.0.0.1",
                    {{Step::connect, kPostfix},
                     mail("<ceo@watch.example>", "continue"),
                     {Step::abort, {}},
                     mail("<a@x.example>", "continue"),
                     eom("T2")},
                    {"warning: NOQUEUE: action=would-reject reason=starttls_required "
                     "client=10.0.0.1 source=default partner=watch sender_domain=watch.example " +
                         kPlaintext,
                     "info: T2: action=accept client=10.0.0.1 source=default "
                     "sender_domain=x.example " +
                         kPlaintext}}),
    [](const auto& info) { return info.param.name; });

// The client may come only at MAIL ({client_addr}, CONNECT not negotiated): a
// partner's networks are checked against that address, not the unknown one of the
// session's start.
TEST(SessionPartners, TheClientGivenAtMailIsTheOneAPartnersNetworksSee) {
  std::vector<std::string> lines;
  Session s(load(), std::nullopt,
            [&lines](Severity, const LogRecord& r) { lines.push_back(format_log_line(r)); });
  const MacroMap mail = tls13({{"{i}", "C2"}});
  const MacroLookup lookup = [&](const char* n) -> const char* {
    const auto it = mail.find(n);
    return it == mail.end() ? nullptr : it->second.c_str();
  };
  s.set_client(addr("192.0.2.10"));
  EXPECT_EQ(answer_of(s.at_mail(lookup, "<ceo@bank.example>")), "continue");
  EXPECT_EQ(answer_of(s.at_end_of_message(lookup)), "continue");
  s.set_client(addr("10.0.0.1"));
  EXPECT_EQ(answer_of(s.at_mail(lookup, "<ceo@bank.example>")), "reject 550 5.7.1");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(lines[0].starts_with("C2: action=accept client=192.0.2.10 source=tls partner=bank "))
      << lines[0];
  EXPECT_TRUE(lines[1].starts_with("C2: action=reject reason=partner_network client=10.0.0.1 "))
      << lines[1];
}

// The metrics count each decision under the partner its log line names.
TEST(SessionPartners, MetricsCountUnderThePartnerTheLineNames) {
  const auto count = [](const std::string& series) -> long long {
    const std::string text = metrics().exposition();
    const std::size_t at = text.find("\n" + series + " ");
    return at == std::string::npos ? 0 : std::stoll(text.substr(at + series.size() + 2));
  };
  const std::string refused =
      R"(tlsgate_decisions_total{source="default",partner="bank",action="reject",reason="partner_network"})";
  const std::string accepted =
      R"(tlsgate_accepted_messages_total{source="tls",partner="bank",tls_version="TLSv1.3"})";
  const long long refused_before = count(refused), accepted_before = count(accepted);
  const MacroMap mail = tls13({{"{i}", "M1"}});
  const MacroLookup lookup = [&](const char* n) -> const char* {
    const auto it = mail.find(n);
    return it == mail.end() ? nullptr : it->second.c_str();
  };
  Session forged(load(), addr("10.0.0.1"), [](Severity, const LogRecord&) {});
  EXPECT_EQ(answer_of(forged.at_mail(lookup, "<ceo@bank.example>")), "reject 550 5.7.1");
  Session real(load(), addr("192.0.2.10"), [](Severity, const LogRecord&) {});
  EXPECT_EQ(answer_of(real.at_mail(lookup, "<ceo@bank.example>")), "continue");
  EXPECT_EQ(answer_of(real.at_end_of_message(lookup)), "continue");
  EXPECT_EQ(count(refused), refused_before + 1);
  EXPECT_EQ(count(accepted), accepted_before + 1);
}

TEST(SessionMta, RecognisedByWhatItSends) {
  const auto policy = load();
  Session s(policy, std::nullopt, [](Severity, const LogRecord&) {});
  const MacroMap renamed{{"v", "MyMail"}};
  const MacroLookup connect = [&](const char* n) -> const char* {
    const auto it = renamed.find(n);
    return it == renamed.end() ? nullptr : it->second.c_str();
  };
  s.at_connect(connect);
  EXPECT_EQ(s.mta(), policy::Mta::sendmail) << "an unknown name: the stricter reading";
  const MacroMap tls = tls13();
  s.at_helo([&](const char* n) -> const char* {
    const auto it = tls.find(n);
    return it == tls.end() ? nullptr : it->second.c_str();
  });
  EXPECT_EQ(s.mta(), policy::Mta::postfix) << "no {verify} under TLS";
  EXPECT_EQ(s.mta_evidence(), "no {verify} under TLS");

  // An MTA that did not take tlsgate's macro lists: absence proves nothing.
  Session old(
      policy, std::nullopt, [](Severity, const LogRecord&) {}, false);
  old.at_connect(connect);
  old.at_helo([&](const char* n) -> const char* {
    const auto it = tls.find(n);
    return it == tls.end() ? nullptr : it->second.c_str();
  });
  EXPECT_EQ(old.mta(), policy::Mta::sendmail);
}

TEST(SessionCsv, RowsCarryTheRecordAndTheTransaction) {
  std::vector<std::string> rows;
  Session s(load(), addr("198.51.100.7"),
            [&rows](Severity, const LogRecord& r) { rows.push_back(format_csv_row(r, 0)); });
  const MacroMap m = tls13({{"{i}", "C1"}});
  const MacroLookup lookup = [&](const char* n) -> const char* {
    const auto it = m.find(n);
    return it == m.end() ? nullptr : it->second.c_str();
  };
  const MacroLookup plaintext = [](const char*) -> const char* { return nullptr; };
  s.at_mail(plaintext);  // monitor: would-reject now, the message at its end
  s.at_end_of_message(lookup);
  s.at_mail(lookup);
  s.at_end_of_message(lookup);
  ASSERT_EQ(rows.size(), 3u);
  const std::regex row(
      "1970-01-01T00:00:00Z,(C1)?,198\\.51\\.100\\.7,monitor,(would-reject|accept),"
      "(starttls_required)?,(none|TLSv1\\.3),(TLS_AES_256_GCM_SHA384)?,(256)?,,,,,no,"
      "([0-9a-f]+\\.[0-9]+)\\.([0-9]+),no,,\r\n");
  std::smatch first, second, third;
  ASSERT_TRUE(std::regex_match(rows[0], first, row)) << rows[0];
  ASSERT_TRUE(std::regex_match(rows[1], second, row)) << rows[1];
  ASSERT_TRUE(std::regex_match(rows[2], third, row)) << rows[2];
  EXPECT_EQ(first[2], "would-reject");
  EXPECT_EQ(second[2], "accept");
  // The would-reject row and its message's accept row: one transaction.
  EXPECT_EQ(first[7].str() + "." + first[8].str(), second[7].str() + "." + second[8].str());
  EXPECT_EQ(first[8], "1");
  // The next message: the same session, the next transaction.
  EXPECT_EQ(third[7], first[7]);
  EXPECT_EQ(third[8], "2");
  // Another session: another id.
  std::vector<std::string> other;
  Session s2(load(), addr("198.51.100.7"),
             [&other](Severity, const LogRecord& r) { other.push_back(format_csv_row(r, 0)); });
  s2.at_mail(plaintext);
  std::smatch fourth;
  ASSERT_TRUE(std::regex_match(other.at(0), fourth, row)) << other[0];
  EXPECT_NE(fourth[7], first[7]);
}

TEST(SessionCsv, AuthBeforeTlsIsWrittenForTheReplay) {
  std::vector<std::string> rows;
  Session s(load(), addr("203.0.113.5"),
            [&rows](Severity, const LogRecord& r) { rows.push_back(format_csv_row(r, 0)); });
  const MacroMap connect = kSendmail;
  const MacroMap mail = sendmail_tls13({{"{auth_type}", "CRAM-MD5"}, {"{auth_authen}", "h"}});
  auto lookup_of = [](const MacroMap& m) -> MacroLookup {
    return [&m](const char* n) -> const char* {
      const auto it = m.find(n);
      return it == m.end() ? nullptr : it->second.c_str();
    };
  };
  s.at_connect(lookup_of(connect));
  s.at_mail(lookup_of(mail));  // [source lax] allows it: logged at the end
  s.at_end_of_message(lookup_of(mail));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0].ends_with(",yes,,\r\n")) << rows[0];
}

// The accounting file: a write that fails (a full disk) is reported once per run
// of failures and counted; rows are never silently dropped.
TEST(AccountingFile, FailedWritesAreReportedOncePerRunAndCounted) {
  std::vector<std::string> reports;
  Accounting a([&reports](const std::string& m) { reports.push_back(m); });
  std::string error;
  ASSERT_TRUE(a.open("/dev/full", error)) << error;  // every write: ENOSPC
  LogRecord r;
  r.action = "accept";
  for (int i = 0; i < 3; ++i) a.write(r);
  EXPECT_EQ(a.rows_lost(), 3u);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0],
            "accounting_file /dev/full: cannot write: No space left on device; rows are lost "
            "until writes work again");

  // logrotate's reopen onto a disk with room again: one line says so.
  policy::testing::TempDir dir;
  ASSERT_TRUE(a.open(dir.file("a.csv"), error)) << error;
  a.write(r);
  a.write(r);
  EXPECT_EQ(a.rows_lost(), 3u);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1], "accounting_file " + dir.file("a.csv") + ": writing again (3 rows lost)");
  std::ifstream in(dir.file("a.csv"));
  std::string header, row1, row2;
  std::getline(in, header);
  std::getline(in, row1);
  std::getline(in, row2);
  EXPECT_TRUE(header.starts_with("time,queue_id,")) << header;
  EXPECT_FALSE(row2.empty()) << "both rows written";
}

TEST(AccountingFile, AFileWithAnotherHeaderIsSetAside) {
  policy::testing::TempDir dir;
  const std::string old_header =
      "time,queue_id,client,source,action,reason,tls_version,cipher,cipher_bits,"
      "cert_subject,cert_issuer,auth,auth_user,credentials_exposed\r\n";
  const std::string path = dir.write("a.csv", old_header + "2026-01-01T00:00:00Z,Q,x\r\n");
  std::vector<std::string> reports;
  Accounting a([&reports](const std::string& m) { reports.push_back(m); });
  std::string error;
  ASSERT_TRUE(a.open(path, error)) << error;
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].starts_with("accounting_file " + path +
                                     ": written by another version (other columns): moved to " +
                                     path + "."))
      << reports[0];
  std::ifstream in(path);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header + "\n", csv_header());
  // The same header: appended to, not moved.
  ASSERT_TRUE(a.open(path, error));
  EXPECT_EQ(reports.size(), 1u);
}

// Issue 21 added partner and sender_domain at the end: a file of the version before
// (its last column auth_before_tls) is set aside too, and the new file has them.
TEST(AccountingFile, AFileWithoutThePartnerColumnsIsSetAside) {
  policy::testing::TempDir dir;
  const std::string before_partners =
      "time,queue_id,client,source,action,reason,tls_version,cipher,cipher_bits,"
      "cert_subject,cert_issuer,auth,auth_user,credentials_exposed,transaction,"
      "auth_before_tls\r\n";
  const std::string path = dir.write("a.csv", before_partners);
  std::vector<std::string> reports;
  Accounting a([&reports](const std::string& m) { reports.push_back(m); });
  std::string error;
  ASSERT_TRUE(a.open(path, error)) << error;
  EXPECT_EQ(reports.size(), 1u);
  std::ifstream in(path);
  std::string header;
  std::getline(in, header);
  EXPECT_TRUE(header.ends_with(",auth_before_tls,partner,sender_domain\r")) << header;
}

}  // namespace
}  // namespace tlsgate::engine
