// One SMTP session as the milter sees it: the client, the macros the MTA sent so
// far, the policy snapshot taken at connect, and the decisions made. No libmilter
// here: the callbacks feed it macro values and turn its outcomes into replies.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "milter/log_format.h"
#include "milter/logger.h"
#include "policy/address.h"
#include "policy/decision.h"
#include "policy/policy.h"

namespace tlsgate::milter {

// Returns a macro's value, or nullptr when the MTA did not send it.
using MacroGetter = std::function<const char*(const char* name)>;

// Where decisions go: syslog and the accounting file in the daemon.
using DecisionSink = std::function<void(Severity, const LogRecord&)>;

// The macros tlsgate asks for at each stage (smfi_setsymlist). Each list
// replaces the MTA's own list for that stage, so each names all it needs.
// {cert_subject}/{cert_issuer} are the certificate's CNs on Postfix; Sendmail
// sends its full DNs there and the CNs in {cn_subject}/{cn_issuer}. An MTA
// leaves out what it does not know.
inline constexpr const char* kConnectMacros = "{daemon_name} v";
// {auth_type} at HELO tells an AUTH made before STARTTLS (policy::AuthHistory).
inline constexpr const char* kHeloMacros =
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} {cn_subject} "
    "{cn_issuer} {verify} {auth_type}";
inline constexpr const char* kMailMacros =
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} {cn_subject} "
    "{cn_issuer} {verify} {auth_type} {auth_authen} {i}";
inline constexpr const char* kEomMacros = "{i}";

struct Outcome {
  enum class Step { proceed, reject, tempfail } step = Step::proceed;
  std::string code;    // "530"
  std::string status;  // "5.7.0"
  std::string text;
};

class Session {
 public:
  Session(std::shared_ptr<const policy::Policy> policy, std::optional<policy::Address> client,
          DecisionSink sink);

  void on_connect_macros(const MacroGetter& get);
  // HELO (on_tls_macros), MAIL and RCPT: every TLS and AUTH macro is (re)read;
  // one the MTA no longer sends is cleared.
  void on_tls_macros(const MacroGetter& get);
  void on_mail_macros(const MacroGetter& get);
  void on_eom_macros(const MacroGetter& get);

  Outcome on_mail();
  Outcome on_rcpt();  // decides again only if the facts changed since MAIL
  void on_eom();      // logs the accepted message
  void on_abort();    // the transaction ended without a message

  const policy::Rule& rule() const { return *rule_; }

 private:
  struct Macros {
    std::string tls_version, cipher, cipher_bits, cert_subject, cert_issuer, verify;
    std::string auth_type, auth_authen;
    bool operator==(const Macros&) const = default;
  };

  void read_tls_macros(const MacroGetter& get);
  void observe_auth(policy::AuthHistory::Stage stage);
  policy::SessionFacts facts() const;
  Outcome decide_and_log();
  LogRecord record(const policy::Decision& d, const std::string& reply) const;

  std::shared_ptr<const policy::Policy> policy_;  // the snapshot taken at connect
  const policy::Rule* rule_;
  std::string client_text_;
  DecisionSink sink_;
  bool mta_is_postfix_ = false;
  Macros macros_;
  policy::AuthHistory auth_history_;  // only for an MTA that keeps AUTH over STARTTLS
  std::string queue_id_;
  std::optional<Macros> decided_on_;  // the facts of this transaction's decision
  bool transaction_accepted_ = false;
  policy::Decision last_decision_;
};

}  // namespace tlsgate::milter
