// A CIDR prefix such as 192.0.2.0/24 or 2001:db8::/32.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "policy/address.h"

namespace tlsgate::policy {

struct Prefix {
  Address address;  // host bits are always zero
  std::uint8_t length = 0;

  // True if `a` lies inside this prefix (same family).
  bool contains(const Address& a) const;
  std::string to_string() const;

  friend bool operator==(const Prefix&, const Prefix&) = default;
};

// "ADDR/LEN" or a bare address (a host prefix). IPv4-mapped IPv6 prefixes of
// length >= 96 become IPv4 prefixes. On error the string says what is wrong,
// e.g. "192.0.2.1/24: host bits set; perhaps 192.0.2.0/24".
std::variant<Prefix, std::string> parse_prefix(std::string_view text);

// The address with every bit after `length` cleared.
Address mask_address(const Address& a, unsigned length);

}  // namespace tlsgate::policy
