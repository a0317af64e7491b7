// Inheritance: a key a section does not set comes from the most specific enclosing
// section, then [source default], then the built-in default; with its origin.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/loader.h"
#include "t/unit/test_support.h"

namespace tlsgate::policy {
namespace {

using testing::addr;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using testing::error_strings;

std::shared_ptr<const Policy> load(const std::string& text, const std::string& base_dir = "") {
  LoadResult r = load_policy_text(text, "nested.ini", base_dir);
  EXPECT_THAT(error_strings(r.errors), ElementsAre());
  if (!r.policy) throw std::runtime_error("the test config does not load");
  return r.policy;
}

// Lines numbered for the expectations below.
const char* const kNested =
    "[milter]\n"                                     // 1
    "mode = monitor\n"                               // 2
    "\n"                                             // 3
    "[source default]\n"                             // 4
    "require_starttls_before_auth = no\n"            // 5
    "min_cipher_bits = 112\n"                        // 6
    "action = tempfail\n"                            // 7
    "\n"                                             // 8
    "[source corp]\n"                                // 9
    "networks = 10.0.0.0/8\n"                        // 10
    "require_starttls = yes\n"                       // 11
    "min_tls_version = TLSv1.2\n"                    // 12
    "mode = enforce\n"                               // 13
    "ciphers = ECDHE+AESGCM\n"                       // 14
    "\n"                                             // 15
    "[source lab]\n"                                 // 16
    "networks = 10.1.0.0/16, 172.16.0.0/12\n"        // 17
    "min_cipher_bits = 256\n"                        // 18
    "client_cert_issuer = CN=Lab CA\n"               // 19
    "require_client_cert = yes\n"                    // 20
    "[source inner]\n"                               // 21
    "networks = 10.1.7.0/24, 2001:db8::/32\n"        // 22
    "action = reject\n"                              // 23
    "tls13_ciphersuites = TLS_AES_256_GCM_SHA384\n"  // 24
    "\n"                                             // 25
    "[source v6]\n"                                  // 26
    "networks = 2001:db8:1::/48\n"                   // 27
    "allow_unencrypted_plain_auth = yes\n";          // 28

// What one setting resolved to and where it came from.
struct Resolved {
  std::string value;
  std::string section;  // empty: built-in default
  int line;
  friend bool operator==(const Resolved&, const Resolved&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Resolved& r) {
    return os << "\"" << r.value << "\" from [" << r.section << "] line " << r.line;
  }
};

struct InheritCase {
  std::string client;  // empty: unknown client
  std::string source;
  std::vector<std::string> chain;
  std::map<std::string, Resolved> settings;  // every source key
};

void PrintTo(const InheritCase& c, std::ostream* os) {
  *os << (c.client.empty() ? "unknown" : c.client);
}

class Inheritance : public ::testing::TestWithParam<InheritCase> {
 protected:
  static void SetUpTestSuite() { policy_ = load(kNested); }
  static void TearDownTestSuite() { policy_.reset(); }
  static std::shared_ptr<const Policy> policy_;
};
std::shared_ptr<const Policy> Inheritance::policy_;

TEST_P(Inheritance, SettingsAndOrigins) {
  const InheritCase& c = GetParam();
  const std::optional<Address> client =
      c.client.empty() ? std::nullopt : std::optional<Address>(addr(c.client));
  const Rule& rule = policy_->rule_for(client);
  EXPECT_EQ(rule.source, c.source);
  EXPECT_EQ(rule.chain, c.chain);
  std::map<std::string, Resolved> got;
  for (const ResolvedSetting& s : rule.settings) {
    EXPECT_EQ(s.origin.file, s.origin.section.empty() ? "" : "nested.ini") << s.key->name;
    got[std::string(s.key->name)] = {s.value.text, s.origin.section, s.origin.line};
  }
  EXPECT_EQ(got, c.settings);
}

// The built-in defaults of each key.
Resolved builtin(std::string value) { return {std::move(value), "", 0}; }

std::map<std::string, Resolved> with(std::map<std::string, Resolved> overrides) {
  std::map<std::string, Resolved> all = {
      {"require_starttls", builtin("no")},
      {"require_starttls_before_auth", {"no", "source default", 5}},
      {"allow_unencrypted_plain_auth", builtin("no")},
      {"min_tls_version", builtin("")},
      {"min_cipher_bits", {"112", "source default", 6}},
      {"ciphers", builtin("")},
      {"tls13_ciphersuites", builtin("")},
      {"require_client_cert", builtin("no")},
      {"client_cert_issuer", builtin("")},
      {"client_cert_subject", builtin("")},
      {"action", {"tempfail", "source default", 7}},
      {"mode", {"monitor", "milter", 2}},  // a source's mode defaults to [milter] mode
  };
  for (auto& [k, v] : overrides) all[k] = v;
  return all;
}

const std::map<std::string, Resolved> kCorp = {
    {"require_starttls", {"yes", "source corp", 11}},
    {"min_tls_version", {"TLSv1.2", "source corp", 12}},
    {"mode", {"enforce", "source corp", 13}},
    {"ciphers", {"ECDHE+AESGCM", "source corp", 14}},
};

std::map<std::string, Resolved> merged(std::vector<std::map<std::string, Resolved>> layers) {
  // Layers from the least to the most specific.
  std::map<std::string, Resolved> out;
  for (const auto& layer : layers) {
    for (const auto& [k, v] : layer) out[k] = v;
  }
  return with(out);
}

const std::map<std::string, Resolved> kLab = {
    {"min_cipher_bits", {"256", "source lab", 18}},
    {"client_cert_issuer", {"CN=Lab CA", "source lab", 19}},
    {"require_client_cert", {"yes", "source lab", 20}},
};
const std::map<std::string, Resolved> kInner = {
    {"action", {"reject", "source inner", 23}},
    {"tls13_ciphersuites", {"TLS_AES_256_GCM_SHA384", "source inner", 24}},
};
const std::map<std::string, Resolved> kV6 = {
    {"allow_unencrypted_plain_auth", {"yes", "source v6", 28}},
};

using Chain = std::vector<std::string>;

INSTANTIATE_TEST_SUITE_P(
    Table, Inheritance,
    ::testing::Values(
        InheritCase{"10.1.7.5", "inner", Chain{"inner", "lab", "corp", "default"},
                    merged({kCorp, kLab, kInner})},
        InheritCase{"10.1.8.1", "lab", Chain{"lab", "corp", "default"}, merged({kCorp, kLab})},
        // lab's other netblock is not inside corp: a different parent
        InheritCase{"172.16.5.5", "lab", Chain{"lab", "default"}, merged({kLab})},
        InheritCase{"172.31.255.255", "lab", Chain{"lab", "default"}, merged({kLab})},
        InheritCase{"10.2.0.1", "corp", Chain{"corp", "default"}, merged({kCorp})},
        // inner's v6 netblock is inside nothing; v6 inside inner's
        InheritCase{"2001:db8::1", "inner", Chain{"inner", "default"}, merged({kInner})},
        InheritCase{"2001:db8:1::1", "v6", Chain{"v6", "inner", "default"}, merged({kInner, kV6})},
        InheritCase{"::ffff:10.1.7.5", "inner", Chain{"inner", "lab", "corp", "default"},
                    merged({kCorp, kLab, kInner})},
        InheritCase{"192.0.2.1", "default", Chain{"default"}, with({})},
        InheritCase{"2001:db9::1", "default", Chain{"default"}, with({})},
        InheritCase{"", "default", Chain{"default"}, with({})}));

TEST(Inheritance, TypedFieldsFollowTheSettings) {
  const auto policy = load(kNested);
  const Rule& inner = policy->rule_for(addr("10.1.7.5"));
  EXPECT_TRUE(inner.require_starttls);
  EXPECT_FALSE(inner.require_starttls_before_auth);
  EXPECT_FALSE(inner.allow_unencrypted_plain_auth);
  EXPECT_EQ(inner.min_tls_version, TlsVersion::tls1_2);
  EXPECT_EQ(inner.min_cipher_bits, 256u);
  ASSERT_NE(inner.ciphers, nullptr);
  EXPECT_TRUE(inner.ciphers->contains("ECDHE-RSA-AES256-GCM-SHA384"));
  EXPECT_FALSE(inner.ciphers->contains("AES256-SHA"));
  ASSERT_NE(inner.tls13_ciphersuites, nullptr);
  EXPECT_EQ(inner.tls13_ciphersuites->expansion(), "TLS_AES_256_GCM_SHA384");
  EXPECT_TRUE(inner.require_client_cert);
  EXPECT_EQ(inner.client_cert_issuer, "CN=Lab CA");
  EXPECT_EQ(inner.client_cert_subject, "");
  EXPECT_EQ(inner.action, Action::reject);
  EXPECT_EQ(inner.mode, Mode::enforce);

  const Rule& lab_outside = policy->rule_for(addr("172.16.0.1"));
  EXPECT_FALSE(lab_outside.require_starttls);
  EXPECT_EQ(lab_outside.min_tls_version, std::nullopt);
  EXPECT_EQ(lab_outside.ciphers, nullptr);
  EXPECT_EQ(lab_outside.tls13_ciphersuites, nullptr);
  EXPECT_EQ(lab_outside.min_cipher_bits, 256u);
  EXPECT_EQ(lab_outside.action, Action::tempfail);
  EXPECT_EQ(lab_outside.mode, Mode::monitor);

  const Rule& v6 = policy->rule_for(addr("2001:db8:1::9"));
  EXPECT_TRUE(v6.allow_unencrypted_plain_auth);
  EXPECT_EQ(v6.action, Action::reject);
  EXPECT_NE(v6.tls13_ciphersuites, nullptr);

  const Rule& def = policy->default_rule();
  EXPECT_EQ(&def, &policy->rule_for(std::nullopt));
  EXPECT_FALSE(def.require_starttls);
  EXPECT_FALSE(def.require_starttls_before_auth);
  EXPECT_EQ(def.min_cipher_bits, 112u);
  EXPECT_EQ(def.action, Action::tempfail);
  EXPECT_EQ(def.mode, Mode::monitor);
}

TEST(Inheritance, SettingsInSchemaOrder) {
  const auto policy = load(kNested);
  std::vector<std::string> keys;
  for (const auto& s : policy->default_rule().settings) keys.emplace_back(s.key->name);
  EXPECT_THAT(keys,
              ElementsAre("require_starttls", "require_starttls_before_auth",
                          "allow_unencrypted_plain_auth", "min_tls_version", "min_cipher_bits",
                          "ciphers", "tls13_ciphersuites", "require_client_cert",
                          "client_cert_issuer", "client_cert_subject", "action", "mode"));
}

TEST(Inheritance, BuiltInDefaultsWithAnEmptyPolicy) {
  const auto policy = load("[milter]\nsyslog_ident = tlsgate-test\n");
  const Rule& r = policy->rule_for(addr("192.0.2.1"));
  EXPECT_EQ(r.source, "default");
  EXPECT_FALSE(r.require_starttls);
  EXPECT_TRUE(r.require_starttls_before_auth);
  EXPECT_FALSE(r.allow_unencrypted_plain_auth);
  EXPECT_EQ(r.min_tls_version, std::nullopt);
  EXPECT_EQ(r.min_cipher_bits, 0u);
  EXPECT_EQ(r.ciphers, nullptr);
  EXPECT_EQ(r.tls13_ciphersuites, nullptr);
  EXPECT_FALSE(r.require_client_cert);
  EXPECT_EQ(r.action, Action::reject);
  EXPECT_EQ(r.mode, Mode::enforce);
  for (const auto& s : r.settings) {
    EXPECT_EQ(s.origin.section, "") << s.key->name;
    EXPECT_EQ(s.origin.line, 0) << s.key->name;
  }
  const auto mode = std::find_if(r.settings.begin(), r.settings.end(),
                                 [](const auto& s) { return s.key->name == "mode"; });
  ASSERT_NE(mode, r.settings.end());
  EXPECT_EQ(mode->value.text, "enforce");
}

struct ModeCase {
  std::string name;
  std::string text;
  Mode partners;  // the mode of 192.0.2.1
  Mode others;    // the mode of any other client
  Mode milter;
};

void PrintTo(const ModeCase& c, std::ostream* os) { *os << c.name; }

class SourceMode : public ::testing::TestWithParam<ModeCase> {};

TEST_P(SourceMode, DefaultsToMilterMode) {
  const ModeCase& c = GetParam();
  const auto policy = load(c.text);
  EXPECT_EQ(policy->rule_for(addr("192.0.2.1")).mode, c.partners);
  EXPECT_EQ(policy->rule_for(addr("198.51.100.1")).mode, c.others);
  EXPECT_EQ(policy->rule_for(std::nullopt).mode, c.others);
  EXPECT_EQ(policy->milter().mode, c.milter);
}

const std::string kPartners = "[source partners]\nnetworks = 192.0.2.0/24\n";

INSTANTIATE_TEST_SUITE_P(
    Table, SourceMode,
    ::testing::Values(
        ModeCase{"no_mode_anywhere", kPartners, Mode::enforce, Mode::enforce, Mode::enforce},
        ModeCase{"milter_monitor", "[milter]\nmode = monitor\n" + kPartners, Mode::monitor,
                 Mode::monitor, Mode::monitor},
        ModeCase{"milter_monitor_after_sources", kPartners + "[milter]\nmode = monitor\n",
                 Mode::monitor, Mode::monitor, Mode::monitor},
        ModeCase{"source_overrides_milter",
                 "[milter]\nmode = monitor\n" + kPartners + "mode = enforce\n", Mode::enforce,
                 Mode::monitor, Mode::monitor},
        ModeCase{"default_overrides_milter",
                 "[milter]\nmode = monitor\n[source default]\nmode = enforce\n" + kPartners,
                 Mode::enforce, Mode::enforce, Mode::monitor},
        ModeCase{"source_monitor_milter_enforce",
                 "[milter]\nmode = enforce\n" + kPartners + "mode = monitor\n", Mode::monitor,
                 Mode::enforce, Mode::enforce}),
    [](const auto& info) { return info.param.name; });

TEST(MilterSettings, Defaults) {
  const auto policy = load(kPartners);
  const MilterSettings& m = policy->milter();
  EXPECT_EQ(m.socket, "inet:8891@127.0.0.1");
  EXPECT_EQ(m.socket_mode, 0660u);
  EXPECT_EQ(m.user, "");
  EXPECT_EQ(m.group, "");
  EXPECT_EQ(m.mode, Mode::enforce);
  EXPECT_EQ(m.syslog_facility, Facility::mail);
  EXPECT_EQ(m.mta, Mta::automatic);
  EXPECT_EQ(m.syslog_ident, "tlsgate");
  EXPECT_EQ(m.accounting_file, "");
  EXPECT_EQ(m.pid_file, "");
}

TEST(MilterSettings, Parsed) {
  const auto policy = load(
      "[milter]\n"
      "socket = unix:/run/tlsgate/tlsgate.sock\n"
      "socket_mode = 0600\n"
      "user = tlsgate\n"
      "group = postfix\n"
      "mode = monitor\n"
      "syslog_facility = LOCAL3\n"
      "syslog_ident = tlsgate-mx1\n"
      "accounting_file = accounting.csv\n"
      "pid_file = /run/tlsgate.pid\n",
      "/etc/tlsgate");
  const MilterSettings& m = policy->milter();
  EXPECT_EQ(m.socket, "unix:/run/tlsgate/tlsgate.sock");
  EXPECT_EQ(m.socket_mode, 0600u);
  EXPECT_EQ(m.user, "tlsgate");
  EXPECT_EQ(m.group, "postfix");
  EXPECT_EQ(m.mode, Mode::monitor);
  // Issue 15: -n took LOCAL3 (any case) and the daemon then logged to mail. The
  // schema reads the value once, into what the logger uses.
  EXPECT_EQ(m.syslog_facility, Facility::local3);
  EXPECT_EQ(m.syslog_ident, "tlsgate-mx1");
  EXPECT_EQ(m.accounting_file, "/etc/tlsgate/accounting.csv");  // relative to the config
  EXPECT_EQ(m.pid_file, "/run/tlsgate.pid");
}

TEST(MilterSettings, SocketForms) {
  for (const char* socket :
       {"inet:8891@127.0.0.1", "inet:1@localhost", "inet:65535", "inet6:8891@::1",
        "unix:/var/run/tlsgate.sock", "local:/var/run/tlsgate.sock"}) {
    const auto policy = load(std::string("[milter]\nsocket = ") + socket + "\n");
    EXPECT_EQ(policy->milter().socket, socket);
  }
}

TEST(MilterSettings, AbsolutePathsKept) {
  const auto policy = load(
      "[milter]\naccounting_file = /var/log/tlsgate.csv\npid_file = /run/tlsgate/tlsgate.pid\n",
      "/etc/tlsgate");
  EXPECT_EQ(policy->milter().accounting_file, "/var/log/tlsgate.csv");
  EXPECT_EQ(policy->milter().pid_file, "/run/tlsgate/tlsgate.pid");
}

TEST(MilterSettings, RelativePathsAreRelativeToTheConfigFilesDirectory) {
  // One rule for pid_file, accounting_file and networks_file alike.
  const auto policy =
      load("[milter]\naccounting_file = log/accounting.csv\npid_file = ../run/tlsgate.pid\n",
           "/etc/tlsgate");
  EXPECT_EQ(policy->milter().accounting_file, "/etc/tlsgate/log/accounting.csv");
  EXPECT_EQ(policy->milter().pid_file, "/etc/tlsgate/../run/tlsgate.pid");
}

TEST(Inheritance, NestedNetblocksOfOneSection) {
  // A section's netblock inside another of its own netblocks inherits nothing new: the
  // chain names the section once.
  const auto policy = load(
      "[source a]\nnetworks = 10.0.0.0/8, 10.1.0.0/16, 10.1.2.0/24\nrequire_starttls = yes\n"
      "[source b]\nnetworks = 10.1.2.128/25\n");
  EXPECT_EQ(policy->rule_for(addr("10.1.2.3")).chain, (std::vector<std::string>{"a", "default"}));
  EXPECT_EQ(policy->rule_for(addr("10.9.9.9")).chain, (std::vector<std::string>{"a", "default"}));
  EXPECT_EQ(policy->rule_for(addr("10.1.2.200")).chain,
            (std::vector<std::string>{"b", "a", "default"}));
  EXPECT_TRUE(policy->rule_for(addr("10.1.2.200")).require_starttls);
}

TEST(PolicyCounts, SourcesAndNetblocks) {
  const auto policy = load(kNested);
  EXPECT_EQ(policy->source_count(), 5u);    // default, corp, lab, inner, v6
  EXPECT_EQ(policy->netblock_count(), 6u);  // 10/8, 10.1/16, 172.16/12, 10.1.7/24, two v6
}

}  // namespace
}  // namespace tlsgate::policy

