// --what-if: each logged decision's facts judged again by a candidate configuration
// with policy::decide, every source enforcing; counted once per session.
#include <gtest/gtest.h>

#include "policy/loader.h"
#include "report/replay.h"
#include "report_test_support.h"

namespace tlsgate::report {
namespace {

using testing::count_of;
using testing::csv;
using testing::monitored;
using testing::report_of;
using testing::TestRow;

Replay candidate(const std::string& ini) {
  auto loaded = policy::load_policy_text(ini, "candidate.ini", ".");
  if (!loaded.policy) throw std::runtime_error("candidate: " + loaded.errors.front().to_string());
  return Replay(loaded.policy, "candidate.ini");
}

const WhatIfSource& what_if_source(const Summary& s, const std::string& name) {
  for (const auto& w : s.what_if->sources) {
    if (w.name == name) return w;
  }
  throw std::runtime_error("no candidate source " + name);
}

const TestRow kPlain{.client = "198.51.100.7", .tls = "none", .cipher = "", .bits = ""};

TEST(Replay, PlaintextAcceptedTodayIsNewlyRefusedWhereStarttlsBecomesRequired) {
  Replay strict = candidate("[source default]\nrequire_starttls = yes\n");
  const auto r = report_of({csv({kPlain, kPlain, TestRow{}})}, {}, &strict);
  ASSERT_TRUE(r.summary.what_if.has_value());
  const auto& w = *r.summary.what_if;
  EXPECT_EQ(w.config, "candidate.ini");
  EXPECT_EQ(w.sessions, 3u);
  EXPECT_EQ(w.newly_refused, 2u);
  EXPECT_EQ(w.newly_passed, 0u);
  const auto& def = what_if_source(r.summary, "default");
  EXPECT_EQ(count_of(def.reasons, "starttls_required"), 2u);
  ASSERT_EQ(def.top.size(), 1u);
  EXPECT_EQ(def.top[0].client, "198.51.100.7");
  EXPECT_EQ(def.top[0].count, 2u);
}

TEST(Replay, WhatIsRefusedTodayAndPassesIsNewlyPassed) {
  TestRow rejected = kPlain;
  rejected.action = "reject";
  rejected.reason = "starttls_required";
  rejected.transaction = "a.1.1";
  auto rows = monitored(kPlain, "starttls_required", "a.2.1");  // would-reject + accept
  rows.push_back(rejected);
  Replay loose = candidate("[source default]\nrequire_starttls = no\n");
  const auto r = report_of({csv(rows)}, {}, &loose);
  EXPECT_EQ(r.summary.what_if->sessions, 2u);  // the monitored session once
  EXPECT_EQ(r.summary.what_if->newly_passed, 2u);
  EXPECT_EQ(r.summary.what_if->newly_refused, 0u);
}

TEST(Replay, AMonitoredSessionIsRefusedTodayNeverNewlyRefused) {
  Replay strict = candidate("[source default]\nrequire_starttls = yes\n");
  const auto rows = monitored(kPlain, "starttls_required", "a.1.1");
  for (const auto& files : {std::vector<std::string>{csv(rows)},
                            // the accept in a file read first, its would-reject after
                            std::vector<std::string>{csv({rows[1]}), csv({rows[0]})}}) {
    const auto r = report_of(files, {}, &strict);
    EXPECT_EQ(r.summary.what_if->sessions, 1u);
    EXPECT_EQ(r.summary.what_if->newly_refused, 0u);
    EXPECT_EQ(r.summary.what_if->newly_passed, 0u);
  }
}

TEST(Replay, TheCandidateIsJudgedAsIfEnforcing) {
  Replay monitor =
      candidate("[milter]\nmode = monitor\n[source default]\nrequire_starttls = yes\n");
  const auto r = report_of({csv({kPlain})}, {}, &monitor);
  EXPECT_EQ(r.summary.what_if->newly_refused, 1u);
}

TEST(Replay, EveryFactTheCsvHoldsIsJudged) {
  struct Case {
    std::string name;
    TestRow row;
    std::string ini;
    std::string reason;  // the candidate's; empty: it passes
  };
  const std::vector<Case> cases = {
      {"an unknown tls_version is no TLS",
       {.tls = "(NONE)", .cipher = "", .bits = ""},
       "[source default]\nrequire_starttls = yes\n",
       "starttls_required"},
      {"TLS below the minimum",
       {.tls = "TLSv1.1"},
       "[source default]\nmin_tls_version = TLSv1.2\n",
       "tls_version_too_low"},
      {"a weak cipher",
       {.tls = "TLSv1.2", .cipher = "AES128-SHA", .bits = "128"},
       "[source default]\nmin_cipher_bits = 256\n",
       "cipher_too_weak"},
      {"AUTH kept from before STARTTLS",
       {.auth = "PLAIN", .user = "alice", .auth_before_tls = "yes"},
       "[source default]\n",
       "plaintext_auth"},
      {"AUTH after STARTTLS", {.auth = "PLAIN", .user = "alice"}, "[source default]\n", ""},
      {"a verified certificate from the right CA",
       {.subject = "relay.example", .issuer = "Example CA"},
       "[source default]\nrequire_client_cert = yes\nclient_cert_issuer = Example CA\n",
       ""},
      {"a certificate from another CA",
       {.subject = "relay.example", .issuer = "Other CA"},
       "[source default]\nrequire_client_cert = yes\nclient_cert_issuer = Example CA\n",
       "client_cert_required"},
      {"no certificate",
       {},
       "[source default]\nrequire_client_cert = yes\n",
       "client_cert_required"},
  };
  for (const auto& c : cases) {
    Replay replay = candidate(c.ini);
    const auto r = report_of({csv({c.row})}, {}, &replay);
    EXPECT_EQ(r.summary.what_if->newly_refused, c.reason.empty() ? 0u : 1u) << c.name;
    if (!c.reason.empty()) {
      EXPECT_EQ(count_of(r.summary.what_if->total.reasons, c.reason), 1u) << c.name;
    }
  }
}

TEST(Replay, ClientsWhoseSourceChangesAreMoved) {
  TestRow a{.client = "192.0.2.10", .source = "partners"};
  TestRow b{.client = "192.0.2.11", .source = "default"};
  Replay moved = candidate(
      "[source default]\n[source partners]\nnetworks = 192.0.2.0/24\nrequire_starttls = yes\n");
  const auto r = report_of({csv({a, a, b})}, {}, &moved);
  EXPECT_EQ(r.summary.what_if->moved, 1u);
  ASSERT_EQ(r.summary.what_if->moves.size(), 1u);
  EXPECT_EQ(r.summary.what_if->moves[0].from, "default");
  EXPECT_EQ(r.summary.what_if->moves[0].to, "partners");
}

// A candidate that adds a partner: shop.example over TLS from 198.51.100.0/24 only,
// and a recipient partner, which replay cannot judge.
const std::string kShop =
    "[milter]\nmode = monitor\n[source default]\n"
    "[partner shop]\nsender_domains = shop.example\nnetworks = 198.51.100.0/24\n"
    "require_starttls = yes\n"
    "[partner legal]\nrecipient_domains = legal.example.org\nrequire_starttls = yes\n";

const WhatIfSource* what_if_partner(const Summary& s, const std::string& name) {
  for (const auto& p : s.what_if->partners) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

TEST(Replay, ACandidatePartnerJudgesTheRowsOfItsSenderDomain) {
  struct Case {
    std::string name;
    TestRow row;
    std::string reason;  // the candidate partner's; empty: it passes
  };
  const TestRow inside{.client = "198.51.100.20", .sender_domain = "shop.example"};
  const auto with = [](TestRow r, auto change) {
    change(r);
    return r;
  };
  const std::vector<Case> cases = {
      {"TLS from its networks", inside, ""},
      {"plaintext from its networks",
       with(inside, [](TestRow& r) { r.tls = "none", r.cipher = r.bits = ""; }),
       "starttls_required"},
      {"TLS from elsewhere", with(inside, [](TestRow& r) { r.client = "203.0.113.5"; }),
       "partner_network"},
      {"an unknown client is elsewhere", with(inside, [](TestRow& r) { r.client = "unknown"; }),
       "partner_network"},
      {"a subdomain is not listed",
       with(inside,
            [](TestRow& r) { r.client = "203.0.113.5", r.sender_domain = "a.shop.example"; }),
       ""},
      {"a look-alike",
       with(inside,
            [](TestRow& r) { r.client = "203.0.113.5", r.sender_domain = "notshop.example"; }),
       ""},
      {"the null sender",
       with(inside, [](TestRow& r) { r.client = "203.0.113.5", r.sender_domain = "<>"; }), ""},
      {"an unparsable sender",
       with(inside, [](TestRow& r) { r.client = "203.0.113.5", r.sender_domain = "(unparsable)"; }),
       ""},
      {"no MAIL FROM",
       with(inside, [](TestRow& r) { r.client = "203.0.113.5", r.sender_domain = ""; }), ""},
  };
  for (const auto& c : cases) {
    Replay replay = candidate(kShop);
    const auto r = report_of({csv({c.row})}, {}, &replay);
    const auto& w = *r.summary.what_if;
    EXPECT_EQ(w.newly_refused, c.reason.empty() ? 0u : 1u) << c.name;
    const WhatIfSource* shop = what_if_partner(r.summary, "shop");
    ASSERT_NE(shop, nullptr) << c.name;
    EXPECT_EQ(shop->newly_refused, c.reason.empty() ? 0u : 1u) << c.name;
    if (c.reason.empty()) continue;
    EXPECT_EQ(count_of(shop->reasons, c.reason), 1u) << c.name;
    ASSERT_EQ(shop->top.size(), 1u) << c.name;
    EXPECT_EQ(shop->top[0].client, c.row.client) << c.name;
    EXPECT_EQ(count_of(w.total.reasons, c.reason), 1u) << c.name;  // under its source too
  }
}

TEST(Replay, RecipientPartnersAreNotReplayedAndTheirRefusalsStand) {
  Replay replay = candidate(kShop);
  TestRow by_legal = kPlain;
  by_legal.action = "reject";
  by_legal.reason = "starttls_required";
  by_legal.partner = "legal";
  TestRow by_gone = by_legal;  // a partner the candidate no longer has
  by_gone.partner = "watch";
  by_gone.client = "198.51.100.8";
  const auto r = report_of({csv({by_legal, by_gone})}, {}, &replay);
  const auto& w = *r.summary.what_if;
  EXPECT_EQ(w.newly_passed, 1u);  // watch's refusal only
  EXPECT_EQ(w.unreplayed_partners, std::vector<std::string>{"legal"});
  EXPECT_EQ(what_if_partner(r.summary, "legal"), nullptr);
}

TEST(Replay, ANewlyRefusedAcceptTakenBackByItsWouldRejectLeavesThePartnerAtZero) {
  Replay replay = candidate(kShop);
  TestRow row{.client = "198.51.100.20", .sender_domain = "shop.example"};
  const auto rows = monitored(row, "starttls_required", "a.1.1");
  const auto r = report_of({csv({rows[1]}), csv({rows[0]})}, {}, &replay);
  EXPECT_EQ(r.summary.what_if->newly_refused, 0u);
  const WhatIfSource* shop = what_if_partner(r.summary, "shop");
  ASSERT_NE(shop, nullptr);
  EXPECT_EQ(shop->newly_refused, 0u);
  EXPECT_TRUE(shop->top.empty());
}

TEST(Replay, FilesWithoutTheSenderDomainReplayTheSourcesOnly) {
  Replay replay = candidate(kShop);
  TestRow row{.client = "203.0.113.5", .sender_domain = "shop.example"};
  const auto r = report_of({csv({row}, true)}, {}, &replay);
  EXPECT_EQ(r.summary.what_if->sessions, 1u);
  EXPECT_EQ(r.summary.what_if->newly_refused, 0u);
}

}  // namespace
}  // namespace tlsgate::report
