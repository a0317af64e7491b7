// The metrics text (engine/metrics.h): what is counted, the exposition format
// (label escaping, one HELP and TYPE per family), and the session counting its
// decisions into the process's metrics.
#include "engine/metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "engine/session.h"
#include "policy/loader.h"
#include "t/unit/test_support.h"

namespace tlsgate::engine {
namespace {

// series text ("name{labels}") -> value, from an exposition.
std::map<std::string, long long> samples(const std::string& text) {
  std::map<std::string, long long> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    out[line.substr(0, space)] = std::stoll(line.substr(space + 1));
  }
  return out;
}

policy::Decision refusal(policy::Reason reason, bool monitor = false) {
  policy::Decision d;
  d.verdict = monitor ? policy::Verdict::accept : policy::Verdict::reject;
  d.reason = reason;
  d.would_reject = monitor;
  return d;
}

TEST(MetricsText, EscapesLabelValues) {
  EXPECT_EQ(escape_label_value("plain-name_1.2"), "plain-name_1.2");
  EXPECT_EQ(escape_label_value("a\\b"), "a\\\\b");
  EXPECT_EQ(escape_label_value("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(escape_label_value("two\nlines"), "two\\nlines");
  EXPECT_EQ(escape_label_value(""), "");
}

TEST(MetricsText, EscapedInTheSamples) {
  Metrics m;
  m.count_decision("we\"ird\\\n", "", policy::Decision{}, std::nullopt);
  const auto s = samples(m.exposition());
  EXPECT_EQ(
      s.at(R"(tlsgate_decisions_total{source="we\"ird\\\n",partner="",action="accept",reason=""})"),
      1);
}

TEST(MetricsText, OneHelpAndTypePerFamilyThenItsSamples) {
  Metrics m;
  m.policy_loaded({"default", "partners"}, 3, 1700000000);
  m.count_decision("partners", "", policy::Decision{}, policy::TlsVersion::tls1_3);
  m.count_decision("default", "", refusal(policy::Reason::starttls_required), std::nullopt);
  m.count_credentials_exposed("default");
  m.count_reload(true);
  m.declare_stage("mail");
  m.count_internal_error("eom");
  std::istringstream in(m.exposition());
  std::set<std::string> helped, typed;
  std::string family;  // the family of the last TYPE line
  const std::regex help("^# HELP (tlsgate_[a-z_]+) \\S.*$");
  const std::regex type("^# TYPE (tlsgate_[a-z_]+) (counter|gauge)$");
  const std::regex sample_re("^(tlsgate_[a-z_]+)(\\{[^}]*\\})? [0-9]+$");
  std::smatch match;
  int samples_seen = 0;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_match(line, match, help)) {
      EXPECT_TRUE(helped.insert(match[1]).second) << "HELP twice: " << line;
    } else if (std::regex_match(line, match, type)) {
      EXPECT_TRUE(typed.insert(match[1]).second) << "TYPE twice: " << line;
      EXPECT_TRUE(helped.contains(match[1])) << "TYPE before HELP: " << line;
      family = match[1];
    } else {
      ASSERT_TRUE(std::regex_match(line, match, sample_re)) << "not a sample: " << line;
      EXPECT_EQ(match[1], family) << "a sample outside its family: " << line;
      ++samples_seen;
    }
  }
  const std::set<std::string> families{"tlsgate_decisions_total",
                                       "tlsgate_accepted_messages_total",
                                       "tlsgate_credentials_exposed_total",
                                       "tlsgate_reloads_total",
                                       "tlsgate_internal_errors_total",
                                       "tlsgate_policy_sources",
                                       "tlsgate_policy_netblocks",
                                       "tlsgate_policy_loaded_timestamp_seconds",
                                       "tlsgate_build_info"};
  EXPECT_EQ(helped, families);
  EXPECT_EQ(typed, families);
  EXPECT_GT(samples_seen, 20);
}

TEST(MetricsText, CountsByPartner) {
  Metrics m;
  m.policy_loaded({"default"}, 1, 1700000000);
  m.count_decision("default", "bank", refusal(policy::Reason::partner_network), std::nullopt);
  m.count_decision("default", "bank", policy::Decision{}, policy::TlsVersion::tls1_2);
  m.count_decision("default", "bank,legal", policy::Decision{}, policy::TlsVersion::tls1_3);
  m.count_decision("default", "", policy::Decision{}, std::nullopt);
  const auto s = samples(m.exposition());
  EXPECT_EQ(
      s.at(
          R"(tlsgate_decisions_total{source="default",partner="bank",action="reject",reason="partner_network"})"),
      1);
  EXPECT_EQ(
      s.at(R"(tlsgate_decisions_total{source="default",partner="bank",action="accept",reason=""})"),
      1);
  EXPECT_EQ(
      s.at(
          R"(tlsgate_decisions_total{source="default",partner="bank,legal",action="accept",reason=""})"),
      1);
  EXPECT_EQ(
      s.at(R"(tlsgate_decisions_total{source="default",partner="",action="accept",reason=""})"), 1);
  EXPECT_EQ(
      s.at(
          R"(tlsgate_accepted_messages_total{source="default",partner="bank",tls_version="TLSv1.2"})"),
      1);
  EXPECT_EQ(
      s.at(
          R"(tlsgate_accepted_messages_total{source="default",partner="bank",tls_version="none"})"),
      0);
  EXPECT_EQ(
      s.at(
          R"(tlsgate_accepted_messages_total{source="default",partner="bank,legal",tls_version="TLSv1.3"})"),
      1);
  EXPECT_EQ(
      s.at(R"(tlsgate_accepted_messages_total{source="default",partner="",tls_version="none"})"),
      1);
}

