#include "policy/schema.h"

#include <strings.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <filesystem>
#include <type_traits>

#include "policy/socket_spec.h"

namespace tlsgate::policy {
namespace {

using enum Scope;

// A typed field from a value read_value made for its key's type.
void assign(bool& field, const Value& v) { field = std::get<bool>(v.typed); }
void assign(unsigned& field, const Value& v) { field = std::get<unsigned>(v.typed); }
void assign(std::string& field, const Value& v) {
  const auto* resolved = std::get_if<std::string>(&v.typed);  // a path
  field = resolved != nullptr ? *resolved : v.text;
}
void assign(std::optional<TlsVersion>& field, const Value& v) {
  const auto* version = std::get_if<TlsVersion>(&v.typed);
  field = version != nullptr ? std::optional(*version) : std::nullopt;
}
void assign(std::shared_ptr<const CipherSet>& field, const Value& v) {
  const auto* set = std::get_if<std::shared_ptr<const CipherSet>>(&v.typed);
  field = set != nullptr ? *set : nullptr;
}
void assign(std::shared_ptr<const DomainList>& field, const Value& v) {
  const auto* list = std::get_if<std::shared_ptr<const DomainList>>(&v.typed);
  field = list != nullptr ? *list : nullptr;
}
template <class Enum>
requires std::is_enum_v<Enum>
void assign(Enum& field, const Value& v) { field = std::get<Enum>(v.typed); }

template <auto Field>
void to_rule(Rule& r, const Value& v) {
  assign(r.*Field, v);
}
template <auto Field>
void to_milter(MilterSettings& m, const Value& v) {
  assign(m.*Field, v);
}

// ---- the table ----
// [milter]
constexpr KeySpec kSocket{milter,
                          "socket",
                          ValueType::socket,
                          "inet:8891@127.0.0.1",
                          "the milter: inet:PORT@ADDR, inet6:PORT@ADDR, unix:PATH, or none",
                          nullptr,
                          &to_milter<&MilterSettings::socket>};
constexpr KeySpec kPolicySocket{milter,
                                "policy_socket",
                                ValueType::socket,
                                "",
                                "Postfix's policy service (check_policy_service): inet:PORT@ADDR, "
                                "inet6:PORT@ADDR or unix:PATH; none: off",
                                nullptr,
                                &to_milter<&MilterSettings::policy_socket>};
constexpr KeySpec kSocketMode{milter,
                              "socket_mode",
                              ValueType::file_mode,
                              "0660",
                              "permissions of a unix socket",
                              nullptr,
                              &to_milter<&MilterSettings::socket_mode>};
constexpr KeySpec kUser{milter,
                        "user",
                        ValueType::user,
                        "",
                        "user to run as after opening the socket",
                        nullptr,
                        &to_milter<&MilterSettings::user>};
constexpr KeySpec kGroup{milter,
                         "group",
                         ValueType::group,
                         "",
                         "group to run as, and group of a unix socket",
                         nullptr,
                         &to_milter<&MilterSettings::group>};
constexpr KeySpec kMilterMode{
    milter,
    "mode",
    ValueType::mode,
    "enforce",
    "enforce, or monitor (log would-reject, accept); the default for every source",
    nullptr,
    &to_milter<&MilterSettings::mode>};
constexpr KeySpec kMta{milter,
                       "mta",
                       ValueType::mta,
                       "auto",
                       "the MTA that calls tlsgate: auto (recognised per session), postfix or "
                       "sendmail",
                       nullptr,
                       &to_milter<&MilterSettings::mta>};
constexpr KeySpec kSyslogFacility{milter,
                                  "syslog_facility",
                                  ValueType::facility,
                                  "mail",
                                  "syslog facility (any case)",
                                  nullptr,
                                  &to_milter<&MilterSettings::syslog_facility>};
constexpr KeySpec kSyslogIdent{milter,
                               "syslog_ident",
                               ValueType::text,
                               "tlsgate",
                               "syslog identity",
                               nullptr,
                               &to_milter<&MilterSettings::syslog_ident>};
constexpr KeySpec kAccountingFile{milter,
                                  "accounting_file",
                                  ValueType::path,
                                  "",
                                  "CSV file with one row per decision",
                                  nullptr,
                                  &to_milter<&MilterSettings::accounting_file>};
constexpr KeySpec kPidFile{milter,
                           "pid_file",
                           ValueType::path,
                           "",
                           "file to write the daemon's process id to",
                           nullptr,
                           &to_milter<&MilterSettings::pid_file>};
constexpr KeySpec kMetricsFile{milter,
                               "metrics_file",
                               ValueType::path,
                               "",
                               "Prometheus text file the metrics are written to (node_exporter's "
                               "textfile collector)",
                               nullptr,
                               &to_milter<&MilterSettings::metrics_file>};
constexpr KeySpec kMetricsInterval{milter,
                                   "metrics_interval",
                                   ValueType::seconds,
                                   "15",
                                   "seconds between two writes of metrics_file",
                                   nullptr,
                                   &to_milter<&MilterSettings::metrics_interval>};

// [partner NAME]: the envelope domains its rule applies to.
constexpr KeySpec kSenderDomains{partner,
                                 "sender_domains",
                                 ValueType::domain_list,
                                 "",
                                 "MAIL FROM domains the partner's rule applies to: d.example, "
                                 "*.d.example (its subdomains)",
                                 &to_rule<&Rule::sender_domains>};
constexpr KeySpec kRecipientDomains{partner,
                                    "recipient_domains",
                                    ValueType::domain_list,
                                    "",
                                    "RCPT TO domains the partner's rule applies to (refusing "
                                    "that recipient only)",
                                    &to_rule<&Rule::recipient_domains>};

// [source NAME], and the keys a [partner NAME] shares with it (the same meaning:
// a partner's rule is checked as a source's is).
constexpr Scopes rules = source | partner;
constexpr std::string_view kSenderNetworks =
    "they say where the partner's sender domains may send from";
constexpr KeySpec kNetworks{
    .scopes = rules,
    .name = "networks",
    .type = ValueType::cidr_list,
    .default_value = "",
    .help =
        "client netblocks: those a source governs, those a partner's sender domains may "
        "send from",
    .partner_needs = &kSenderDomains,
    .partner_needs_why = kSenderNetworks};
constexpr KeySpec kNetworksFile{.scopes = rules,
                                .name = "networks_file",
                                .type = ValueType::networks_file,
                                .default_value = "",
                                .help = "more netblocks, one a line, # comments",
                                .partner_needs = &kSenderDomains,
                                .partner_needs_why = kSenderNetworks};
constexpr KeySpec kRequireStarttls{rules, "require_starttls",   ValueType::boolean,
                                   "no",  "mail only over TLS", &to_rule<&Rule::require_starttls>};
constexpr KeySpec kRequireStarttlsBeforeAuth{rules,
                                             "require_starttls_before_auth",
                                             ValueType::boolean,
                                             "yes",
                                             "AUTH only after STARTTLS, whatever the mechanism",
                                             &to_rule<&Rule::require_starttls_before_auth>,
                                             nullptr,
                                             nullptr,
                                             nullptr,
                                             "no"};
constexpr KeySpec kAllowUnencryptedPlainAuth{
    rules,
    "allow_unencrypted_plain_auth",
    ValueType::boolean,
    "no",
    "PLAIN/LOGIN (and XOAUTH2, OAUTHBEARER) AUTH allowed without TLS",
    &to_rule<&Rule::allow_unencrypted_plain_auth>,
    nullptr,
    nullptr,
    nullptr,
    "yes"};
constexpr KeySpec kMinTlsVersion{rules,
                                 "min_tls_version",
                                 ValueType::tls_version,
                                 "",
                                 "lowest TLS version accepted when TLS is used",
                                 &to_rule<&Rule::min_tls_version>};
constexpr KeySpec kMinCipherBits{rules,
                                 "min_cipher_bits",
                                 ValueType::count,
                                 "0",
                                 "lowest symmetric key size accepted",
                                 &to_rule<&Rule::min_cipher_bits>};
constexpr KeySpec kCiphers{rules,
                           "ciphers",
                           ValueType::cipher_list,
                           "",
                           "accepted TLS <= 1.2 ciphers (OpenSSL cipher list)",
                           &to_rule<&Rule::ciphers>};
constexpr KeySpec kTls13Ciphersuites{rules,
                                     "tls13_ciphersuites",
                                     ValueType::ciphersuites,
                                     "",
                                     "accepted TLS 1.3 suites (OpenSSL ciphersuites)",
                                     &to_rule<&Rule::tls13_ciphersuites>};
constexpr KeySpec kRequireClientCert{rules,
                                     "require_client_cert",
                                     ValueType::boolean,
                                     "no",
                                     "a client certificate the MTA verified is required",
                                     &to_rule<&Rule::require_client_cert>};
constexpr KeySpec kClientCertIssuer{rules,
                                    "client_cert_issuer",
                                    ValueType::text,
                                    "",
                                    "with require_client_cert: the issuer's CN the certificate "
                                    "must have",
                                    &to_rule<&Rule::client_cert_issuer>,
                                    nullptr,
                                    nullptr,
                                    &kRequireClientCert};
constexpr KeySpec kClientCertSubject{rules,
                                     "client_cert_subject",
                                     ValueType::text,
                                     "",
                                     "with require_client_cert: the subject's CN the "
                                     "certificate must have",
                                     &to_rule<&Rule::client_cert_subject>,
                                     nullptr,
                                     nullptr,
                                     &kRequireClientCert};
constexpr KeySpec kAction{rules,
                          "action",
                          ValueType::action,
                          "reject",
                          "reject (5xx) or tempfail (4xx) a refused session",
                          &to_rule<&Rule::action>};
constexpr KeySpec kRuleMode{rules,
                            "mode",
                            ValueType::mode,
                            "",
                            "enforce or monitor; default: [milter] mode",
                            &to_rule<&Rule::mode>,
                            nullptr,
                            &kMilterMode};

constexpr std::array<const KeySpec*, 29> kKeys{
    &kSocket,
    &kPolicySocket,
    &kSocketMode,
    &kUser,
    &kGroup,
    &kMilterMode,
    &kMta,
    &kSyslogFacility,
    &kSyslogIdent,
    &kAccountingFile,
    &kPidFile,
    &kMetricsFile,
    &kMetricsInterval,
    &kSenderDomains,
    &kRecipientDomains,
    &kNetworks,
    &kNetworksFile,
    &kRequireStarttls,
    &kRequireStarttlsBeforeAuth,
    &kAllowUnencryptedPlainAuth,
    &kMinTlsVersion,
    &kMinCipherBits,
    &kCiphers,
    &kTls13Ciphersuites,
    &kRequireClientCert,
    &kClientCertIssuer,
    &kClientCertSubject,
    &kAction,
    &kRuleMode,
};

// ---- reading values ----
constexpr std::array<std::string_view, 4> kTrue{"yes", "true", "on", "1"};
constexpr std::array<std::string_view, 4> kFalse{"no", "false", "off", "0"};
constexpr std::array<std::pair<std::string_view, Facility>, 12> kFacilities{{
    {"mail", Facility::mail},
    {"daemon", Facility::daemon},
    {"user", Facility::user},
    {"auth", Facility::auth},
    {"local0", Facility::local0},
    {"local1", Facility::local1},
    {"local2", Facility::local2},
    {"local3", Facility::local3},
    {"local4", Facility::local4},
    {"local5", Facility::local5},
    {"local6", Facility::local6},
    {"local7", Facility::local7},
}};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& words, std::string_view value) {
  return std::any_of(words.begin(), words.end(),
                     [&](std::string_view w) { return iequals(w, value); });
}

std::optional<unsigned> parse_unsigned(std::string_view text, int base = 10) {
  unsigned v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v, base);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

std::string resolve_path(std::string_view value, const std::string& base_dir) {
  const std::filesystem::path p(value);
  if (p.is_absolute() || base_dir.empty()) return p.string();
  return (std::filesystem::path(base_dir) / p).string();
}

using Typed = decltype(Value::typed);
using Read = std::variant<Typed, std::string>;  // the typed value, or the problem

Read read_typed(const KeySpec& key, std::string_view v, const ValueReader& reader) {
  const std::string quoted = "\"" + std::string(v) + "\"";
  switch (key.type) {
    case ValueType::boolean:
      if (one_of(kTrue, v)) return Typed(true);
      if (one_of(kFalse, v)) return Typed(false);
      return quoted + " is not a boolean (yes or no)";
    case ValueType::count:
      if (const auto n = parse_unsigned(v); n && v.size() <= 9) return Typed(*n);
      return quoted + " is not a whole number";
    case ValueType::seconds:
      if (const auto n = parse_unsigned(v); n && *n > 0 && v.size() <= 9) return Typed(*n);
      return quoted + " is not a whole number of seconds, at least 1";
    case ValueType::file_mode:
      if (const auto n = parse_unsigned(v, 8); n && *n <= 0777) return Typed(*n);
      return quoted + " is not an octal file mode such as 0660";
    case ValueType::tls_version:
      if (const auto t = parse_tls_version(v)) return Typed(*t);
      return quoted + " is not one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3";
    case ValueType::action:
      if (v == "reject") return Typed(Action::reject);
      if (v == "tempfail") return Typed(Action::tempfail);
      return quoted + " is not reject or tempfail";
    case ValueType::mode:
      if (v == "enforce") return Typed(Mode::enforce);
      if (v == "monitor") return Typed(Mode::monitor);
      return quoted + " is not enforce or monitor";
    case ValueType::mta:
      if (v == "auto") return Typed(Mta::automatic);
      if (v == "postfix") return Typed(Mta::postfix);
      if (v == "sendmail") return Typed(Mta::sendmail);
      return quoted + " is not auto, postfix or sendmail";
    case ValueType::facility:
      for (const auto& [name, facility] : kFacilities) {
        if (iequals(name, v)) return Typed(facility);
      }
      return quoted + " is not a syslog facility (mail, daemon, user, auth, local0-local7)";
    case ValueType::socket: {
      if (v == kNoSocket) return Typed();
      const auto parsed = parse_socket_spec(v);
      if (const auto* err = std::get_if<std::string>(&parsed)) return quoted + ": " + *err;
      return Typed();
    }
    case ValueType::cipher_list:
    case ValueType::ciphersuites: {
      if (v.empty()) return std::string("empty value");
      const auto family =
          key.type == ValueType::cipher_list ? CipherSet::Family::tls12 : CipherSet::Family::tls13;
      auto expanded = reader.expand_ciphers
                          ? reader.expand_ciphers(family, std::string(v))
                          : std::variant<std::shared_ptr<const CipherSet>, std::string>(
                                std::string("cipher lists cannot be read here"));
      if (auto* problem = std::get_if<std::string>(&expanded)) return *problem;
      return Typed(std::get<std::shared_ptr<const CipherSet>>(std::move(expanded)));
    }
    case ValueType::domain_list: {
      if (v.empty()) return std::string("empty value");
      auto list = parse_domain_list(v);
      if (auto* problem = std::get_if<std::string>(&list)) return *problem;
      return Typed(std::make_shared<const DomainList>(std::get<DomainList>(std::move(list))));
    }
    case ValueType::path:
    case ValueType::networks_file:
      if (v.empty()) return std::string("empty value");
      return Typed(resolve_path(v, reader.base_dir));
    case ValueType::text:
    case ValueType::user:
    case ValueType::group:
    case ValueType::cidr_list:
      if (v.empty()) return std::string("empty value");
      return Typed();
  }
  return std::string("unknown type");
}

// A key's built-in value: none where the table gives no default.
Value built_in(const KeySpec& key) {
  if (key.default_value.empty()) return {};
  auto read = read_value(key, key.default_value, {});
  return std::get<Value>(std::move(read));  // the table's own defaults always read
}

}  // namespace

