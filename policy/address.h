// A client IP address as bytes, IPv4-mapped IPv6 normalised to IPv4.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr;

namespace tlsgate::policy {

enum class Family : std::uint8_t { v4, v6 };

struct Address {
  Family family = Family::v4;
  // Network byte order; IPv4 uses the first 4 bytes, the rest stay zero.
  std::array<std::uint8_t, 16> bytes{};

  // inet_pton on the text; "::ffff:a.b.c.d" becomes IPv4. Nothing else is accepted
  // (no brackets, no zone id, no "IPv6:" tag).
  static std::optional<Address> parse(std::string_view text);
  // From a socket address as libmilter hands it over; nullopt for NULL or a
  // family other than AF_INET/AF_INET6 (e.g. a unix socket).
  static std::optional<Address> from_sockaddr(const struct sockaddr* sa);
  // From an MTA's {client_addr} macro: parse(), after Sendmail's "IPv6:" tag on an
  // IPv6 address. Anything else ("unknown", a name, garbage) is nullopt: an unknown
  // client, never a loopback one.
  static std::optional<Address> from_macro(std::string_view text);

  unsigned bit_width() const { return family == Family::v4 ? 32 : 128; }
  std::string to_string() const;

  friend bool operator==(const Address&, const Address&) = default;
};

}  // namespace tlsgate::policy
