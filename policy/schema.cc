#include "policy/schema.h"

#include <strings.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "policy/socket_spec.h"
#include "policy/tls.h"

namespace tlsgate::policy {
namespace {

using enum Scope;
using enum ValueType;

constexpr std::array kKeys{
    KeySpec{milter, "socket", socket, "inet:8891@127.0.0.1",
            "where the MTA connects: inet:PORT@ADDR, inet6:PORT@ADDR or unix:PATH"},
    KeySpec{milter, "socket_mode", file_mode, "0660", "permissions of a unix socket"},
    KeySpec{milter, "user", text, "", "user to run as after binding the socket"},
    KeySpec{milter, "group", text, "", "group to run as, and group of a unix socket"},
    KeySpec{milter, "mode", ValueType::mode, "enforce",
            "enforce, or monitor (log would-reject, accept); the default for every source"},
    KeySpec{milter, "mta", ValueType::mta, "auto",
            "the MTA that calls tlsgate: auto (recognised per session), postfix or sendmail"},
    KeySpec{milter, "syslog_facility", facility, "mail", "syslog facility"},
    KeySpec{milter, "syslog_ident", text, "tlsgate", "syslog identity"},
    KeySpec{milter, "accounting_file", path, "", "CSV file with one row per decision"},
    KeySpec{milter, "pid_file", path, "", "file to write the daemon's process id to"},

    KeySpec{source, "networks", cidr_list, "", "client netblocks this section governs"},
    KeySpec{source, "networks_file", path, "", "more netblocks, one a line, # comments"},
    KeySpec{source, "require_starttls", boolean, "no", "mail only over TLS"},
    KeySpec{source, "require_starttls_before_auth", boolean, "yes",
            "AUTH only after STARTTLS, whatever the mechanism"},
    KeySpec{source, "allow_unencrypted_plain_auth", boolean, "no",
            "PLAIN/LOGIN AUTH allowed without TLS"},
    KeySpec{source, "min_tls_version", tls_version, "",
            "lowest TLS version accepted when TLS is used"},
    KeySpec{source, "min_cipher_bits", count, "0", "lowest symmetric key size accepted"},
    KeySpec{source, "ciphers", cipher_list, "",
            "accepted TLS <= 1.2 ciphers (OpenSSL cipher list)"},
    KeySpec{source, "tls13_ciphersuites", ciphersuites, "",
            "accepted TLS 1.3 suites (OpenSSL ciphersuites)"},
    KeySpec{source, "require_client_cert", boolean, "no",
            "a client certificate the MTA verified is required"},
    KeySpec{source, "client_cert_issuer", text, "",
            "with require_client_cert: the issuer the certificate must have"},
    KeySpec{source, "client_cert_subject", text, "",
            "with require_client_cert: the subject the certificate must have"},
    KeySpec{source, "action", ValueType::action, "reject",
            "reject (5xx) or tempfail (4xx) a refused session"},
    KeySpec{source, "mode", ValueType::mode, "", "enforce or monitor; default: [milter] mode"},
};

constexpr std::array<std::string_view, 8> kTrue{"yes", "true", "on", "1"};
constexpr std::array<std::string_view, 8> kFalse{"no", "false", "off", "0"};
constexpr std::array<std::string_view, 12> kFacilities{"mail",   "daemon", "user",   "local0",
                                                       "local1", "local2", "local3", "local4",
                                                       "local5", "local6", "local7", "auth"};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& words, std::string_view value) {
  return std::any_of(words.begin(), words.end(),
                     [&](std::string_view w) { return !w.empty() && iequals(w, value); });
}

std::optional<unsigned> parse_unsigned(std::string_view text, int base = 10) {
  unsigned v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v, base);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

}  // namespace

std::span<const KeySpec> all_keys() { return kKeys; }

const KeySpec* find_key(Scope scope, std::string_view name) {
  for (const KeySpec& k : kKeys) {
    if (k.scope == scope && k.name == name) return &k;
  }
  return nullptr;
}

bool parse_bool(std::string_view value) { return one_of(kTrue, value); }

unsigned parse_count(std::string_view value) { return parse_unsigned(value).value_or(0); }

std::optional<std::string> check_value(const KeySpec& key, std::string_view value) {
  const std::string quoted = "\"" + std::string(value) + "\"";
  switch (key.type) {
    case boolean:
      if (one_of(kTrue, value) || one_of(kFalse, value)) return std::nullopt;
      return quoted + " is not a boolean (yes or no)";
    case count: {
      const auto n = parse_unsigned(value);
      if (n && value.size() <= 9) return std::nullopt;
      return quoted + " is not a whole number";
    }
    case tls_version:
      if (parse_tls_version(value)) return std::nullopt;
      return quoted + " is not one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3";
    case action:
      if (value == "reject" || value == "tempfail") return std::nullopt;
      return quoted + " is not reject or tempfail";
    case mode:
      if (value == "enforce" || value == "monitor") return std::nullopt;
      return quoted + " is not enforce or monitor";
    case ValueType::mta:
      if (value == "auto" || value == "postfix" || value == "sendmail") return std::nullopt;
      return quoted + " is not auto, postfix or sendmail";
    case facility:
      if (one_of(kFacilities, value)) return std::nullopt;
      return quoted + " is not a syslog facility (mail, daemon, user, auth, local0-local7)";
    case file_mode: {
      const auto n = parse_unsigned(value, 8);
      if (n && *n <= 0777) return std::nullopt;
      return quoted + " is not an octal file mode such as 0660";
    }
    case socket: {
      const auto parsed = parse_socket_spec(value);
      if (const auto* err = std::get_if<std::string>(&parsed)) return quoted + ": " + *err;
      return std::nullopt;
    }
    case path:
    case text:
    case cidr_list:
    case cipher_list:
    case ciphersuites:
      if (value.empty()) return "empty value";
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace tlsgate::policy