std::span<const KeySpec* const> all_keys() { return kKeys; }

const KeySpec* find_key(Scope scope, std::string_view name) {
  for (const KeySpec* k : kKeys) {
    if (k->scopes.has(scope) && k->name == name) return k;
  }
  return nullptr;
}

std::variant<Value, std::string> read_value(const KeySpec& key, std::string_view text,
                                            const ValueReader& reader) {
  auto typed = read_typed(key, text, reader);
  if (auto* problem = std::get_if<std::string>(&typed)) return *problem;
  return Value{std::string(text), std::get<Typed>(std::move(typed))};
}

Rule built_in_rule() {
  Rule rule;
  for (const KeySpec* key : kKeys) {
    if (key->to_rule == nullptr) continue;
    const KeySpec& from = key->default_from != nullptr ? *key->default_from : *key;
    key->to_rule(rule, built_in(from));
  }
  return rule;
}

std::string_view partner_default(const KeySpec& key) {
  if (key.default_from != nullptr) return key.default_from->default_value;
  return key.imposes_nothing.empty() ? key.default_value : key.imposes_nothing;
}

MilterSettings built_in_milter_settings() {
  MilterSettings m;
  for (const KeySpec* key : kKeys) {
    if (key->to_milter != nullptr) key->to_milter(m, built_in(*key));
  }
  return m;
}

std::string_view facility_name(Facility f) {
  for (const auto& [name, facility] : kFacilities) {
    if (facility == f) return name;
  }
  return "mail";
}

}  // namespace tlsgate::policy
