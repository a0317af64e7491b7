#include "policy/socket_spec.h"

#include <charconv>

#include "policy/address.h"

namespace tlsgate::policy {
namespace {

constexpr std::string_view kExpected = "expected inet:PORT@ADDR, inet6:PORT@ADDR or unix:PATH";

std::variant<SocketSpec, std::string> parse_unix(std::string_view path) {
  if (path.empty() || path.front() != '/')
    return std::string("a unix socket needs an absolute path");
  if (path.size() > kMaxUnixSocketPath) {
    return "a unix socket path is at most " + std::to_string(kMaxUnixSocketPath) + " bytes";
  }
  SocketSpec s;
  s.kind = SocketSpec::Kind::unix_path;
  s.path = path;
  return s;
}

std::variant<SocketSpec, std::string> parse_inet(SocketSpec::Kind kind, std::string_view rest) {
  SocketSpec s;
  s.kind = kind;
  const auto at = rest.find('@');
  const std::string_view port = rest.substr(0, at);
  unsigned n = 0;
  const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || n == 0 ||
      n > 65535) {
    return std::string("port must be a number from 1 to 65535");
  }
  s.port = static_cast<std::uint16_t>(n);
  if (at == std::string_view::npos) return s;  // every address
  std::string_view host = rest.substr(at + 1);
  if (host.empty()) return std::string("no address after '@'");
  if (host.front() == '[') {
    if (host.size() < 2 || host.back() != ']') return std::string("'[' without its ']'");
    host = host.substr(1, host.size() - 2);
    // An IPv6 address has colons (::ffff:a.b.c.d too, which Address::parse makes IPv4).
    const bool v6 = kind == SocketSpec::Kind::inet6;
    if (!Address::parse(host) || (host.find(':') != std::string_view::npos) != v6) {
      return "[" + std::string(host) + "] is not an " + (v6 ? "IPv6" : "IPv4") + " address";
    }
    s.bracketed = true;
  }
  s.host = host;
  return s;
}

}  // namespace

std::variant<SocketSpec, std::string> parse_socket_spec(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::string(kExpected);
  const std::string_view kind = text.substr(0, colon);
  const std::string_view rest = text.substr(colon + 1);
  if (kind == "unix" || kind == "local") return parse_unix(rest);
  if (kind == "inet") return parse_inet(SocketSpec::Kind::inet, rest);
  if (kind == "inet6") return parse_inet(SocketSpec::Kind::inet6, rest);
  return std::string(kExpected);
}

}  // namespace tlsgate::policy
