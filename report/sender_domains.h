// Accepted messages per envelope sender domain (the sender_domain column): how many,
// over which TLS versions, from how many client networks (a client's /24 for IPv4,
// /48 for IPv6: client_network.h). What tells an administrator which senders could
// get a [partner] rule today: all of their mail over TLS, from a few networks.
// Memory grows with distinct domains and (domain, network) pairs, not with rows.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "policy/address.h"
#include "report/string_table.h"
#include "report/summary.h"

namespace tlsgate::report {

class SenderDomainCounts {
 public:
  static constexpr std::uint32_t kNone = 0xffffffff;

  // The number of a client's network; a caller asks once per distinct client.
  std::uint32_t network_of(const std::optional<policy::Address>& client);

  // An accepted message from `domain` (non-empty); `tls`: the aggregator's TLS text
  // number; `network`: from network_of.
  void count_message(std::string_view domain, std::uint32_t tls, bool secure,
                     std::uint32_t network);

  std::size_t domains() const { return tallies_.size(); }
  // The top N domains by messages, ties by name.
  std::vector<SenderDomainSummary> summarize(const StringTable& tls_texts, std::size_t top) const;

 private:
  struct Tally {
    std::uint64_t messages = 0;
    std::uint64_t tls = 0;
    std::vector<std::uint64_t> by_tls;  // by TLS text number
    std::uint64_t networks = 0;
    std::uint32_t last_network = kNone;  // most messages come from the last one's network
  };

  StringTable domains_;
  std::vector<Tally> tallies_;  // by domain number
  StringTable networks_;
  std::unordered_set<std::uint64_t> pairs_;  // domain << 32 | network
};

}  // namespace tlsgate::report
