#include "report/sender_domains.h"

#include <algorithm>

#include "report/client_network.h"
#include "report/field_value.h"
#include "report/ranking.h"
#include "report/vector_index.h"

namespace tlsgate::report {

std::uint32_t SenderDomainCounts::network_of(const std::optional<policy::Address>& client) {
  // Asked once per distinct client: a plain map is enough.
  const auto [it, added] = networks_.try_emplace(client_network_key(client),
                                                 static_cast<std::uint32_t>(networks_.size()));
  return it->second;
}

void SenderDomainCounts::count_message(std::string_view domain, std::uint64_t hash,
                                       std::uint32_t tls, bool secure, std::uint32_t network) {
  bool added = false;
  const std::uint32_t id = domains_.intern(domain, hash, &added);
  if (added) tallies_.emplace_back();
  Tally& t = tallies_[id];
  ++t.messages;
  if (tls < kKnownTls) {
    ++t.known_tls[tls];
  } else {
    ++grow_to(t.other_tls, tls - kKnownTls);
  }
  if (secure) ++t.tls;
  if (t.last_network == network) return;
  t.last_network = network;
  if (pairs_.insert(id, network)) ++t.networks;
}

std::vector<SenderDomainSummary> SenderDomainCounts::summarize(const StringTable& tls_texts,
                                                               std::size_t top) const {
  std::vector<std::uint32_t> order(tallies_.size());
  for (std::uint32_t id = 0; id < order.size(); ++id) order[id] = id;
  const auto by_messages = [&](std::uint32_t a, std::uint32_t b) {
    if (tallies_[a].messages != tallies_[b].messages) {
      return tallies_[a].messages > tallies_[b].messages;
    }
    return domains_.text(a) < domains_.text(b);
  };
  const std::size_t shown = std::min(top, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(shown), order.end(),
                    by_messages);
  std::vector<SenderDomainSummary> out;
  for (std::size_t i = 0; i < shown; ++i) {
    const Tally& t = tallies_[order[i]];
    std::vector<std::uint64_t> by_tls(t.known_tls.begin(), t.known_tls.end());
    by_tls.insert(by_tls.end(), t.other_tls.begin(), t.other_tls.end());
    out.push_back({displayable(domains_.text(order[i])), t.messages, t.tls,
                   versions_in_order(by_tls, tls_texts), t.networks});
  }
  return out;
}

}  // namespace tlsgate::report
