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

}  // namespace tlsgate::report
