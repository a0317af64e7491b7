// The counting: decisions (a monitor-mode would-reject and its message's accept
// once), TLS of accepted mail, clients, networks, exposed credentials, certificates,
// per-day shares, the selection, and the rows that cannot be counted.
#include <gtest/gtest.h>

#include "report/aggregator.h"
#include "report/timestamp.h"
#include "report_test_support.h"

namespace tlsgate::report {
namespace {

using testing::count_of;
using testing::csv;
using testing::monitored;
using testing::report_of;
using testing::source;
using testing::TestRow;

TEST(Aggregator, CountsDecisionsByActionAndReason) {
  TestRow accept;
  TestRow reject{.client = "198.51.100.7",
                 .action = "reject",
                 .reason = "starttls_required",
                 .tls = "none",
                 .cipher = "",
                 .bits = ""};
  TestRow tempfail = reject;
  tempfail.action = "tempfail";
  tempfail.source = "submission";
  const auto r = report_of({csv({accept, accept, reject, reject, tempfail})});
  EXPECT_EQ(r.summary.rows, 5u);
  EXPECT_EQ(r.summary.bad_rows, 0u);
  const auto& def = source(r.summary, "default");
  EXPECT_EQ(def.decisions, 4u);
  EXPECT_EQ(def.accept, 2u);
  EXPECT_EQ(def.reject, 2u);
  EXPECT_EQ(count_of(def.reasons, "starttls_required"), 2u);
  EXPECT_EQ(source(r.summary, "submission").tempfail, 1u);
  EXPECT_EQ(r.summary.total.decisions, 5u);
  // Sources are listed most decisions first.
  ASSERT_EQ(r.summary.sources.size(), 2u);
  EXPECT_EQ(r.summary.sources[0].name, "default");
}

TEST(Aggregator, AWouldRejectAndTheAcceptOfItsMessageAreOneDecision) {
  TestRow r{.client = "203.0.113.5", .source = "legacy"};
  auto rows = monitored(r, "starttls_required", "a.1.1");
  // The same transaction refused again at RCPT (changed facts) is still one decision.
  rows.insert(rows.begin() + 1, rows.front());
  const auto report = report_of({csv(rows)});
  const auto& legacy = source(report.summary, "legacy");
  EXPECT_EQ(report.summary.rows, 3u);
  EXPECT_EQ(legacy.decisions, 1u);
  EXPECT_EQ(legacy.would_reject, 1u);
  EXPECT_EQ(legacy.accept, 0u);
  EXPECT_EQ(count_of(legacy.reasons, "starttls_required"), 1u);
  // The message was accepted all the same: it is accepted plaintext mail.
  EXPECT_EQ(legacy.accepted, 1u);
  EXPECT_EQ(count_of(legacy.accepted_by_tls_version, "none"), 1u);
}

TEST(Aggregator, ThePairIsLinkedAcrossFilesInEitherOrder) {
  TestRow r{.time = "2026-11-20T23:59:59Z", .client = "203.0.113.5", .source = "legacy"};
  const auto rows = monitored(r, "starttls_required", "a.1.1");
  TestRow later = rows[1];
  later.time = "2026-11-21T00:00:01Z";  // the accept landed in the next (rotated) file
  TestRow other{.time = "2026-11-21T05:00:00Z", .transaction = "a.2.1"};
  const std::string older = csv({rows[0]});
  const std::string newer = csv({later, other});
  for (const auto& files : {std::vector<std::string>{older, newer}, {newer, older}}) {
    const auto report = report_of(files);
    const auto& legacy = source(report.summary, "legacy");
    EXPECT_EQ(legacy.decisions, 1u);
    EXPECT_EQ(legacy.would_reject, 1u);
    EXPECT_EQ(legacy.accept, 0u);
    EXPECT_EQ(report.summary.total.decisions, 2u);
  }
}

TEST(Aggregator, FilesWithoutATransactionColumnAreLinkedByTheirFacts) {
  TestRow a{.client = "203.0.113.5", .source = "legacy"};
  TestRow b{.client = "203.0.113.6", .source = "legacy"};
  auto rows = monitored(a, "starttls_required", "");
  const auto more = monitored(b, "starttls_required", "");
  rows.insert(rows.end(), more.begin(), more.end());
  TestRow plain_accept = rows[1];  // a second message of a's, never refused
  rows.push_back(plain_accept);
  const auto report = report_of({csv(rows, true)});
  const auto& legacy = source(report.summary, "legacy");
  EXPECT_EQ(legacy.decisions, 3u);
  EXPECT_EQ(legacy.would_reject, 2u);
  EXPECT_EQ(legacy.accept, 1u);
  EXPECT_EQ(report.summary.bad_rows, 0u);
}

TEST(Aggregator, RowsFurtherApartThanTheWindowAreNotLinked) {
  TestRow r{.client = "203.0.113.5", .source = "legacy"};
  auto rows = monitored(r, "starttls_required", "a.1.1");
  rows[1].time = "2026-11-20T12:00:01Z";  // two hours after the would-reject
  const auto report = report_of({csv(rows)});
  EXPECT_EQ(source(report.summary, "legacy").decisions, 2u);
}

TEST(Aggregator, TlsOfAcceptedMailKeySizesAndTheShare) {
  TestRow v13;
  TestRow v12{.tls = "TLSv1.2", .cipher = "ECDHE-RSA-AES128-SHA", .bits = "128"};
  TestRow weak{.tls = "TLSv1", .cipher = "DES-CBC3-SHA", .bits = "112"};
  TestRow none{.tls = "none", .cipher = "", .bits = ""};
  TestRow odd{.tls = "(NONE)", .cipher = "", .bits = ""};  // what the MTA sent: no TLS
  TestRow refused = v13;
  refused.action = "reject";
  refused.reason = "cipher_not_allowed";
  const auto report = report_of({csv({v13, v13, v12, weak, none, odd, refused})});
  const auto& s = source(report.summary, "default");
  EXPECT_EQ(s.accepted, 6u);
  EXPECT_EQ(s.accepted_tls, 4u);
  ASSERT_TRUE(s.tls_share().has_value());
  EXPECT_DOUBLE_EQ(*s.tls_share(), 4.0 / 6.0);
  std::vector<std::string> order;
  for (const auto& v : s.accepted_by_tls_version) order.push_back(v.name);
  EXPECT_EQ(order, (std::vector<std::string>{"TLSv1.3", "TLSv1.2", "TLSv1", "none", "(NONE)"}));
  EXPECT_EQ(s.cipher_bits, (std::array<std::uint64_t, 5>{0, 1, 1, 2, 0}));
}

TEST(Aggregator, ClientsPlaintextOnlyClientsAndTheirNetworks) {
  const std::vector<TestRow> rows = {
      {.client = "192.0.2.10", .tls = "none", .cipher = "", .bits = ""},
      {.client = "192.0.2.10"},  // used TLS once: not plaintext-only
      {.client = "198.51.100.7", .tls = "none", .cipher = "", .bits = ""},
      {.client = "198.51.100.8", .tls = "none", .cipher = "", .bits = ""},
      {.client = "198.51.100.8", .tls = "none", .cipher = "", .bits = ""},
      {.client = "2001:db8:1:2::5", .tls = "none", .cipher = "", .bits = ""},
      {.client = "unknown", .tls = "none", .cipher = "", .bits = ""},
  };
  const auto report = report_of({csv(rows)});
  const auto& s = report.summary.total;
  EXPECT_EQ(s.clients, 5u);
  EXPECT_EQ(s.plaintext_only_clients, 4u);
  EXPECT_EQ(s.plaintext_networks, 3u);
  ASSERT_EQ(s.plaintext_only_networks.size(), 3u);
  EXPECT_EQ(s.plaintext_only_networks[0].network, "198.51.100.0/24");
  EXPECT_EQ(s.plaintext_only_networks[0].clients, 2u);
  EXPECT_EQ(s.plaintext_only_networks[0].decisions, 3u);
  EXPECT_EQ(s.plaintext_only_networks[1].network, "2001:db8:1::/48");
  EXPECT_EQ(s.plaintext_only_networks[2].network, "unknown");
}

TEST(Aggregator, ExposedCredentialsCountOncePerSessionAndUsersOnce) {
  TestRow r{.client = "203.0.113.5",
            .source = "legacy",
            .auth = "PLAIN",
            .user = "alice",
            .exposed = "yes"};
  auto rows = monitored(r, "plaintext_auth", "a.1.1");
  TestRow again = r;
  again.action = "reject";
  again.reason = "plaintext_auth";
  again.tls = "none";
  again.transaction = "a.2.1";
  rows.push_back(again);
  TestRow bob = again;
  bob.user = "<script>bob</script>";
  bob.transaction = "a.3.1";
  rows.push_back(bob);
  const auto report = report_of({csv(rows)});
  const auto& s = source(report.summary, "legacy");
  EXPECT_EQ(s.credentials_exposed, 3u);  // three sessions: the monitored one counts once
  EXPECT_EQ(s.credentials_exposed_users, 2u);
  EXPECT_EQ(count_of(s.exposed_users, "alice"), 2u);
  EXPECT_EQ(count_of(s.exposed_users, "<script>bob</script>"), 1u);
}

TEST(Aggregator, AnExposureOnlyALaterRowOfTheSessionShowsCountsOnce) {
  // MAIL: refused for no STARTTLS; RCPT: the facts changed (an AUTH LOGIN in clear);
  // end of message: accepted. One session, one exposed password.
  TestRow r{.client = "203.0.113.6", .source = "legacy", .transaction = "a.1.1"};
  auto rows = monitored(r, "starttls_required", "a.1.1");
  TestRow rcpt = rows[0];
  rcpt.reason = "plaintext_auth";
  rcpt.auth = "LOGIN";
  rcpt.user = "bob";
  rcpt.exposed = "yes";
  rows.insert(rows.begin() + 1, rcpt);
  rows[2].auth = "LOGIN";
  rows[2].user = "bob";
  rows[2].exposed = "yes";
  const auto report = report_of({csv(rows)});
  const auto& s = source(report.summary, "legacy");
  EXPECT_EQ(s.decisions, 1u);
  EXPECT_EQ(s.credentials_exposed, 1u);
  EXPECT_EQ(count_of(s.exposed_users, "bob"), 1u);
}

TEST(Aggregator, VerifiedClientCertificates) {
  TestRow with{
      .client = "192.0.2.25", .subject = "relay.partner.example", .issuer = "Example Partner CA"};
  const auto report = report_of({csv({with, with, TestRow{}})});
  const auto& s = report.summary.total;
  EXPECT_EQ(s.certificate_decisions, 2u);
  EXPECT_EQ(s.distinct_certificates, 1u);
  ASSERT_EQ(s.certificates.size(), 1u);
  EXPECT_EQ(s.certificates[0].subject, "relay.partner.example");
  EXPECT_EQ(s.certificates[0].issuer, "Example Partner CA");
  EXPECT_EQ(s.certificates[0].count, 2u);
}

TEST(Aggregator, TopRefusedClientsLargestFirstCutToN) {
  std::vector<TestRow> rows;
  for (int client = 1; client <= 5; ++client) {
    for (int n = 0; n < client; ++n) {
      rows.push_back({.client = "198.51.100." + std::to_string(client),
                      .action = "reject",
                      .reason = n == 0 ? "plaintext_auth" : "starttls_required",
                      .tls = "none"});
    }
  }
  const auto report = report_of({csv(rows)}, {}, nullptr, 3);
  const auto& top = source(report.summary, "default").top_refused;
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].client, "198.51.100.5");
  EXPECT_EQ(top[0].count, 5u);
  EXPECT_EQ(count_of(top[0].reasons, "starttls_required"), 4u);
  EXPECT_EQ(count_of(top[0].reasons, "plaintext_auth"), 1u);
  EXPECT_EQ(top[2].client, "198.51.100.3");
}

