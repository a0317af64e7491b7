// An immutable, loaded policy: the netblock table and the merged rule of each source.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "policy/address.h"
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
  const MilterSettings& milter() const { return milter_; }

  std::size_t source_count() const { return source_count_; }
  // Every source's name, sorted (the metrics' bounded set of source labels).
  std::vector<std::string> source_names() const;
  // "5 sources, 7 netblocks; monitor: legacy": the counts and the sources in
  // monitor mode as they are in force (a source's own mode, else the one it
  // inherits, else [milter] mode), "none" or "all" where that says it. For -n, the
  // started: line and the reloaded line.
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
};

}  // namespace tlsgate::policy
