// The network a client is in, for grouping clients: its /24 (IPv4) or /48 (IPv6),
// "unknown" when the MTA did not know the client's address.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "policy/address.h"

namespace tlsgate::report {

inline constexpr unsigned kClientNetworkV4 = 24;
inline constexpr unsigned kClientNetworkV6 = 48;

std::string client_network(const std::optional<policy::Address>& client);

// The same network as one number (two clients in one network, and only they, get
// the same): for counting distinct networks without their texts.
std::uint64_t client_network_key(const std::optional<policy::Address>& client);

}  // namespace tlsgate::report