TEST(MetricsText, CountsByLabel) {
  Metrics m;
  m.policy_loaded({"default", "legacy", "partners"}, 7, 1700000000);
  m.count_decision("partners", "", policy::Decision{}, policy::TlsVersion::tls1_3);
  m.count_decision("partners", "", policy::Decision{}, policy::TlsVersion::tls1_3);
  m.count_decision("partners", "", refusal(policy::Reason::tls_version_too_low), std::nullopt);
  m.count_decision("legacy", "", refusal(policy::Reason::starttls_required, true), std::nullopt);
  m.count_decision("legacy", "", policy::Decision{}, std::nullopt);
  m.count_reload(false);
  m.count_internal_error("mail");
  const auto s = samples(m.exposition());
  EXPECT_EQ(
      s.at(R"(tlsgate_decisions_total{source="partners",partner="",action="accept",reason=""})"),
      2);
  EXPECT_EQ(
      s.at(
          R"(tlsgate_decisions_total{source="partners",partner="",action="reject",reason="tls_version_too_low"})"),
      1);
  EXPECT_EQ(
      s.at(
          R"(tlsgate_decisions_total{source="legacy",partner="",action="would-reject",reason="starttls_required"})"),
      1);
  EXPECT_EQ(
      s.at(R"(tlsgate_decisions_total{source="default",partner="",action="accept",reason=""})"), 0);
  EXPECT_EQ(
      s.at(
          R"(tlsgate_accepted_messages_total{source="partners",partner="",tls_version="TLSv1.3"})"),
      2);
  // A would-reject is no accepted message; the accept that follows it is.
  EXPECT_EQ(
      s.at(R"(tlsgate_accepted_messages_total{source="legacy",partner="",tls_version="none"})"), 1);
  EXPECT_EQ(
      s.at(R"(tlsgate_accepted_messages_total{source="default",partner="",tls_version="TLSv1.1"})"),
      0);
  EXPECT_EQ(s.at(R"(tlsgate_credentials_exposed_total{source="default"})"), 0);
  EXPECT_EQ(s.at(R"(tlsgate_reloads_total{result="ok"})"), 0);
  EXPECT_EQ(s.at(R"(tlsgate_reloads_total{result="failed"})"), 1);
  EXPECT_EQ(s.at(R"(tlsgate_internal_errors_total{stage="mail"})"), 1);
  EXPECT_EQ(s.at("tlsgate_policy_sources"), 3);
  EXPECT_EQ(s.at("tlsgate_policy_netblocks"), 7);
  EXPECT_EQ(s.at("tlsgate_policy_loaded_timestamp_seconds"), 1700000000);
  EXPECT_EQ(s.at(R"(tlsgate_build_info{version="0.1.0"})"), 1);
}

TEST(MetricsText, ASourceGoneAfterAReloadKeepsItsValues) {
  Metrics m;
  m.policy_loaded({"default", "old"}, 2, 1);
  m.count_decision("old", "", refusal(policy::Reason::starttls_required), std::nullopt);
  m.policy_loaded({"default"}, 0, 2);
  const auto s = samples(m.exposition());
  EXPECT_EQ(
      s.at(
          R"(tlsgate_decisions_total{source="old",partner="",action="reject",reason="starttls_required"})"),
      1);
  EXPECT_EQ(s.at("tlsgate_policy_sources"), 1);
  EXPECT_EQ(s.at("tlsgate_policy_loaded_timestamp_seconds"), 2);
}

// The session counts into the process's metrics: each logged decision once, an
// exposed password once per session although two lines say so.
TEST(MetricsSession, CountsItsDecisionsAndAnExposedPasswordOnce) {
  auto loaded = policy::load_policy_text(
      "[source default]\n[source watched]\nnetworks = 198.51.100.0/24\nrequire_starttls = yes\n"
      "mode = monitor\n",
      "metrics.ini", "");
  ASSERT_TRUE(loaded.policy);
  const std::string would =
      R"(tlsgate_decisions_total{source="watched",partner="",action="would-reject",reason="plaintext_auth"})";
  const std::string accepted =
      R"(tlsgate_accepted_messages_total{source="watched",partner="",tls_version="none"})";
  const std::string exposed = R"(tlsgate_credentials_exposed_total{source="watched"})";
  auto before = samples(metrics().exposition());
  Session session(loaded.policy, policy::testing::addr("198.51.100.7"),
                  [](Severity, const LogRecord&) {});
  const std::map<std::string, std::string> mail{
      {"{auth_type}", "PLAIN"}, {"{auth_authen}", "alice"}, {"{i}", "Q1"}};
  auto lookup = [&](const char* name) -> const char* {
    const auto it = mail.find(name);
    return it == mail.end() ? nullptr : it->second.c_str();
  };
  session.at_helo(lookup);
  EXPECT_TRUE(session.at_mail(lookup).would_reject);
  session.at_end_of_message(lookup);
  const auto after = samples(metrics().exposition());
  EXPECT_EQ(after.at(would) - before[would], 1);
  EXPECT_EQ(after.at(accepted) - before[accepted], 1);
  EXPECT_EQ(after.at(exposed) - before[exposed], 1);
}

}  // namespace
}  // namespace tlsgate::engine
