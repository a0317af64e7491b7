// The policy-service front end: reading Postfix's requests (in pieces of any size,
// hostile ones refused), and the exchange that turns them into the Session the
// milter feeds: the answer at each protocol state and the log lines.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/log_format.h"
#include "engine/policy_exchange.h"
#include "engine/policy_request.h"
#include "policy/loader.h"

namespace tlsgate::engine {
namespace {

using namespace std::string_literals;

struct ReadCase {
  std::string name;
  std::vector<std::string> pieces;    // fed one after the other
  std::vector<std::string> requests;  // each as "n=v;n=v", in order
  std::string error = "";             // empty: no error
};

void PrintTo(const ReadCase& c, std::ostream* os) { *os << c.name; }

std::string shown(const PolicyRequest& r) {
  std::string out;
  for (const auto& [n, v] : r.attributes()) out += (out.empty() ? "" : ";") + n + "=" + v;
  return out;
}

class RequestReading : public ::testing::TestWithParam<ReadCase> {};

TEST_P(RequestReading, Table) {
  const ReadCase& c = GetParam();
  PolicyRequestReader reader;
  std::vector<PolicyRequest> done;
  std::string error;
  bool ok = true;
  for (const std::string& piece : c.pieces) {
    ok = reader.feed(piece, done, error);
    if (!ok) break;
  }
  EXPECT_EQ(error, c.error);
  EXPECT_EQ(ok, c.error.empty());
  std::vector<std::string> got;
  for (const auto& r : done) got.push_back(shown(r));
  EXPECT_EQ(got, c.requests);
}

const std::string kBig(70000, 'x');

INSTANTIATE_TEST_SUITE_P(
    Table, RequestReading,
    ::testing::Values(
        ReadCase{"one_request",
                 {"request=smtpd_access_policy\nprotocol_state=RCPT\n\n"},
                 {"request=smtpd_access_policy;protocol_state=RCPT"}},
        ReadCase{"byte_by_byte", {"a", "=", "1", "\n", "b=", "\n", "\n"}, {"a=1;b="}},
        ReadCase{"two_in_one_piece", {"a=1\n\nb=2\n\n"}, {"a=1", "b=2"}},
        ReadCase{"value_with_equals", {"a=b=c\n\n"}, {"a=b=c"}},
        ReadCase{"empty_request", {"\n"}, {""}}, ReadCase{"half_a_request_waits", {"a=1\nb"}, {}},
        ReadCase{"missing_equals", {"a=1\njunk\n\n"}, {}, "a line without '='"},
        ReadCase{"no_name", {"=1\n\n"}, {}, "an attribute without a name"},
        ReadCase{"nul", {"a=1\0b\n\n"s}, {}, "a NUL byte"},
        ReadCase{"duplicate", {"instance=1\ninstance=2\n\n"}, {}, "attribute instance sent twice"},
        ReadCase{"duplicate_in_the_next_request_is_fine", {"a=1\n\na=2\n\n"}, {"a=1", "a=2"}},
        ReadCase{"a_line_over_64_kib", {"a=" + kBig}, {}, "a request over 64 KiB"},
        ReadCase{"a_line_over_64_kib_in_pieces",
                 {"a=" + kBig.substr(0, 40000), kBig.substr(40000)},
                 {},
                 "a request over 64 KiB"},
        ReadCase{"many_lines_over_64_kib",
                 {[] {
                   std::string s;
                   for (int i = 0; i < 90; ++i)
                     s += "n" + std::to_string(i) + "=" + std::string(800, 'v') + "\n";
                   return s;
                 }()},
                 {},
                 "a request over 64 KiB"},
        ReadCase{"over_100_attributes",
                 {[] {
                   std::string s;
                   for (int i = 0; i <= 100; ++i) s += "n" + std::to_string(i) + "=1\n";
                   return s + "\n";
                 }()},
                 {},
                 "more than 100 attributes"}),
    [](const auto& info) { return info.param.name; });

// ---- the exchange --------------------------------------------------------------------

constexpr const char* kConfig = R"([source default]
require_starttls = yes
[source open]
networks = 127.0.0.2
require_starttls = no
[source monitor]
networks = 127.0.0.3
require_starttls = yes
mode = monitor
[source soft]
networks = 127.0.0.4
require_starttls = yes
action = tempfail
[partner bank]
sender_domains = bank.example
networks = 127.0.0.2
require_starttls = yes
[partner legal]
recipient_domains = legal.example
require_starttls = yes
)";

struct Step {
  std::string request;  // "protocol_state=RCPT;instance=1;..."
  std::string answer;   // without the "action=" and the empty line
};

struct ExchangeCase {
  std::string name;
  std::vector<Step> steps;
  std::vector<std::string> lines;  // format_log_line of each decision, in order
};

void PrintTo(const ExchangeCase& c, std::ostream* os) { *os << c.name; }

PolicyRequest request_of(const std::string& text) {
  std::string wire;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find(';', start), text.size());
    wire += text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  PolicyRequestReader reader;
  std::vector<PolicyRequest> done;
  std::string error;
  if (!reader.feed(wire + "\n", done, error) || done.size() != 1) {
    throw std::runtime_error("test table: bad request " + text + ": " + error);
  }
  return done.front();
}

