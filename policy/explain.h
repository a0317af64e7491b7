// The text of `tlsgate --explain`: which source governs a client, the merged rules
// with the origin of each value, and the decision for the given session facts; with
// an envelope, every partner that applies and the decision at MAIL and for each
// recipient.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policy/address.h"
#include "policy/facts.h"
#include "policy/policy.h"

namespace tlsgate::policy {

// MAIL FROM's and RCPT TO's addresses, as an MTA would pass them.
struct ExplainEnvelope {
  std::optional<std::string> sender;
  std::vector<std::string> recipients;
};

// The first line is exactly "source=NAME". Without an envelope, nothing about
// partners is printed (none applies).
std::string explain(const Policy& policy, const std::optional<Address>& client,
                    const SessionFacts& facts, const ExplainEnvelope& envelope = {});

}  // namespace tlsgate::policy
