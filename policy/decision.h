// decide(): the verdict for a session under a rule, with its SMTP reply.
#pragma once

#include <string_view>

#include "policy/facts.h"
#include "policy/rule.h"

namespace tlsgate::policy {

enum class Verdict { accept, reject, tempfail };

// In the order the checks apply: the first that fails is the reason.
enum class Reason {
  none,
  plaintext_auth,
  auth_before_starttls,
  starttls_required,
  tls_version_too_low,
  cipher_too_weak,
  cipher_not_allowed,
  client_cert_required,
};

struct Decision {
  Verdict verdict = Verdict::accept;
  Reason reason = Reason::none;
  // Monitor mode turned a refusal into an accept; the reply below is what
  // enforce mode would have answered.
  bool would_reject = false;
  // A password or bearer token crossed the network in clear in this session
  // (sends_secret()), whatever the verdict.
  bool credentials_exposed = false;
  int smtp_code = 0;             // 0 when nothing is refused
  std::string_view status_code;  // RFC 3463 enhanced status, e.g. "5.7.0"
  std::string_view text;

  bool refused() const { return reason != Reason::none; }
};

Decision decide(const Rule& rule, const SessionFacts& facts);

std::string_view reason_name(Reason r);
// "accept", "reject", "tempfail" or "would-reject", as logged.
std::string_view action_name(const Decision& d);

}  // namespace tlsgate::policy
