// Milter socket specs: what [milter] socket and -p accept (libmilter's syntax, made
// stricter), before the daemon or `tlsgate -n` asks the system about the host.
#include "policy/socket_spec.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace tlsgate::policy {
namespace {

using Kind = SocketSpec::Kind;

SocketSpec good(const std::string& text) {
  auto parsed = parse_socket_spec(text);
  if (const auto* problem = std::get_if<std::string>(&parsed)) {
    ADD_FAILURE() << text << ": " << *problem;
    return {};
  }
  return std::get<SocketSpec>(parsed);
}

std::string problem(const std::string& text) {
  const auto parsed = parse_socket_spec(text);
  if (const auto* p = std::get_if<std::string>(&parsed)) return *p;
  return "(accepted)";
}

TEST(SocketSpec, Forms) {
  SocketSpec s = good("inet:8891@127.0.0.1");
  EXPECT_EQ(s.kind, Kind::inet);
  EXPECT_EQ(s.port, 8891);
  EXPECT_EQ(s.host, "127.0.0.1");
  EXPECT_FALSE(s.bracketed);

  s = good("inet:25");
  EXPECT_EQ(s.port, 25);
  EXPECT_EQ(s.host, "") << "no @: every address";

  s = good("inet:65535@mx.example.com");
  EXPECT_EQ(s.port, 65535);
  EXPECT_EQ(s.host, "mx.example.com") << "a name: resolved by the daemon, not here";

  s = good("inet6:8891@[::1]");
  EXPECT_EQ(s.kind, Kind::inet6);
  EXPECT_EQ(s.host, "::1");
  EXPECT_TRUE(s.bracketed);

  s = good("inet:8891@[192.0.2.1]");
  EXPECT_EQ(s.host, "192.0.2.1");
  EXPECT_TRUE(s.bracketed);

  s = good("inet6:8891@::1");
  EXPECT_EQ(s.host, "::1");
  EXPECT_FALSE(s.bracketed);

  for (const char* unix : {"unix:/run/tlsgate/tlsgate.sock", "local:/run/tlsgate/tlsgate.sock"}) {
    s = good(unix);
    EXPECT_EQ(s.kind, Kind::unix_path) << unix;
    EXPECT_EQ(s.path, "/run/tlsgate/tlsgate.sock") << unix;
  }
  EXPECT_EQ(good("unix:/" + std::string(kMaxUnixSocketPath - 1, 's')).path.size(),
            kMaxUnixSocketPath);
}

TEST(SocketSpec, WhatIsRefused) {
  const std::string expected = "expected inet:PORT@ADDR, inet6:PORT@ADDR or unix:PATH";
  // libmilter takes a bare word as a unix socket in the current directory.
  EXPECT_EQ(problem("foo"), expected);
  EXPECT_EQ(problem(""), expected);
  EXPECT_EQ(problem(":/run/x.sock"), expected) << "libmilter: an empty kind is unix";
  EXPECT_EQ(problem("INET:8891"), expected) << "libmilter takes any case; tlsgate documents one";
  EXPECT_EQ(problem("tcp:25"), expected);
  EXPECT_EQ(problem("unix:tlsgate.sock"), "a unix socket needs an absolute path");
  EXPECT_EQ(problem("unix:"), "a unix socket needs an absolute path");
  EXPECT_EQ(problem("unix:/" + std::string(kMaxUnixSocketPath, 's')),
            "a unix socket path is at most 107 bytes");
  for (const char* port : {"inet:0", "inet:65536", "inet:smtp@127.0.0.1", "inet:@127.0.0.1",
                           "inet:-1", "inet:88x91", "inet6:"}) {
    EXPECT_EQ(problem(port), "port must be a number from 1 to 65535") << port;
  }
  EXPECT_EQ(problem("inet:8891@"), "no address after '@'");
  EXPECT_EQ(problem("inet:8891@[127.0.0.1"), "'[' without its ']'");
  EXPECT_EQ(problem("inet:8891@[::1]"), "[::1] is not an IPv4 address");
  EXPECT_EQ(problem("inet6:8891@[127.0.0.1]"), "[127.0.0.1] is not an IPv6 address");
  EXPECT_EQ(problem("inet:8891@[mx.example.com]"), "[mx.example.com] is not an IPv4 address");
  EXPECT_EQ(problem("inet:8891@[]"), "[] is not an IPv4 address");
}

TEST(SocketSpec, MappedAddressIsAnIPv6AddressForInet6) {
  EXPECT_EQ(good("inet6:8891@[::ffff:127.0.0.1]").host, "::ffff:127.0.0.1");
  EXPECT_EQ(problem("inet:8891@[::ffff:127.0.0.1]"), "[::ffff:127.0.0.1] is not an IPv4 address");
}

}  // namespace
}  // namespace tlsgate::policy
