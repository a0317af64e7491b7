// One SMTP session as the milter sees it: the client, the macros the MTA sent so
// far, the policy snapshot taken at connect, and the decisions made. No libmilter
// here: the callbacks hand it each stage's macros and turn its decisions into
// replies.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/log_format.h"
#include "engine/logger.h"
#include "policy/address.h"
#include "policy/decision.h"
#include "policy/domain.h"
#include "policy/facts.h"
#include "policy/policy.h"

namespace tlsgate::engine {

// A macro's value at the current stage, or nullptr when the MTA did not send it.
using MacroLookup = std::function<const char*(const char* name)>;

// Where decisions go: syslog and the accounting file in the daemon.
using DecisionSink = std::function<void(Severity, const LogRecord&)>;

// The macros tlsgate asks for at each stage (smfi_setsymlist). Each list
// replaces the MTA's own list for that stage, so each names all it needs.
// {cert_subject}/{cert_issuer} are the certificate's CNs on Postfix; Sendmail
// sends its full DNs there, the CNs in {cn_subject}/{cn_issuer} and says in
// {verify} whether it verified them. An MTA leaves out what it does not know.
// Where CONNECT is not negotiated (the fewest round trips), `v` comes at HELO and
// MAIL, and the client's address as {client_addr} at MAIL.
inline constexpr const char* kConnectMacros = "{daemon_name} v";
// {auth_type} at HELO tells an AUTH made before STARTTLS (policy::AuthHistory).
inline constexpr const char* kHeloMacros =
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} {cn_subject} "
    "{cn_issuer} {verify} {auth_type} v";
// The envelope addresses come as MAIL's and RCPT's arguments; {mail_addr} and
// {rcpt_addr} stand in where an MTA gives none (partners, issue 21).
inline constexpr const char* kMailMacros =
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} {cn_subject} "
    "{cn_issuer} {verify} {auth_type} {auth_authen} {i} {client_addr} {mail_addr} v";
inline constexpr const char* kRcptMacros =
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} {cn_subject} "
    "{cn_issuer} {verify} {auth_type} {auth_authen} {i} {client_addr} {rcpt_addr} v";
inline constexpr const char* kEomMacros = "{i}";

class Session {
 public:
  // `macro_lists_taken`: the MTA accepted tlsgate's macro lists, so a macro it
  // leaves out is one it does not have (which is how Postfix is told from Sendmail:
  // Sendmail always has {verify} under TLS, Postfix never).
  Session(std::shared_ptr<const policy::Policy> policy, std::optional<policy::Address> client,
          DecisionSink sink, bool macro_lists_taken = true);

  // The client, where the MTA tells it only later than connect ({client_addr} at
  // MAIL, when CONNECT is not negotiated): its source rule from now on.
  void set_client(std::optional<policy::Address> client);

  void at_connect(const MacroLookup& macros);
  void at_helo(const MacroLookup& macros);
  // MAIL decides for the transaction; RCPT decides again only if the facts changed
  // (the same facts give the same answer, a refusal included); end of message logs
  // the accepted message, or refuses it again if its facts were refused.
  //
  // Partners (issue 21). `sender` is MAIL FROM's address as the MTA gave it
  // ("<u@d>", or Sendmail's {mail_addr} "u@d"), `recipient` RCPT TO's; nullopt
  // when the front end does not pass it (then no partner applies by it, and nothing
  // changes). At MAIL the partners whose sender_domains match and that have no
  // recipient_domains apply with the source's rule, to the whole transaction. At
  // each RCPT the partners whose recipient_domains match apply to that recipient,
  // those with sender_domains too only if they matched the sender at MAIL: their
  // refusal refuses this recipient only (logged with rcpt_domain=), the other
  // recipients and the message go on. at_rcpt answers the transaction's refusal if
  // there is one, else this recipient's; end of message names every partner that
  // applied to the message. The policy service calls both at RCPT: at_mail once
  // per transaction, then at_rcpt per recipient.
  policy::Decision at_mail(const MacroLookup& macros,
                           std::optional<std::string_view> sender = std::nullopt);
  policy::Decision at_rcpt(const MacroLookup& macros,
                           std::optional<std::string_view> recipient = std::nullopt);
  policy::Decision at_end_of_message(const MacroLookup& macros);
  void at_abort();  // the transaction ended without a message

  const policy::Rule& rule() const { return *rule_; }
  // The MTA as far as this session shows it, and what showed it.
  policy::Mta mta() const;
  std::string mta_evidence() const;

 private:
  // Every macro tlsgate reads, as the MTA last sent it.
  struct Macros {
    std::string tls_version, cipher, cipher_bits;
    std::string cert_subject, cert_issuer;  // Postfix: CNs of a verified certificate
    std::string cn_subject, cn_issuer;      // Sendmail: CNs, xtext-encoded
    std::optional<std::string> verify;      // Sendmail: "OK" for a verified certificate
    std::string auth_type, auth_authen;
    bool operator==(const Macros&) const = default;
  };

  void begin_transaction();
  void read_mta_name(const MacroLookup& macros);
  void read_tls_macros(const MacroLookup& macros);
  void read_transaction_macros(const MacroLookup& macros);
  bool tls_active() const;
  policy::SessionFacts facts() const;  // views into this session's strings
  policy::Decision decide_and_log();
  policy::Decision decide_recipient(std::string_view recipient);
  // Logs a decision and counts it (engine/metrics.h); `rcpt_domain`: a recipient
  // refused on its own.
  void log(Severity severity, const policy::Decision& d, std::string_view rcpt_domain = {});
  static Severity severity_of(const policy::Decision& d);

  std::shared_ptr<const policy::Policy> policy_;  // the snapshot taken at connect
  const policy::Rule* rule_;
  std::optional<policy::Address> client_;
  std::string client_text_;
  DecisionSink sink_;
  bool macro_lists_taken_;
  std::string mta_name_;  // the `v` macro
  Macros macros_;
  // The client certificate as the MTA's kind reports it (CNs, decoded), after each read.
  std::string cert_subject_, cert_issuer_;
  bool cert_verified_ = false;
  policy::AuthHistory auth_history_;
  std::string queue_id_;
  std::string id_;  // unique across processes and restarts: "PROCESS.SESSION"
  unsigned transactions_ = 0;
  std::string transaction_;  // id_ + "." + the transaction's number
  // This transaction's last decision and the macros it was made on.
  std::optional<std::pair<Macros, policy::Decision>> decided_;
  // This transaction's envelope: the sender's domain (Kind::none: not given), the
  // partners it brings in, the rules MAIL decides on (the source's, then partners),
  // and the partners that applied to a recipient that was not refused.
  policy::EnvelopeDomain sender_;
  policy::SenderPartners sender_partners_;
  std::vector<const policy::Rule*> mail_rules_;
  std::vector<const policy::Rule*> recipient_partners_;
  bool exposure_counted_ = false;  // a session's exposed password counts once
};

}  // namespace tlsgate::engine
