// The configuration schema: every key once, with its scope, type, built-in default,
// one line of help and where its value goes (as Postfix binds each parameter to
// its variable in one table). The loader, the inheritance of unset keys, the
// defaults and --explain all read this table; a key's name is written nowhere else.
// A key that means the same in two kinds of section ([source NAME] and [partner
// NAME] share the TLS keys) is declared once, for both.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "policy/policy.h"
#include "policy/rule.h"
#include "policy/value.h"

namespace tlsgate::policy {

enum class Scope : unsigned { milter = 1, source = 2, partner = 4 };

// The kinds of section a key may be set in.
class Scopes {
 public:
  constexpr Scopes(Scope s) : bits_(static_cast<unsigned>(s)) {}  // one kind
  constexpr Scopes operator|(Scope s) const { return Scopes(bits_ | static_cast<unsigned>(s)); }
  constexpr bool has(Scope s) const { return (bits_ & static_cast<unsigned>(s)) != 0; }

 private:
  constexpr explicit Scopes(unsigned bits) : bits_(bits) {}
  unsigned bits_;
};
constexpr Scopes operator|(Scope a, Scope b) { return Scopes(a) | b; }

enum class ValueType {
  boolean,        // yes/no, true/false, on/off, 1/0
  count,          // a non-negative decimal integer
  seconds,        // a positive decimal integer
  cidr_list,      // CIDRs separated by commas and/or spaces
  networks_file,  // a file of CIDRs, one a line
  path,           // a file name (relative: to the config file's directory)
  tls_version,    // TLSv1, TLSv1.1, TLSv1.2, TLSv1.3
  cipher_list,    // OpenSSL cipher list (TLS <= 1.2)
  ciphersuites,   // OpenSSL TLS 1.3 ciphersuites
  text,           // free text
  user,           // a user name (checked against the system where the daemon would run)
  group,          // a group name (likewise)
  action,         // reject / tempfail
  mode,           // enforce / monitor
  socket,         // inet:PORT@ADDR, inet6:PORT@ADDR, unix:PATH (local:PATH)
  file_mode,      // octal, e.g. 0660
  facility,       // syslog facility name, any case
  mta,            // auto, postfix, sendmail
  domain_list,    // domain patterns separated by commas: d.example, *.d.example
};

using RuleSetter = void (*)(Rule&, const Value&);
using MilterSetter = void (*)(MilterSettings&, const Value&);

struct KeySpec {
  Scopes scopes;
  std::string_view name;
  ValueType type;
  std::string_view default_value;  // as written in the file; empty: none
  std::string_view help;           // one line, for --explain and the docs check
  RuleSetter to_rule = nullptr;    // source keys with a rule field
  MilterSetter to_milter = nullptr;
  // A source key whose default is this [milter] key's value (mode).
  const KeySpec* default_from = nullptr;
  // Only meaningful with this key set to yes in the source or one it inherits
  // from; an error otherwise (the certificate names need require_client_cert).
  const KeySpec* needs = nullptr;
  // The value that makes this check check nothing, where default_value checks
  // something: what a partner that does not set the key gets (a partner imposes
  // only what it sets). Empty: the default already imposes nothing.
  std::string_view imposes_nothing = {};
  // In a [partner NAME]: only meaningful beside this key, an error without it;
  // partner_needs_why says why.
  const KeySpec* partner_needs = nullptr;
  std::string_view partner_needs_why = {};
};

std::span<const KeySpec* const> all_keys();
// The key of that name a section of that kind may set, or nullptr.
const KeySpec* find_key(Scope scope, std::string_view name);

// What reading a value needs besides its text: where relative paths start, and how
// cipher strings are expanded (the loader caches and may run this elsewhere).
struct ValueReader {
  std::string base_dir;
  std::function<std::variant<std::shared_ptr<const CipherSet>, std::string>(CipherSet::Family,
                                                                            const std::string&)>
      expand_ciphers;
};

// The one function that reads a key's value, for `-n` and the daemon alike: the
// value, or what is wrong with it.
std::variant<Value, std::string> read_value(const KeySpec& key, std::string_view text,
                                            const ValueReader& reader);

// The built-in values of every rule field and [milter] setting, from the table.
Rule built_in_rule();
// A key's value in a partner that does not set it: imposes_nothing, else the
// built-in default (mode's comes from [milter] mode: default_from).
std::string_view partner_default(const KeySpec& key);
MilterSettings built_in_milter_settings();

// The facility's name as the file writes it ("local3").
std::string_view facility_name(Facility f);

}  // namespace tlsgate::policy
