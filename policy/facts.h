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
  // The AUTH was made before STARTTLS, in clear, and the MTA kept it across
  // STARTTLS (Sendmail does; see AuthHistory). Judged like an AUTH without TLS.
  bool auth_before_tls = false;
};

// Sendmail keeps an AUTH made before STARTTLS for the rest of the session
// (RFC 3207 4.2 says to forget it; Postfix does). At MAIL FROM it then reports
// {auth_type} beside the TLS macros, as for an AUTH made after STARTTLS. No
// milter callback comes with AUTH, so AuthHistory works it out from what each
// callback sees:
//   - AUTH while TLS is not active: made in clear;
//   - AUTH already there at the first EHLO after STARTTLS: made before
//     STARTTLS (RFC 3207: the EHLO is the client's first command under TLS);
//   - no AUTH: nothing to remember.
// A client that skips that EHLO (EHLO, AUTH, STARTTLS, MAIL) gives no callback
// between AUTH and MAIL: its AUTH passes for one made under TLS.
// Only for MTAs that keep the AUTH: under Postfix an AUTH at the first EHLO
// after STARTTLS was made after it.
class AuthHistory {
 public:
  enum class Stage { helo, mail };  // mail: MAIL FROM and RCPT TO
  void observe(Stage stage, bool tls_active, bool authenticated);
  bool auth_before_tls() const { return auth_before_tls_; }

 private:
  bool tls_seen_ = false;
  bool auth_before_tls_ = false;
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
