// A milter socket as libmilter's smfi_setconn takes it: inet:PORT@HOST,
// inet6:PORT@HOST or unix:PATH (local:PATH), parsed without touching the system.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace tlsgate::policy {

struct SocketSpec {
  enum class Kind { unix_path, inet, inet6 };
  Kind kind = Kind::inet;
  std::string path;  // unix: the absolute path
  std::uint16_t port = 0;
  std::string host;        // inet/inet6: as written after '@' ("[...]" stripped); empty: any
  bool bracketed = false;  // "@[ADDR]": libmilter takes it as a numeric address only
};

// A socket setting that turns that front end off ([milter] socket = none: the
// policy service alone).
inline constexpr std::string_view kNoSocket = "none";

// The longest unix socket path libmilter takes (its sun_path holds the NUL too).
inline constexpr std::size_t kMaxUnixSocketPath = 107;

// The socket, or what is wrong with it. Stricter than libmilter, which also takes
// a bare path ("foo": a unix socket ./foo), a relative path, a service name for the
// port, and the kinds in any case: each of those is refused here.
std::variant<SocketSpec, std::string> parse_socket_spec(std::string_view text);

}  // namespace tlsgate::policy