class Exchange : public ::testing::TestWithParam<ExchangeCase> {};

TEST_P(Exchange, AnswersAndLines) {
  const auto loaded = policy::load_policy_text(kConfig, "policy.ini", "");
  ASSERT_NE(loaded.policy, nullptr);
  std::vector<std::string> lines;
  PolicyExchange exchange(
      [&] { return loaded.policy; },
      [&lines](Severity, const LogRecord& r) { lines.push_back(format_log_line(r)); });
  for (std::size_t i = 0; i < GetParam().steps.size(); ++i) {
    const Step& step = GetParam().steps[i];
    EXPECT_EQ(exchange.answer(request_of(step.request)), "action=" + step.answer + "\n\n")
        << "step " << i;
  }
  EXPECT_EQ(lines, GetParam().lines);
}

const std::string kTls13 =
    "encryption_protocol=TLSv1.3;encryption_cipher=TLS_AES_256_GCM_SHA384;encryption_keysize=256";

INSTANTIATE_TEST_SUITE_P(
    Table, Exchange,
    ::testing::Values(
        ExchangeCase{"nothing_refused_before_mail",
                     {{"protocol_state=CONNECT;client_address=10.0.0.1;instance=1", "DUNNO"},
                      {"protocol_state=EHLO;client_address=10.0.0.1;instance=1", "DUNNO"}},
                     {}},
        ExchangeCase{"refused_at_rcpt_once_a_transaction",
                     {{"protocol_state=RCPT;client_address=10.0.0.1;instance=1;recipient=a@x",
                       "530 5.7.0 Must issue a STARTTLS command first"},
                      {"protocol_state=RCPT;client_address=10.0.0.1;instance=1;recipient=b@x",
                       "530 5.7.0 Must issue a STARTTLS command first"}},
                     {"NOQUEUE: action=reject reason=starttls_required client=10.0.0.1 "
                      "source=default tls=none auth=none cert=none reply=\"530 5.7.0 Must issue a "
                      "STARTTLS command first\""}},
        ExchangeCase{"accepted_and_logged_at_end_of_message",
                     {{"protocol_state=RCPT;client_address=10.0.0.1;instance=2;" + kTls13, "DUNNO"},
                      {"protocol_state=END-OF-MESSAGE;client_address=10.0.0.1;instance=2;"
                       "queue_id=4Xk2;" +
                           kTls13,
                       "DUNNO"}},
                     {"4Xk2: action=accept client=10.0.0.1 source=default tls=TLSv1.3 "
                      "cipher=TLS_AES_256_GCM_SHA384 bits=256 auth=none cert=none"}},
        ExchangeCase{"a_new_instance_is_a_new_transaction",
                     {{"protocol_state=RCPT;client_address=127.0.0.2;instance=3", "DUNNO"},
                      {"protocol_state=END-OF-MESSAGE;client_address=127.0.0.2;instance=3;"
                       "queue_id=Q1",
                       "DUNNO"},
                      {"protocol_state=RCPT;client_address=127.0.0.2;instance=4;sasl_method=PLAIN;"
                       "sasl_username=alice",
                       "530 5.7.10 Encryption needed for PLAIN/LOGIN authentication"}},
                     {"Q1: action=accept client=127.0.0.2 source=open tls=none auth=none cert=none",
                      "NOQUEUE: action=reject reason=plaintext_auth client=127.0.0.2 source=open "
                      "tls=none auth=PLAIN auth_user=alice cert=none reply=\"530 5.7.10 Encryption "
                      "needed for PLAIN/LOGIN authentication\" credentials_exposed=yes"}},
        ExchangeCase{"monitor_answers_dunno_and_logs_would_reject",
                     {{"protocol_state=RCPT;client_address=127.0.0.3;instance=5", "DUNNO"},
                      {"protocol_state=END-OF-MESSAGE;client_address=127.0.0.3;instance=5;"
                       "queue_id=M1",
                       "DUNNO"}},
                     {"NOQUEUE: action=would-reject reason=starttls_required client=127.0.0.3 "
                      "source=monitor tls=none auth=none cert=none",
                      "M1: action=accept client=127.0.0.3 source=monitor tls=none auth=none "
                      "cert=none"}},
        // What Postfix 3.7 sends without TLS (keysize 0) and for a verified
        // certificate (its names xtext-encoded): the same line as the milter's.
        ExchangeCase{
            "plaintext_keysize_zero_is_no_fact",
            {{"protocol_state=RCPT;client_address=127.0.0.2;instance=11;"
              "encryption_protocol=;encryption_cipher=;encryption_keysize=0",
              "DUNNO"},
             {"protocol_state=END-OF-MESSAGE;client_address=127.0.0.2;instance=11;"
              "queue_id=K0;encryption_keysize=0",
              "DUNNO"}},
            {"K0: action=accept client=127.0.0.2 source=open tls=none auth=none cert=none"}},
        ExchangeCase{"certificate_names_decoded",
                     {{"protocol_state=END-OF-MESSAGE;client_address=10.0.0.1;instance=12;"
                       "queue_id=C1;ccert_subject=relay.example;ccert_issuer=Example+20CA;" +
                           kTls13,
                       "DUNNO"}},
                     {"C1: action=accept client=10.0.0.1 source=default tls=TLSv1.3 "
                      "cipher=TLS_AES_256_GCM_SHA384 bits=256 auth=none cert=relay.example "
                      "cert_issuer=\"Example CA\""}},
        ExchangeCase{"tempfail",
                     {{"protocol_state=RCPT;client_address=127.0.0.4;instance=6",
                       "450 4.7.0 Must issue a STARTTLS command first"}},
                     {"NOQUEUE: action=tempfail reason=starttls_required client=127.0.0.4 "
                      "source=soft tls=none auth=none cert=none reply=\"450 4.7.0 Must issue a "
                      "STARTTLS command first\""}},
        // Fail closed on what Postfix never sends.
        ExchangeCase{"unknown_state_is_judged",
                     {{"protocol_state=BOGUS;client_address=10.0.0.1;instance=7",
                       "530 5.7.0 Must issue a STARTTLS command first"}},
                     {"NOQUEUE: action=reject reason=starttls_required client=10.0.0.1 "
                      "source=default tls=none auth=none cert=none reply=\"530 5.7.0 Must issue a "
                      "STARTTLS command first\""}},
        ExchangeCase{"no_state_is_judged",
                     {{"client_address=10.0.0.1;instance=8",
                       "530 5.7.0 Must issue a STARTTLS command first"}},
                     {"NOQUEUE: action=reject reason=starttls_required client=10.0.0.1 "
                      "source=default tls=none auth=none cert=none reply=\"530 5.7.0 Must issue a "
                      "STARTTLS command first\""}},
        ExchangeCase{"a_bogus_address_is_an_unknown_client",
                     {{"protocol_state=RCPT;client_address=127.0.0.2x;instance=9",
                       "530 5.7.0 Must issue a STARTTLS command first"}},
                     {"NOQUEUE: action=reject reason=starttls_required client=unknown "
                      "source=default tls=none auth=none cert=none reply=\"530 5.7.0 Must issue a "
                      "STARTTLS command first\""}},
        // Partners (issue 21): the sender's at the first RCPT for the whole
        // transaction, a recipient's for that recipient only.
        ExchangeCase{
            "sender_partner_refuses_the_transaction",
            {{"protocol_state=RCPT;client_address=127.0.0.2;instance=20;"
              "sender=alice@Bank.Example;recipient=a@x.example",
              "530 5.7.0 Must issue a STARTTLS command first"},
             {"protocol_state=RCPT;client_address=127.0.0.2;instance=20;"
              "sender=alice@Bank.Example;recipient=b@x.example",
              "530 5.7.0 Must issue a STARTTLS command first"}},
            {"NOQUEUE: action=reject reason=starttls_required client=127.0.0.2 source=open "
             "partner=bank sender_domain=bank.example tls=none auth=none cert=none "
             "reply=\"530 5.7.0 Must issue a STARTTLS command first\""}},
        ExchangeCase{
            "forged_partner_sender_from_elsewhere",
            {{"protocol_state=RCPT;client_address=127.0.0.9;instance=21;"
              "sender=alice@bank.example;recipient=a@x.example;" +
                  kTls13,
              "550 5.7.1 Mail from this sender domain is not accepted from this network"}},
            {"NOQUEUE: action=reject reason=partner_network client=127.0.0.9 source=default "
             "partner=bank sender_domain=bank.example tls=TLSv1.3 "
             "cipher=TLS_AES_256_GCM_SHA384 bits=256 auth=none cert=none reply=\"550 "
             "5.7.1 Mail from this sender domain is not accepted from this network\""}},
        ExchangeCase{
            "recipient_partner_refuses_its_recipient_only",
            {{"protocol_state=RCPT;client_address=127.0.0.2;instance=22;"
              "sender=a@x.example;recipient=bob@legal.example",
              "530 5.7.0 Must issue a STARTTLS command first"},
             {"protocol_state=RCPT;client_address=127.0.0.2;instance=22;"
              "sender=a@x.example;recipient=carol@other.example",
              "DUNNO"},
             {"protocol_state=END-OF-MESSAGE;client_address=127.0.0.2;instance=22;"
              "sender=a@x.example;recipient=;queue_id=R1",
              "DUNNO"}},
            {"NOQUEUE: action=reject reason=starttls_required client=127.0.0.2 source=open "
             "partner=legal sender_domain=x.example rcpt_domain=legal.example tls=none "
             "auth=none cert=none reply=\"530 5.7.0 Must issue a STARTTLS command first\"",
             "R1: action=accept client=127.0.0.2 source=open sender_domain=x.example "
             "tls=none auth=none cert=none"}},
        ExchangeCase{"null_sender_matches_no_partner",
                     {{"protocol_state=RCPT;client_address=127.0.0.9;instance=23;sender=;"
                       "recipient=a@x.example;" +
                           kTls13,
                       "DUNNO"}},
                     {}},
        ExchangeCase{"end_of_message_alone_is_judged",
                     {{"protocol_state=END-OF-MESSAGE;client_address=10.0.0.1;instance=10;"
                       "queue_id=E1",
                       "530 5.7.0 Must issue a STARTTLS command first"}},
                     {"E1: action=reject reason=starttls_required client=10.0.0.1 "
                      "source=default tls=none auth=none cert=none reply=\"530 5.7.0 Must issue a "
                      "STARTTLS command first\""}}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tlsgate::engine
