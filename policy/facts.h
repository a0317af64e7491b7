// What the MTA told us about a session, parsed defensively from macro values.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "policy/tls.h"

namespace tlsgate::policy {

// Raw macro values as the MTA sent them (empty: not sent). Views into storage the
// caller owns (the milter session).
struct MacroValues {
  std::string_view tls_version;   // {tls_version}
  std::string_view cipher;        // {cipher}
  std::string_view cipher_bits;   // {cipher_bits}
  std::string_view cert_subject;  // {cert_subject}
  std::string_view cert_issuer;   // {cert_issuer}
  std::string_view verify;        // {verify} (Sendmail: "OK" when the cert verified)
  std::string_view auth_type;     // {auth_type}
};

struct SessionFacts {
  // TLS is active when the MTA sent any TLS macro. A garbled version or key size
  // stays "unknown", which no minimum accepts.
  bool tls_active = false;
  std::optional<TlsVersion> tls_version;
  std::string_view cipher;
  std::optional<unsigned> cipher_bits;
  bool cert_verified = false;
  std::string_view cert_subject;
  std::string_view cert_issuer;
  std::string_view auth_mechanism;  // empty: the client did not authenticate
};

// `cert_verified_by_mta`: the MTA only reports a certificate it verified (the
// milter knows which MTA it talks to); otherwise {verify} must say "OK".
SessionFacts facts_from_macros(const MacroValues& m, bool cert_verified_by_mta = false);

// PLAIN and LOGIN send the password itself; compared case-insensitively.
bool is_plaintext_mechanism(std::string_view mechanism);

// Decodes xtext (RFC 3461 section 4): "+XX" (two hex digits) is the byte 0xXX.
// Sendmail xtext-encodes the certificate names it gives milters ({cn_subject}
// "ops+2Brelay+20+3D+201", {cert_issuer} "/O=tlsgate+20test/CN=..."). A "+"
// not followed by two hex digits is kept as it is; so is every other byte.
std::string xtext_decode(std::string_view text);

}  // namespace tlsgate::policy
