// The policy-service front end's decisions: Postfix's policy requests on one
// connection (one smtpd process, one SMTP session after another) turned into the
// same Session the milter feeds, so that a scenario gives the same decision, log
// line and CSV row either way. No I/O here (engine/policy_server does that).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "engine/policy_request.h"
#include "engine/session.h"
#include "policy/policy.h"

namespace tlsgate::engine {

class PolicyExchange {
 public:
  using PolicySource = std::function<std::shared_ptr<const policy::Policy>()>;
  PolicyExchange(PolicySource policy, DecisionSink sink)
      : policy_(std::move(policy)), sink_(std::move(sink)) {}

  // The answer to one request, "action=..." and the empty line. A transaction
  // (Postfix's `instance`) is one session: decided at its first RCPT (or MAIL,
  // DATA), the same answer for the same facts after that, its message logged at
  // END-OF-MESSAGE. Nothing is refused before MAIL (CONNECT, EHLO, HELO: the
  // client could not reach STARTTLS); any other state is judged (fail closed).
  std::string answer(const PolicyRequest& request);

 private:
  bool same_transaction(const PolicyRequest& request) const;
  Session& session_for(const PolicyRequest& request);

  PolicySource policy_;
  DecisionSink sink_;
  std::string instance_;              // the transaction of session_
  std::string client_;                // and its client_address
  std::unique_ptr<Session> session_;  // with the policy in force when it began
};

}  // namespace tlsgate::engine
