// Accepted messages per envelope sender domain (the sender_domain column): how many,
// over which TLS versions, from how many client networks (a client's /24 for IPv4,
// /48 for IPv6: client_network.h). What tells an administrator which senders could
// get a [partner] rule today: all of their mail over TLS, from a few networks.
// Memory grows with distinct domains and (domain, network) pairs, not with rows.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "policy/address.h"
#include "report/id_pair_set.h"
#include "report/string_table.h"
#include "report/summary.h"

namespace tlsgate::report {

class SenderDomainCounts {
 public:
  static constexpr std::uint32_t kNone = 0xffffffff;

  // The number of a client's network; a caller asks once per distinct client.
  std::uint32_t network_of(const std::optional<policy::Address>& client);

  // An accepted message from `domain` (non-empty; `hash`: its hash_bytes); `tls`:
  // the aggregator's TLS text number; `network`: from network_of.
  void count_message(std::string_view domain, std::uint64_t hash, std::uint32_t tls, bool secure,
                     std::uint32_t network);
  // What count_message will read, fetched a few rows ahead: the domain's slot, then
  // (once that has arrived) its pair with the network.
  void prefetch_domain(std::uint64_t hash) const { domains_.prefetch(hash); }
  void prefetch_pair(std::string_view domain, std::uint64_t hash, std::uint32_t network) const {
    if (const auto id = domains_.find(domain, hash)) {
      __builtin_prefetch(&tallies_[*id]);
      pairs_.prefetch(*id, network);
    }
  }

  std::size_t domains() const { return tallies_.size(); }
  // The top N domains by messages, ties by name.
  std::vector<SenderDomainSummary> summarize(const StringTable& tls_texts, std::size_t top) const;

 private:
  // The aggregator's TLS text numbers 0-4 are the known versions and "none":
  // counted in place (a row touches the tally's own cache line), others beside.
  static constexpr std::size_t kKnownTls = 5;
  struct Tally {
    std::uint64_t messages = 0;
    std::uint64_t tls = 0;
    std::uint64_t networks = 0;
    std::uint32_t last_network = kNone;  // most messages come from the last one's network
    std::array<std::uint64_t, kKnownTls> known_tls{};
    std::vector<std::uint64_t> other_tls;  // by TLS text number - kKnownTls
  };

  StringTable domains_;
  std::vector<Tally> tallies_;                                 // by domain number
  std::unordered_map<std::uint64_t, std::uint32_t> networks_;  // client_network_key: its number
  IdPairSet pairs_;                                            // (domain, network)
};

}  // namespace tlsgate::report