TEST(Aggregator, EveryReasonOfAClientIsKeptHoweverMany) {
  std::vector<TestRow> rows;
  const std::vector<std::string> reasons = {"plaintext_auth", "starttls_required",
                                            "cipher_too_weak", "starttls_required",
                                            "client_cert_required"};
  for (const auto& reason : reasons) {
    rows.push_back({.action = "reject", .reason = reason, .tls = "none"});
  }
  const auto report = report_of({csv(rows)});
  const auto& top = source(report.summary, "default").top_refused;
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].count, 5u);
  ASSERT_EQ(top[0].reasons.size(), 4u);
  EXPECT_EQ(top[0].reasons[0].name, "starttls_required");
  EXPECT_EQ(top[0].reasons[0].count, 2u);
  EXPECT_EQ(count_of(top[0].reasons, "client_cert_required"), 1u);
}

TEST(Aggregator, TheTlsSharePerDayPerSource) {
  const std::vector<TestRow> rows = {
      {.time = "2026-11-20T10:00:00Z"},
      {.time = "2026-11-20T11:00:00Z", .tls = "none", .cipher = "", .bits = ""},
      {.time = "2026-11-21T10:00:00Z"},
  };
  const auto report = report_of({csv(rows)});
  const auto& days = source(report.summary, "default").days;
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days[0].date, "2026-11-20");
  EXPECT_EQ(days[0].accepted, 2u);
  EXPECT_EQ(days[0].tls, 1u);
  EXPECT_EQ(days[1].date, "2026-11-21");
  EXPECT_EQ(days[1].tls, 1u);
  EXPECT_EQ(report.summary.first, "2026-11-20T10:00:00Z");
  EXPECT_EQ(report.summary.last, "2026-11-21T10:00:00Z");
}

