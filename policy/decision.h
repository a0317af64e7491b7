// decide(): the verdict for a message under the rules that apply to it, with its
// SMTP reply.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "policy/facts.h"
#include "policy/rule.h"

namespace tlsgate::policy {

enum class Verdict { accept, reject, tempfail };

// In the order the checks apply: the first that fails is the reason.
enum class Reason {
  none,
  partner_network,  // a partner's sender domain, from a client outside its networks
  plaintext_auth,
  auth_before_starttls,
  starttls_required,
  tls_version_too_low,
  cipher_too_weak,
  cipher_not_allowed,
  client_cert_required,  // the last: kReasonCount counts up to it
};
// How many Reason values there are, none included: the size of an array indexed by
// Reason.
inline constexpr std::size_t kReasonCount =
    static_cast<std::size_t>(Reason::client_cert_required) + 1;

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
  // The [partner NAME] whose rule refused (or would have); empty when the source's
  // rule did, or nothing was refused.
  std::string_view partner;
  // Every partner among the rules decided on, in the order given (file order).
  std::vector<std::string_view> partners;

  bool refused() const { return reason != Reason::none; }
};

// The rules that apply to a message: the source's rule first, then each partner's
// that applies, in file order. Each is checked as the design's table says (a
// partner's networks first); the first refusal in enforce mode decides. A refusal
// in monitor mode lets the mail pass and the next rules be checked; if none
// refuses, the first such refusal is the result, as a would-reject. Views into
// the rules: they live as long as their policy.
Decision decide(std::span<const Rule* const> rules, const SessionFacts& facts);
// The same for one rule.
inline Decision decide(const Rule& rule, const SessionFacts& facts) {
  const Rule* const one[] = {&rule};
  return decide(one, facts);
}

std::string_view reason_name(Reason r);
// "accept", "reject", "tempfail" or "would-reject", as logged.
std::string_view action_name(const Decision& d);

}  // namespace tlsgate::policy
