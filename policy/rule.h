// The merged rules that govern one client, or the rule of one [partner NAME]: what
// decide() reads. The fields have no defaults of their own: the schema table
// (policy/schema.cc) gives every one of them its built-in value (built_in_rule()),
// or for a partner the value that imposes nothing (partner_default()).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/domain.h"
#include "policy/tls.h"
#include "policy/value.h"

namespace tlsgate::policy {

struct KeySpec;
class NetblockTable;

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

  // A partner's rule: its name (empty for a source's rule), the envelope domains it
  // applies to (null: that key is not set) and, with sender_domains, the networks
  // its sender domains may send from (null: anywhere).
  std::string partner;
  std::shared_ptr<const DomainList> sender_domains;
  std::shared_ptr<const DomainList> recipient_domains;
  std::shared_ptr<const NetblockTable> partner_networks;

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

  // A source's rule: every key that sets a field, in schema order. A partner's
  // rule, loaded for --explain (LoadOptions::keep_netblocks): the keys it sets, its
  // mode and its action; otherwise none.
  std::vector<ResolvedSetting> settings;
};

}  // namespace tlsgate::policy
