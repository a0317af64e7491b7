#include "policy/policy.h"

#include <map>
#include <set>

namespace tlsgate::policy {

std::string Policy::summary() const {
  // A source's mode per merged rule: one that inherits through several enclosing
  // sources may have more than one.
  std::map<std::string, std::set<Mode>> modes;
  for (const Rule& r : rules_) modes[r.source].insert(r.mode);
  std::string monitor;
  std::size_t monitored = 0;
  for (const auto& [source, set] : modes) {
    if (set.count(Mode::monitor) == 0) continue;
    ++monitored;
    monitor += (monitor.empty() ? "" : ", ") + source + (set.size() > 1 ? " (partly)" : "");
  }
  if (monitored == 0) monitor = "none";
  if (monitored == modes.size()) monitor = "all";
  return std::to_string(source_count_) + " sources, " + std::to_string(netblock_count_) +
         " netblocks; monitor: " + monitor;
}

std::vector<std::string> Policy::source_names() const {
  std::set<std::string> names;
  for (const Rule& r : rules_) names.insert(r.source);
  return {names.begin(), names.end()};
}

std::optional<NetblockOrigin> Policy::matched_netblock(const Address& a) const {
  const NetblockOrigin* best = nullptr;
  for (const NetblockOrigin& n : netblocks_) {
    if (n.prefix.contains(a) && (best == nullptr || n.prefix.length > best->prefix.length)) {
      best = &n;
    }
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

}  // namespace tlsgate::policy