namespace tlsgate::policy {
namespace {

// Issue 20: [milter] mode = monitor does not reach a source that inherits enforce
// from [source default]; -n, started: and reloaded say which sources monitor.
TEST(PolicySummary, NamesTheSourcesInMonitorModeAsInherited) {
  struct Case {
    std::string text, summary;
  };
  for (const Case& c : std::vector<Case>{
           {"[source a]\nnetworks = 10.0.0.0/8\n", "1 source, 1 netblock; monitor: none"},
           {"[milter]\nmode = monitor\n[source a]\nnetworks = 10.0.0.0/8\n",
            "1 source, 1 netblock; monitor: all"},
           {"[milter]\nmode = monitor\n[source default]\nmode = enforce\n[source a]\n"
            "networks = 10.0.0.0/8\n[source b]\nnetworks = 10.1.0.0/16\nmode = monitor\n",
            "3 sources, 2 netblocks; monitor: b"},
           // b nested in a (monitor) and in c (enforce): monitor for one of its rules.
           {"[source a]\nnetworks = 10.0.0.0/8\nmode = monitor\n[source c]\n"
            "networks = 192.0.2.0/24\n[source b]\nnetworks = 10.1.0.0/16, 192.0.2.0/28\n",
            "3 sources, 4 netblocks; monitor: a, b (partly)"},
       }) {
    const auto loaded = load_policy_text(c.text, "t.ini", "");
    ASSERT_NE(loaded.policy, nullptr) << c.text;
    EXPECT_EQ(loaded.policy->summary(), c.summary) << c.text;
  }
}

}  // namespace
}  // namespace tlsgate::policy
