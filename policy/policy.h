// An immutable, loaded policy: the netblock table and the merged rule of each source;
// the rule of each [partner NAME] and the domain indexes that find them.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "policy/address.h"
#include "policy/domain.h"
#include "policy/domain_index.h"
#include "policy/netblock_table.h"
#include "policy/prefix.h"
#include "policy/rule.h"

namespace tlsgate::policy {

// The [milter] section. As for Rule, the schema table gives each field its
// built-in value (built_in_milter_settings()).
struct MilterSettings {
  std::string socket;         // the milter's; "none": no milter
  std::string policy_socket;  // the policy service's; empty or "none": off
  unsigned socket_mode{};
  std::string user;
  std::string group;
  Mode mode{};
  Mta mta{};
  Facility syslog_facility{};
  std::string syslog_ident;
  std::string accounting_file;  // absolute, or relative to the working directory; empty: off
  std::string pid_file;         // likewise
  std::string metrics_file;     // likewise; empty: no metrics written
  unsigned metrics_interval{};  // seconds between two writes of metrics_file
};

// A netblock as the file wrote it, kept only for --explain.
struct NetblockOrigin {
  Prefix prefix;
  std::string section;
};

// The partners an envelope sender brings in, each list in file order.
struct SenderPartners {
  // sender_domains match, no recipient_domains: they apply to the whole
  // transaction, from MAIL on.
  std::vector<const Rule*> for_transaction;
  // sender_domains match and recipient_domains are set too: each applies to the
  // recipients whose domain it also matches, at their RCPT.
  std::vector<const Rule*> for_recipients;
};

class Policy {
 public:
  // Only the loader makes policies (a passkey keeps make_shared usable).
  class Key {
    friend class PolicyBuilder;
    Key() = default;
  };
  explicit Policy(Key) {}

  // The rule governing a client; an unknown client (nullopt) gets [source default].
  const Rule& rule_for(const std::optional<Address>& client) const noexcept {
    if (!client) return rules_.front();
    const std::uint32_t r = table_.lookup(*client);
    return rules_[r == NetblockTable::kNone ? 0 : r];
  }
  const Rule& default_rule() const { return rules_.front(); }

  // The partners whose sender_domains match the envelope sender's domain. The null
  // sender, a sender without a domain and one whose domain does not parse match none.
  SenderPartners partners_for_sender(const EnvelopeDomain& sender) const;
  // The partners that apply to one recipient, in file order: those whose
  // recipient_domains match its domain and that have no sender_domains, and those
  // of sender.for_recipients that match it.
  std::vector<const Rule*> partners_for_recipient(const EnvelopeDomain& recipient,
                                                  const SenderPartners& sender) const;
  const std::vector<Rule>& partners() const { return partners_; }  // file order
  // Whether any partner keys on recipients: the milter needs RCPT only then.
  bool has_recipient_partners() const { return recipient_index_.domain_count() > 0; }
  const DomainIndex& sender_index() const { return sender_index_; }
  const DomainIndex& recipient_index() const { return recipient_index_; }
  const MilterSettings& milter() const { return milter_; }

  std::size_t source_count() const { return source_count_; }
  // Every source's name, sorted (the metrics' bounded set of source labels).
  std::vector<std::string> source_names() const;
  // "5 sources, 7 netblocks; monitor: legacy": the counts and the sources in
  // monitor mode as they are in force (a source's own mode, else the one it
  // inherits, else [milter] mode), "none" or "all" where that says it. With
  // partners: "5 sources, 7 netblocks, 1 partner; monitor: legacy, partner bank".
  // For -n, the started: line and the reloaded line.
  std::string summary() const;
  std::size_t netblock_count() const { return netblock_count_; }
  const NetblockTable& table() const { return table_; }

  // The most specific listed netblock containing `a`, if the policy was loaded
  // with its netblocks kept (the --explain path).
  std::optional<NetblockOrigin> matched_netblock(const Address& a) const;
  // Every listed netblock in the order read; empty unless kept (as above).
  const std::vector<NetblockOrigin>& netblocks() const { return netblocks_; }

 private:
  friend class PolicyBuilder;

  NetblockTable table_;
  std::vector<Rule> rules_;  // [0] is the default rule; the table's values index this
  MilterSettings milter_;
  std::size_t source_count_ = 0;
  std::size_t netblock_count_ = 0;
  std::vector<NetblockOrigin> netblocks_;
  std::vector<Rule> partners_;  // file order; the indexes' values index this
  DomainIndex sender_index_;
  DomainIndex recipient_index_;
};

}  // namespace tlsgate::policy
