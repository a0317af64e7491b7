#include "policy/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace tlsgate::policy {
namespace {

constexpr std::array<std::uint8_t, 12> kMappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

Address from_v6_bytes(const std::uint8_t* b) {
  Address a;
  if (std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), b)) {
    a.family = Family::v4;
    std::copy(b + 12, b + 16, a.bytes.begin());
  } else {
    a.family = Family::v6;
    std::copy(b, b + 16, a.bytes.begin());
  }
  return a;
}

// inet_pton(AF_INET) without the copy to a C string, for the common case: the same
// rules (four decimal octets 0-255, no leading zeros, nothing else), false for any
// other text.
bool parse_dotted_quad(std::string_view text, std::uint8_t* out) {
  unsigned octets = 0;
  unsigned value = 0;
  bool saw_digit = false;
  for (const char c : text) {
    if (c >= '0' && c <= '9') {
      if (saw_digit && value == 0) return false;  // a leading zero
      value = value * 10 + static_cast<unsigned>(c - '0');
      if (value > 255) return false;
      if (!saw_digit) {
        if (++octets > 4) return false;
        saw_digit = true;
      }
    } else if (c == '.' && saw_digit) {
      if (octets == 4) return false;
      out[octets - 1] = static_cast<std::uint8_t>(value);
      value = 0;
      saw_digit = false;
    } else {
      return false;
    }
  }
  if (octets < 4) return false;
  out[3] = static_cast<std::uint8_t>(value);
  return true;
}

}  // namespace

std::optional<Address> Address::parse(std::string_view text) {
  if (Address a; parse_dotted_quad(text, a.bytes.data())) return a;
  // inet_pton wants a NUL-terminated string; anything longer than the longest
  // textual address cannot be one.
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  if (text.find('\0') != std::string_view::npos) return std::nullopt;

  std::uint8_t raw[16];
  if (inet_pton(AF_INET, buf, raw) == 1) {
    Address a;
    std::copy(raw, raw + 4, a.bytes.begin());
    return a;
  }
  if (inet_pton(AF_INET6, buf, raw) == 1) return from_v6_bytes(raw);
  return std::nullopt;
}

std::optional<Address> Address::from_macro(std::string_view text) {
  constexpr std::string_view kSendmailV6 = "IPv6:";
  if (text.starts_with(kSendmailV6)) {
    text.remove_prefix(kSendmailV6.size());
    const auto a = parse(text);
    // The tag promises IPv6: "IPv6:192.0.2.1" is not an address Sendmail writes.
    if (!a || text.find(':') == std::string_view::npos) return std::nullopt;
    return a;
  }
  return parse(text);
}

std::optional<Address> Address::from_sockaddr(const struct sockaddr* sa) {
  if (sa == nullptr) return std::nullopt;
  if (sa->sa_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, sa, sizeof in);
    Address a;
    std::memcpy(a.bytes.data(), &in.sin_addr, 4);
    return a;
  }
  if (sa->sa_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, sa, sizeof in6);
    return from_v6_bytes(in6.sin6_addr.s6_addr);
  }
  return std::nullopt;
}

std::string Address::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  const int af = family == Family::v4 ? AF_INET : AF_INET6;
  if (inet_ntop(af, bytes.data(), buf, sizeof buf) == nullptr) return "?";
  return buf;
}

}  // namespace tlsgate::policy
