// The merged rules that govern one client: what decide() reads. The fields have no
// defaults of their own: the schema table (policy/schema.cc) gives every one of them
// its built-in value (built_in_rule()).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/tls.h"
#include "policy/value.h"

namespace tlsgate::policy {

struct KeySpec;

// Where a rule's value came from, for --explain.
struct Origin {
  std::string section;  // "source partners", "milter"; empty for the built-in default
  std::string file;
  int line = 0;
};

struct ResolvedSetting {
  const KeySpec* key;
  Value value;
  Origin origin;
};

struct Rule {
  std::string source;              // the governing section's name ("default" for none)
  std::vector<std::string> chain;  // governing section first, then each enclosing one

  bool require_starttls{};
  bool require_starttls_before_auth{};
  bool allow_unencrypted_plain_auth{};
  std::optional<TlsVersion> min_tls_version;
  unsigned min_cipher_bits{};
  std::shared_ptr<const CipherSet> ciphers;             // null: any TLS <= 1.2 cipher
  std::shared_ptr<const CipherSet> tls13_ciphersuites;  // null: any TLS 1.3 suite
  bool require_client_cert{};
  std::string client_cert_issuer;   // empty: any issuer
  std::string client_cert_subject;  // empty: any subject
  Action action{};
  Mode mode{};

  std::vector<ResolvedSetting> settings;  // every source key that sets a field, in schema order
};

}  // namespace tlsgate::policy
