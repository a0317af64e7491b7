// The merged rules that govern one client: what decide() reads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/tls.h"

namespace tlsgate::policy {

enum class Action { reject, tempfail };
enum class Mode { enforce, monitor };

// Where a rule's value came from, for --explain.
struct Origin {
  std::string section;  // "source partners", "milter"; empty for the built-in default
  std::string file;
  int line = 0;
};

struct ResolvedSetting {
  std::string_view key;
  std::string value;
  Origin origin;
};

struct Rule {
  std::string source;              // the governing section's name ("default" for none)
  std::vector<std::string> chain;  // governing section first, then each enclosing one

  bool require_starttls = false;
  bool require_starttls_before_auth = true;
  bool allow_unencrypted_plain_auth = false;
  std::optional<TlsVersion> min_tls_version;
  unsigned min_cipher_bits = 0;
  std::shared_ptr<const CipherSet> ciphers;             // null: any TLS <= 1.2 cipher
  std::shared_ptr<const CipherSet> tls13_ciphersuites;  // null: any TLS 1.3 suite
  bool require_client_cert = false;
  std::string client_cert_issuer;   // empty: any issuer
  std::string client_cert_subject;  // empty: any subject
  Action action = Action::reject;
  Mode mode = Mode::enforce;

  std::vector<ResolvedSetting> settings;  // every source key, in schema order
};

}  // namespace tlsgate::policy
