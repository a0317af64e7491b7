// What the MTA told us about a session, parsed defensively: the values come from
// the network (and from MTA settings such as Postfix's milter_macro_defaults).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "policy/address.h"
#include "policy/tls.h"

namespace tlsgate::policy {

// The facts as text, as the MTA reported them (empty: not reported). Views into
// storage the caller owns. The milter fills it from macros, --explain from options.
struct FactText {
  std::string_view tls_version;   // {tls_version}
  std::string_view cipher;        // {cipher}
  std::string_view cipher_bits;   // {cipher_bits}
  std::string_view cert_subject;  // the client certificate's subject CN
  std::string_view cert_issuer;   // its issuer's CN
  bool cert_verified = false;     // the MTA verified the certificate named above
  std::string_view auth_type;     // {auth_type}: the SASL mechanism, empty without AUTH
};

struct SessionFacts {
  // TLS is active only when {tls_version} names a protocol tlsgate knows. Anything
  // else ("NONE", "(NONE)", a cipher or key size alone: what milter_macro_defaults
  // can supply) is judged as no TLS; tls_reported keeps it for the log.
  bool tls_active = false;
  std::optional<TlsVersion> tls_version;  // set exactly when tls_active
  std::string_view tls_reported;          // {tls_version} as sent
  std::string_view cipher;
  std::optional<unsigned> cipher_bits;  // nullopt: not sent or garbled
  bool cert_verified = false;           // only with TLS active
  std::string_view cert_subject;
  std::string_view cert_issuer;
  std::string_view auth_mechanism;  // empty: the client did not authenticate
  // The AUTH was made before STARTTLS, in clear, and the MTA kept it across
  // STARTTLS (Sendmail does; see AuthHistory). Judged like an AUTH without TLS.
  bool auth_before_tls = false;
  // Earlier in the session a password or token crossed the network in clear, even
  // if that AUTH is gone now (Postfix forgets it at STARTTLS).
  bool secret_sent_in_clear_earlier = false;
  // The client's address (nullopt: unknown). The source's rule was chosen by it;
  // a partner's networks are checked against it.
  std::optional<Address> client;
};

SessionFacts parse_facts(const FactText& text);

// The SASL mechanism without any channel-binding "-PLUS" suffix, upper-cased: Cyrus
// SASL (2.1.27 and later) authenticates "PLAIN-PLUS" as PLAIN.
std::string mechanism_family(std::string_view mechanism);

// Mechanisms whose exchange carries the password or a bearer token itself: PLAIN,
// LOGIN, XOAUTH2, OAUTHBEARER, in any case, with or without "-PLUS". Without TLS
// such an AUTH exposes the secret to anyone on the path.
bool sends_secret(std::string_view mechanism);

// What the AUTH macros seen at each stage say about when the client authenticated.
// Sendmail keeps an AUTH made before STARTTLS for the rest of the session (RFC 3207
// 4.2 says to forget it; Postfix does) and at MAIL FROM reports {auth_type} beside
// the TLS macros, as for an AUTH made after STARTTLS. No milter callback comes with
// AUTH, so AuthHistory works it out from what each callback sees:
//   - AUTH while TLS is not active: made in clear;
//   - AUTH already there at the first EHLO after STARTTLS: made before STARTTLS
//     (RFC 3207: that EHLO is the client's first command under TLS);
//   - AUTH under TLS at MAIL with no EHLO under TLS before it: it cannot be shown
//     to follow STARTTLS (EHLO, AUTH, STARTTLS, MAIL), so it counts as made before
//     (fail closed; EHLO, STARTTLS, EHLO, AUTH, MAIL is the legitimate sequence).
// auth_before_tls() is for MTAs that keep the AUTH; secret_sent_in_clear() holds
// for every MTA: a PLAIN password seen without TLS at any stage was exposed.
class AuthHistory {
 public:
  void at_helo(bool tls_active, std::string_view auth_type);
  void at_mail(bool tls_active, std::string_view auth_type);
  bool auth_before_tls() const { return auth_before_tls_; }
  bool secret_sent_in_clear() const { return secret_sent_in_clear_; }

 private:
  void observe(bool tls_active, std::string_view auth_type, bool helo);
  bool tls_helo_seen_ = false;
  bool auth_before_tls_ = false;
  bool secret_sent_in_clear_ = false;
};

// Decodes xtext (RFC 3461 section 4): "+XX" (two hex digits) is the byte 0xXX.
// Sendmail xtext-encodes the certificate names it gives milters ({cn_subject}
// "ops+2Brelay+20+3D+201", {cert_issuer} "/O=tlsgate+20test/CN=..."). A "+"
// not followed by two hex digits is kept as it is; so is every other byte.
std::string xtext_decode(std::string_view text);

}  // namespace tlsgate::policy
