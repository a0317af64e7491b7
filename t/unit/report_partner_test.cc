// Issue 21 in the report: a block per [partner NAME] from the partner column, the
// sender domains table from the sender_domain column, and files written before
// those columns existed.
#include <gtest/gtest.h>

#include "report/client_network.h"
#include "report_test_support.h"

namespace tlsgate::report {
namespace {

using testing::count_of;
using testing::csv;
using testing::kHeader;
using testing::monitored;
using testing::report_of;
using testing::TestRow;

const SourceSummary* partner(const Summary& s, const std::string& name) {
  for (const auto& p : s.partners) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const SenderDomainSummary* domain(const Summary& s, const std::string& name) {
  for (const auto& d : s.sender_domains) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

TestRow from(std::string client, std::string sender_domain, std::string partner = "") {
  return {.client = std::move(client),
          .partner = std::move(partner),
          .sender_domain = std::move(sender_domain)};
}

TestRow plaintext(TestRow r) {
  r.tls = "none";
  r.cipher = r.bits = "";
  return r;
}

TEST(PartnerReport, ABlockPerPartnerFromTheRowsThatNameIt) {
  TestRow forged = plaintext(from("198.51.100.66", "bank.example", "bank"));
  forged.action = "reject";
  forged.reason = "partner_network";
  TestRow old_tls = from("192.0.2.31", "bank.example", "bank");
  old_tls.tls = "TLSv1.1";
  old_tls.action = "reject";
  old_tls.reason = "tls_version_too_low";
  const auto r = report_of({csv({
      from("192.0.2.30", "bank.example", "bank"),
      from("192.0.2.30", "bank.example", "bank,legal"),    // an accept names each that applied
      forged, old_tls, from("192.0.2.40", "example.net"),  // no partner: in no block
  })});
  ASSERT_EQ(r.summary.partners.size(), 2u);
  EXPECT_EQ(r.summary.partners[0].name, "bank");  // most decisions first
  const SourceSummary& bank = r.summary.partners[0];
  EXPECT_EQ(bank.decisions, 4u);
  EXPECT_EQ(bank.accept, 2u);
  EXPECT_EQ(bank.reject, 2u);
  EXPECT_EQ(bank.would_reject, 0u);
  EXPECT_EQ(count_of(bank.reasons, "partner_network"), 1u);
  EXPECT_EQ(count_of(bank.reasons, "tls_version_too_low"), 1u);
  EXPECT_EQ(bank.accepted, 2u);
  EXPECT_EQ(bank.accepted_tls, 2u);
  EXPECT_EQ(count_of(bank.accepted_by_tls_version, "TLSv1.3"), 2u);
  EXPECT_EQ(bank.clients, 3u);
  const SourceSummary* legal = partner(r.summary, "legal");
  ASSERT_NE(legal, nullptr);
  EXPECT_EQ(legal->decisions, 1u);
  EXPECT_EQ(legal->clients, 1u);
  // The sources count as before.
  EXPECT_EQ(r.summary.total.decisions, 5u);
}

TEST(PartnerReport, AMonitoredPartnerSessionIsOneWouldReject) {
  TestRow r = from("203.0.113.10", "news.watch.example", "watch");
  const auto rows = monitored(r, "starttls_required", "a.1.1");
  for (const auto& files : {std::vector<std::string>{csv(rows)},
                            // the accept in a file read first, its would-reject after
                            std::vector<std::string>{csv({rows[1]}), csv({rows[0]})}}) {
    const auto report = report_of(files);
    const SourceSummary* watch = partner(report.summary, "watch");
    ASSERT_NE(watch, nullptr);
    EXPECT_EQ(watch->decisions, 1u);
    EXPECT_EQ(watch->would_reject, 1u);
    EXPECT_EQ(watch->accept, 0u);
    EXPECT_EQ(watch->accepted, 1u);  // the message was accepted all the same
    EXPECT_EQ(count_of(watch->accepted_by_tls_version, "none"), 1u);
  }
}

TEST(PartnerReport, SenderDomainsByAcceptedMessages) {
  struct Expected {
    std::string domain;
    std::uint64_t messages, tls, networks;
  };
  TestRow refused = plaintext(from("198.51.100.1", "shop.example"));
  refused.action = "reject";
  refused.reason = "starttls_required";
  const auto r = report_of({csv({
      from("192.0.2.1", "shop.example"),
      from("192.0.2.200", "shop.example"),  // the same /24
      plaintext(from("192.0.3.1", "shop.example")),
      from("2001:db8:1::1", "shop.example"),
      from("2001:db8:1:ffff::1", "shop.example"),  // the same /48
      from("unknown", "shop.example"),
      refused,  // not a message
      plaintext(from("198.51.100.9", "<>")),
      from("198.51.100.9", "(unparsable)"),
      from("198.51.100.9", ""),  // no MAIL FROM: in no row of the table
      from("198.51.100.9", "bank.example"),
  })});
  const std::vector<Expected> expected = {
      {"shop.example", 6, 5, 4},  // 192.0.2/24, 192.0.3/24, 2001:db8:1::/48, unknown
      {"<>", 1, 0, 1},
      {"(unparsable)", 1, 1, 1},
      {"bank.example", 1, 1, 1},
  };
  EXPECT_EQ(r.summary.sender_domain_count, expected.size());
  ASSERT_EQ(r.summary.sender_domains.size(), expected.size());
  EXPECT_EQ(r.summary.sender_domains[0].name, "shop.example");  // most messages first
  for (const auto& e : expected) {
    const SenderDomainSummary* d = domain(r.summary, e.domain);
    ASSERT_NE(d, nullptr) << e.domain;
    EXPECT_EQ(d->messages, e.messages) << e.domain;
    EXPECT_EQ(d->tls, e.tls) << e.domain;
    EXPECT_EQ(d->networks, e.networks) << e.domain;
  }
  const SenderDomainSummary* shop = domain(r.summary, "shop.example");
  EXPECT_EQ(count_of(shop->accepted_by_tls_version, "TLSv1.3"), 5u);
  EXPECT_EQ(count_of(shop->accepted_by_tls_version, "none"), 1u);
}

TEST(PartnerReport, SenderDomainsAreCutToTopByMessagesTiesByName) {
  std::vector<TestRow> rows;
  for (const char* name : {"c.example", "b.example", "a.example", "c.example"}) {
    rows.push_back(from("192.0.2.1", name));
  }
  const auto r = report_of({csv(rows)}, {}, nullptr, 2);
  EXPECT_EQ(r.summary.sender_domain_count, 3u);
  ASSERT_EQ(r.summary.sender_domains.size(), 2u);
  EXPECT_EQ(r.summary.sender_domains[0].name, "c.example");
  EXPECT_EQ(r.summary.sender_domains[1].name, "a.example");
}

TEST(PartnerReport, FilesWrittenBeforeTheColumnsHaveNoPartnerData) {
  const TestRow row = from("192.0.2.1", "bank.example", "bank");
  // Without transaction and the later columns; and with every column but these two.
  std::string without = kHeader.substr(0, kHeader.find(",partner")) + "\r\n";
  const std::string line = testing::csv_row(row);
  std::string cut = line.substr(0, line.find(",bank,bank.example")) + "\r\n";
  for (const std::string& file : {csv({row}, true), without + cut}) {
    const auto r = report_of({file});
    EXPECT_EQ(r.summary.bad_rows, 0u) << r.errors;
    EXPECT_EQ(r.summary.total.decisions, 1u);
    EXPECT_TRUE(r.summary.partners.empty());
    EXPECT_TRUE(r.summary.sender_domains.empty());
  }
}

TEST(PartnerReport, ColumnsAreFoundByNameInAnyOrder) {
  const std::string file =
      "sender_domain,partner,time,client,source,action,tls_version\r\n"
      "bank.example,bank,2026-11-20T10:00:00Z,192.0.2.1,default,accept,TLSv1.3\r\n";
  const auto r = report_of({file});
  ASSERT_EQ(r.summary.partners.size(), 1u);
  EXPECT_EQ(r.summary.partners[0].name, "bank");
  ASSERT_EQ(r.summary.sender_domains.size(), 1u);
  EXPECT_EQ(r.summary.sender_domains[0].name, "bank.example");
  EXPECT_EQ(r.summary.sender_domains[0].tls, 1u);
}

TEST(PartnerReport, AClientNetworkIsItsSlash24OrSlash48) {
  struct Case {
    std::string a, b;
    bool same;
  };
  const std::vector<Case> cases = {
      {"192.0.2.1", "192.0.2.254", true},
      {"192.0.2.1", "192.0.3.1", false},
      {"2001:db8:1::1", "2001:db8:1:ffff::1", true},
      {"2001:db8:1::1", "2001:db8:2::1", false},
      {"192.0.2.1", "c000:200::", false},  // the same leading bytes, another family
      {"::ffff:192.0.2.1", "192.0.2.9", true},
  };
  for (const auto& c : cases) {
    const auto a = policy::Address::parse(c.a), b = policy::Address::parse(c.b);
    ASSERT_TRUE(a && b) << c.a << " " << c.b;
    EXPECT_EQ(client_network_key(a) == client_network_key(b), c.same) << c.a << " " << c.b;
    EXPECT_EQ(client_network(a) == client_network(b), c.same) << c.a << " " << c.b;
  }
  EXPECT_NE(client_network_key(std::nullopt),
            client_network_key(policy::Address::parse("0.0.0.0")));
  EXPECT_EQ(client_network(std::nullopt), "unknown");
}

}  // namespace
}  // namespace tlsgate::report
