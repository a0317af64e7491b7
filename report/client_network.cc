#include "report/client_network.h"

#include "policy/prefix.h"

namespace tlsgate::report {

std::string client_network(const std::optional<policy::Address>& client) {
  if (!client) return "unknown";
  const unsigned length =
      client->family == policy::Family::v4 ? kClientNetworkV4 : kClientNetworkV6;
  return policy::Prefix{policy::mask_address(*client, length), static_cast<std::uint8_t>(length)}
      .to_string();
}

std::uint64_t client_network_key(const std::optional<policy::Address>& client) {
  // The network's leading bytes (3 of IPv4, 6 of IPv6), a byte for the family
  // (1: IPv4, 2: IPv6) above them; 0 is "unknown".
  if (!client) return 0;
  const bool v4 = client->family == policy::Family::v4;
  const unsigned bytes = (v4 ? kClientNetworkV4 : kClientNetworkV6) / 8;
  std::uint64_t key = v4 ? 1 : 2;
  for (unsigned i = 0; i < bytes; ++i) key = key << 8 | client->bytes[i];
  return key;
}

}  // namespace tlsgate::report
