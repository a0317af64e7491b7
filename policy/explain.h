// The text of `tlsgate --explain`: which source governs a client, the merged rules
// with the origin of each value, and the decision for the given session facts.
#pragma once

#include <optional>
#include <string>

#include "policy/address.h"
#include "policy/facts.h"
#include "policy/policy.h"

namespace tlsgate::policy {

// The first line is exactly "source=NAME".
std::string explain(const Policy& policy, const std::optional<Address>& client,
                    const SessionFacts& facts);

}  // namespace tlsgate::policy