TEST(Aggregator, SinceUntilAndSourceSelectRows) {
  const std::vector<TestRow> rows = {
      {.time = "2026-11-19T23:59:59Z"},
      {.time = "2026-11-20T00:00:00Z"},
      {.time = "2026-11-20T12:00:00Z", .source = "partners"},
      {.time = "2026-11-21T00:00:00Z"},
  };
  Selection window{parse_time_bound("2026-11-20"), parse_time_bound("2026-11-21"), {}};
  const auto r = report_of({csv(rows)}, window);
  EXPECT_EQ(r.summary.rows, 4u);
  EXPECT_EQ(r.summary.filtered_rows, 2u);
  EXPECT_EQ(r.summary.total.decisions, 2u);
  Selection partners{std::nullopt, std::nullopt, {"partners"}};
  const auto p = report_of({csv(rows)}, partners);
  EXPECT_EQ(p.summary.total.decisions, 1u);
  ASSERT_EQ(p.summary.sources.size(), 1u);
  EXPECT_EQ(p.summary.sources[0].name, "partners");
}

TEST(Aggregator, BadRowsAreSkippedCountedAndTheFirstTenNamed) {
  std::string text = csv({TestRow{}});
  text += testing::csv_row(TestRow{.client = "not-an-address"});
  for (int i = 0; i < 12; ++i) text += "2026-11-20T10:00:00Z,too,few\r\n";
  text += "2026-11-20T10:00:00Z,,192.0.2.9,default,acc";  // cut in the middle
  const auto r = report_of({text});
  EXPECT_EQ(r.summary.rows, 15u);
  EXPECT_EQ(r.summary.bad_rows, 14u);
  EXPECT_EQ(r.summary.total.decisions, 1u);
  EXPECT_NE(
      r.errors.find("file1:3: client: \"not-an-address\" is not an IP address (nor \"unknown\")\n"),
      std::string::npos)
      << r.errors;
  EXPECT_NE(r.errors.find("file1:4: wrong number of fields: 3, the header has 18\n"),
            std::string::npos);
  EXPECT_EQ(r.errors.find("file1:13:"), std::string::npos);  // only ten named
}

TEST(Aggregator, NoHeaderOrARequiredColumnMissingStopsTheFile) {
  EXPECT_NE(report_of({testing::csv_row(TestRow{})}).errors.find("file1:1: no header"),
            std::string::npos);
  EXPECT_NE(
      report_of({"time,client,source\r\n"}).errors.find("file1:1: required column action missing"),
      std::string::npos);
}

TEST(TransactionLinker, WhatWaitsIsBoundedByTheWindowNotTheFile) {
  TransactionLinker linker(3600);
  linker.begin_file();
  std::optional<AcceptedDecision> taken_back;
  std::size_t most = 0;
  for (int i = 0; i < 20000; ++i) {  // a would-reject a second whose message never comes
    linker.would_reject("t." + std::to_string(i), true, 1, 1793491200 + i, taken_back);
    most = std::max(most, linker.waiting());
  }
  EXPECT_LE(most, 3602u);
  EXPECT_EQ(linker.remembered(), 0u);
}

}  // namespace
}  // namespace tlsgate::report
