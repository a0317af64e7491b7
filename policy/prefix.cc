#include "policy/prefix.h"

#include <charconv>

namespace tlsgate::policy {

Address mask_address(const Address& a, unsigned length) {
  Address m = a;
  for (unsigned i = 0; i < m.bytes.size(); ++i) {
    const unsigned first_bit = i * 8;
    if (first_bit >= length) {
      m.bytes[i] = 0;
    } else if (length - first_bit < 8) {
      m.bytes[i] &= static_cast<std::uint8_t>(0xff00u >> (length - first_bit));
    }
  }
  return m;
}

bool Prefix::contains(const Address& a) const {
  return a.family == address.family && mask_address(a, length) == address;
}

std::string Prefix::to_string() const { return address.to_string() + "/" + std::to_string(length); }

std::variant<Prefix, std::string> parse_prefix(std::string_view text) {
  auto quoted = [text] { return std::string(text); };  // for messages only
  const auto slash = text.find('/');
  const std::string_view addr_text = text.substr(0, slash);
  const bool mapped_v6 = addr_text.find(':') != std::string_view::npos;

  const auto addr = Address::parse(addr_text);
  if (!addr) return quoted() + ": not an IPv4 or IPv6 address";

  // A mapped address was normalised to IPv4: its length counts from bit 96.
  const unsigned written_width = mapped_v6 ? 128 : 32;
  const unsigned width = addr->family == Family::v6 ? 128 : written_width;
  unsigned length = width;
  if (slash != std::string_view::npos) {
    const std::string_view len_text = text.substr(slash + 1);
    const auto* end = len_text.data() + len_text.size();
    const auto [ptr, ec] = std::from_chars(len_text.data(), end, length);
    if (len_text.empty() || ec != std::errc() || ptr != end || length > width) {
      return quoted() + ": prefix length must be a number from 0 to " + std::to_string(width);
    }
  }
  if (addr->family == Family::v4 && width == 128) {
    if (length < 96) {
      return quoted() + ": an IPv4-mapped prefix must be /96 or longer";
    }
    length -= 96;
  }

  Prefix p{mask_address(*addr, length), static_cast<std::uint8_t>(length)};
  if (p.address != *addr) {
    return quoted() + ": host bits set; perhaps " + p.to_string();
  }
  return p;
}

}  // namespace tlsgate::policy
