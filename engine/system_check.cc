#include "engine/system_check.h"

#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <sys/socket.h>

#include <memory>
#include <variant>

#include "policy/socket_spec.h"

namespace tlsgate::engine {
namespace {

using policy::SocketSpec;

struct FreeAddrinfo {
  void operator()(addrinfo* a) const { freeaddrinfo(a); }
};

// As libmilter resolves "@HOST": a numeric address or a name (gethostbyname). For
// inet6 it takes whatever family the name has.
std::optional<std::string> resolve(const SocketSpec& s) {
  if (s.kind == SocketSpec::Kind::unix_path || s.host.empty() || s.bracketed) return std::nullopt;
  addrinfo hints{};
  hints.ai_family = s.kind == SocketSpec::Kind::inet ? AF_INET : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(s.host.c_str(), nullptr, &hints, &found);
  const std::unique_ptr<addrinfo, FreeAddrinfo> owned(found);
  if (rc == 0) return std::nullopt;
  return s.host + " is neither an " + (s.kind == SocketSpec::Kind::inet ? "IPv4 " : "IP ") +
         "address nor a host name that resolves (" + gai_strerror(rc) + ")";
}

}  // namespace

std::optional<std::string> check_socket_here(std::string_view spec) {
  const auto parsed = policy::parse_socket_spec(spec);
  if (const auto* problem = std::get_if<std::string>(&parsed)) return *problem;
  return resolve(std::get<SocketSpec>(parsed));
}

std::optional<std::string> check_setting_here(const policy::KeySpec& key, std::string_view value) {
  const std::string v(value);
  switch (key.type) {
    case policy::ValueType::user:
      if (getpwnam(v.c_str()) == nullptr) return "unknown user " + v;
      break;
    case policy::ValueType::group:
      if (getgrnam(v.c_str()) == nullptr) return "unknown group " + v;
      break;
    case policy::ValueType::socket:
      if (value == policy::kNoSocket) break;
      if (auto problem = check_socket_here(value)) return "\"" + v + "\": " + *problem;
      break;
    default: break;
  }
  return std::nullopt;
}

}  // namespace tlsgate::engine
