// The configuration schema: every section key, its type, default and help, in one place.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tlsgate::policy {

enum class Scope { milter, source };

enum class ValueType {
  boolean,       // yes/no, true/false, on/off, 1/0
  count,         // a non-negative decimal integer
  cidr_list,     // CIDRs separated by commas and/or spaces
  path,          // a file name
  tls_version,   // TLSv1, TLSv1.1, TLSv1.2, TLSv1.3
  cipher_list,   // OpenSSL cipher list (TLS <= 1.2)
  ciphersuites,  // OpenSSL TLS 1.3 ciphersuites
  text,          // free text
  action,        // reject / tempfail
  mode,          // enforce / monitor
  socket,        // inet:PORT@ADDR, inet6:PORT@ADDR, unix:PATH (local:PATH)
  file_mode,     // octal, e.g. 0660
  facility,      // syslog facility name
  mta,           // auto, postfix, sendmail
};

struct KeySpec {
  Scope scope;
  std::string_view name;
  ValueType type;
  std::string_view default_value;  // as written in the file; empty: none
  std::string_view help;
};

std::span<const KeySpec> all_keys();
const KeySpec* find_key(Scope scope, std::string_view name);

// Checks `value` against the key's type; nullopt if it is valid, else what is
// wrong with it. (cipher lists are checked by expanding them, elsewhere.)
std::optional<std::string> check_value(const KeySpec& key, std::string_view value);

// Typed readers for values that check_value accepted.
bool parse_bool(std::string_view value);
unsigned parse_count(std::string_view value);

}  // namespace tlsgate::policy
