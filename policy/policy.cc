#include "policy/policy.h"

#include <algorithm>
#include <map>
#include <set>

namespace tlsgate::policy {
namespace {

// The partners (indexes, increasing) with a pattern that matches the domain.
std::vector<std::uint32_t> matching(const DomainIndex& index, const EnvelopeDomain& d) {
  std::vector<std::uint32_t> ids;
  if (!d.has_domain()) return ids;
  index.for_each_match(d.domain, [&ids](std::uint32_t p) { ids.push_back(p); });
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace

SenderPartners Policy::partners_for_sender(const EnvelopeDomain& sender) const {
  SenderPartners out;
  for (const std::uint32_t id : matching(sender_index_, sender)) {
    const Rule& p = partners_[id];
    (p.recipient_domains ? out.for_recipients : out.for_transaction).push_back(&p);
  }
  return out;
}

std::vector<const Rule*> Policy::partners_for_recipient(const EnvelopeDomain& recipient,
                                                        const SenderPartners& sender) const {
  std::vector<const Rule*> out;
  for (const std::uint32_t id : matching(recipient_index_, recipient)) {
    const Rule* p = &partners_[id];
    const auto& both = sender.for_recipients;
    if (!p->sender_domains || std::find(both.begin(), both.end(), p) != both.end()) {
      out.push_back(p);
    }
  }
  return out;
}

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
  for (const Rule& p : partners_) {
    if (p.mode != Mode::monitor) continue;
    ++monitored;
    monitor += (monitor.empty() ? "" : ", ") + ("partner " + p.partner);
  }
  if (monitored == 0) monitor = "none";
  if (monitored == modes.size() + partners_.size()) monitor = "all";
  const auto counted = [](std::size_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  std::string partners;
  if (!partners_.empty()) partners = ", " + counted(partners_.size(), "partner");
  return counted(source_count_, "source") + ", " + counted(netblock_count_, "netblock") + partners +
         "; monitor: " + monitor;
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
