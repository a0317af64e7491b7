#include "engine/session.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <functional>

#include "engine/metrics.h"
#include "policy/tls.h"

namespace tlsgate::engine {
namespace {

std::string value_of(const MacroLookup& macros, const char* name) {
  const char* v = macros(name);
  return v == nullptr ? std::string() : std::string(v);
}

std::optional<std::string> optional_value_of(const MacroLookup& macros, const char* name) {
  const char* v = macros(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

// "PROCESS.SESSION": the process by its start time and pid (hex), so that rows of
// several processes and hosts' files do not collide, then a counter.
std::string new_session_id() {
  static const std::string process = [] {
    char text[40];
    std::snprintf(text, sizeof text, "%lx%x", static_cast<unsigned long>(std::time(nullptr)),
                  static_cast<unsigned>(getpid()));
    return std::string(text);
  }();
  static std::atomic<std::uint64_t> sessions{0};
  return process + "." + std::to_string(++sessions);
}

}  // namespace

Session::Session(std::shared_ptr<const policy::Policy> policy,
                 std::optional<policy::Address> client, DecisionSink sink, bool macro_lists_taken)
    : policy_(std::move(policy)),
      rule_(&policy_->rule_for(client)),
      client_(client),
      client_text_(client ? client->to_string() : "unknown"),
      sink_(std::move(sink)),
      macro_lists_taken_(macro_lists_taken),
      id_(new_session_id()) {}

void Session::begin_transaction() { transaction_ = id_ + "." + std::to_string(++transactions_); }

bool Session::tls_active() const {
  return policy::parse_tls_version(macros_.tls_version).has_value();
}

policy::Mta Session::mta() const {
  const policy::Mta configured = policy_->milter().mta;
  if (configured != policy::Mta::automatic) return configured;
  // Under TLS Sendmail always has {verify}; Postfix never sends it. Otherwise the
  // name in `v` (Postfix's default milter_macro_v); anything else is taken for
  // Sendmail, the stricter reading (a certificate needs {verify}=OK).
  if (macro_lists_taken_ && tls_active()) {
    return macros_.verify ? policy::Mta::sendmail : policy::Mta::postfix;
  }
  return mta_name_.starts_with("Postfix") ? policy::Mta::postfix : policy::Mta::sendmail;
}

std::string Session::mta_evidence() const {
  if (policy_->milter().mta != policy::Mta::automatic) return "[milter] mta";
  if (macro_lists_taken_ && tls_active()) {
    return macros_.verify ? "{verify} sent under TLS" : "no {verify} under TLS";
  }
  return "v=\"" + mta_name_ + "\"";
}

void Session::set_client(std::optional<policy::Address> client) {
  rule_ = &policy_->rule_for(client);
  client_ = client;  // a partner's networks are checked against it
  client_text_ = client ? client->to_string() : "unknown";
}

void Session::read_mta_name(const MacroLookup& macros) {
  if (const char* v = macros("v"); v != nullptr && *v != '\0') mta_name_ = v;
}

void Session::at_connect(const MacroLookup& macros) { read_mta_name(macros); }

void Session::read_tls_macros(const MacroLookup& macros) {
  macros_.tls_version = value_of(macros, "{tls_version}");
  macros_.cipher = value_of(macros, "{cipher}");
  macros_.cipher_bits = value_of(macros, "{cipher_bits}");
  macros_.cert_subject = value_of(macros, "{cert_subject}");
  macros_.cert_issuer = value_of(macros, "{cert_issuer}");
  macros_.cn_subject = value_of(macros, "{cn_subject}");
  macros_.cn_issuer = value_of(macros, "{cn_issuer}");
  macros_.verify = optional_value_of(macros, "{verify}");
  if (mta() == policy::Mta::postfix) {
    // Postfix sends the CNs, and only for a certificate it verified.
    cert_subject_ = macros_.cert_subject;
    cert_issuer_ = macros_.cert_issuer;
    cert_verified_ = true;
  } else {
    // Sendmail: the CNs, as Postfix gives them, so that one client_cert_issuer and
    // one log line serve both MTAs; xtext-encoded ("tlsgate+20test+20CA"). Sendmail
    // sends them for any certificate and says in {verify} whether it verified it.
    cert_subject_ = policy::xtext_decode(macros_.cn_subject);
    cert_issuer_ = policy::xtext_decode(macros_.cn_issuer);
    cert_verified_ = macros_.verify == "OK";
  }
}

void Session::at_helo(const MacroLookup& macros) {
  read_mta_name(macros);
  read_tls_macros(macros);
  // HELO's {auth_type} is this stage's own: the connect stage has none to fall back on.
  macros_.auth_type = value_of(macros, "{auth_type}");
  macros_.auth_authen.clear();
  auth_history_.at_helo(tls_active(), macros_.auth_type);
}

void Session::read_transaction_macros(const MacroLookup& macros) {
  read_mta_name(macros);
  read_tls_macros(macros);
  // libmilter answers a macro the MAIL stage lacks with the HELO stage's value: an
  // {auth_type} from a plaintext EHLO that Postfix forgot at STARTTLS would pass for
  // a current AUTH. {auth_authen} is asked for at MAIL only, so an {auth_type}
  // counts only beside it.
  macros_.auth_authen = value_of(macros, "{auth_authen}");
  macros_.auth_type = macros_.auth_authen.empty() ? std::string() : value_of(macros, "{auth_type}");
  if (const char* id = macros("{i}")) queue_id_ = id;
  auth_history_.at_mail(tls_active(), macros_.auth_type);
}

policy::SessionFacts Session::facts() const {
  policy::FactText text;
  text.tls_version = macros_.tls_version;
  text.cipher = macros_.cipher;
  text.cipher_bits = macros_.cipher_bits;
  text.cert_subject = cert_subject_;
  text.cert_issuer = cert_issuer_;
  text.cert_verified = cert_verified_;
  text.auth_type = macros_.auth_type;
  policy::SessionFacts f = policy::parse_facts(text);
  // Postfix forgets an AUTH at STARTTLS: what it reports is current.
  f.auth_before_tls = mta() != policy::Mta::postfix && auth_history_.auth_before_tls();
  f.secret_sent_in_clear_earlier = auth_history_.secret_sent_in_clear();
  f.client = client_;
  return f;
}

Severity Session::severity_of(const policy::Decision& d) {
  // An exposed password is a warning whatever the verdict: it must be changed.
  if (d.would_reject || d.credentials_exposed) return Severity::warning;
  return d.refused() ? Severity::notice : Severity::info;
}

void Session::log(Severity severity, const policy::Decision& d, std::string_view rcpt_domain) {
  const policy::SessionFacts f = facts();
  LogRecord r;
  r.queue_id = queue_id_;
  r.action = policy::action_name(d);
  r.reason = d.refused() ? policy::reason_name(d.reason) : std::string_view();
  r.client = client_text_;
  r.source = rule_->source;
  // A refusal names the partner that made it; an accept every one that applied.
  std::string partners;
  for (const std::string_view p : d.partners) {
    partners += (partners.empty() ? "" : ",") + std::string(p);
  }
  r.partner = d.refused() ? d.partner : std::string_view(partners);
  r.sender_domain = sender_.log_text();
  r.rcpt_domain = rcpt_domain;
  r.tls = f.tls_version ? policy::tls_version_name(*f.tls_version) : f.tls_reported;
  r.cipher = macros_.cipher;
  r.bits = macros_.cipher_bits;
  r.auth = macros_.auth_type;
  r.auth_user = macros_.auth_type.empty() ? std::string_view() : macros_.auth_authen;
  if (f.cert_verified) {
    r.cert_subject = f.cert_subject;
    r.cert_issuer = f.cert_issuer;
  }
  std::string reply;
  if (d.verdict != policy::Verdict::accept) {
    reply =
        std::to_string(d.smtp_code) + " " + std::string(d.status_code) + " " + std::string(d.text);
  }
  r.reply = reply;
  r.credentials_exposed = d.credentials_exposed;
  r.transaction = transaction_;
  r.auth_before_tls = f.auth_before_tls;
  sink_(severity, r);
  metrics().count_decision(rule_->source, r.partner, d, f.tls_version);
  if (d.credentials_exposed && !exposure_counted_) {
    exposure_counted_ = true;
    metrics().count_credentials_exposed(rule_->source);
  }
}

// The transaction's decision: the source's rule and the sender's partners. A
// would-reject is logged now, the message itself at end of message.
policy::Decision Session::decide_and_log() {
  if (mail_rules_.empty()) mail_rules_.push_back(rule_);
  const policy::Decision d = policy::decide(mail_rules_, facts());
  decided_ = {macros_, d};
  if (d.refused()) log(severity_of(d), d);
  return d;
}

// One recipient's partners; the transaction's decision has let it through.
policy::Decision Session::decide_recipient(std::string_view recipient) {
  const policy::EnvelopeDomain domain = policy::envelope_domain(recipient);
  const std::vector<const policy::Rule*> partners =
      policy_->partners_for_recipient(domain, sender_partners_);
  if (partners.empty()) return {};
  const policy::Decision d = policy::decide(partners, facts());
  if (d.refused()) log(severity_of(d), d, domain.log_text());
  if (!d.refused() || d.would_reject) {  // the message goes to this recipient
    recipient_partners_.insert(recipient_partners_.end(), partners.begin(), partners.end());
  }
  return d;
}

policy::Decision Session::at_mail(const MacroLookup& macros,
                                  std::optional<std::string_view> sender) {
  begin_transaction();
  read_transaction_macros(macros);
  sender_ = sender ? policy::envelope_domain(*sender) : policy::EnvelopeDomain{};
  sender_partners_ = policy_->partners_for_sender(sender_);
  mail_rules_.assign(1, rule_);
  mail_rules_.insert(mail_rules_.end(), sender_partners_.for_transaction.begin(),
                     sender_partners_.for_transaction.end());
  recipient_partners_.clear();
  return decide_and_log();
}

policy::Decision Session::at_rcpt(const MacroLookup& macros,
                                  std::optional<std::string_view> recipient) {
  read_transaction_macros(macros);
  const policy::Decision transaction =
      decided_ && decided_->first == macros_ ? decided_->second : decide_and_log();
  if (!recipient || (transaction.refused() && !transaction.would_reject)) return transaction;
  const policy::Decision d = decide_recipient(*recipient);
  return d.refused() ? d : transaction;
}

policy::Decision Session::at_end_of_message(const MacroLookup& macros) {
  if (const char* id = macros("{i}")) queue_id_ = id;
  if (!decided_) {  // no MAIL seen: judge the message on what is known
    begin_transaction();
    decide_and_log();
  }
  const policy::Decision d = decided_->second;
  if (d.refused() && !d.would_reject) return d;  // an MTA that went on after a refusal
  policy::Decision accepted = d;
  accepted.would_reject = false;  // the message itself was accepted
  accepted.verdict = policy::Verdict::accept;
  accepted.reason = policy::Reason::none;
  // Every partner that applied, the sender's and the recipients', in file order
  // (the partners are one array of the policy).
  std::vector<const policy::Rule*> applied = recipient_partners_;
  for (const policy::Rule* r : mail_rules_) {
    if (!r->partner.empty()) applied.push_back(r);
  }
  std::sort(applied.begin(), applied.end(), std::less<>());
  applied.erase(std::unique(applied.begin(), applied.end()), applied.end());
  accepted.partners.clear();
  for (const policy::Rule* r : applied) accepted.partners.push_back(r->partner);
  log(severity_of(accepted), accepted);
  at_abort();
  return accepted;
}

void Session::at_abort() {
  decided_.reset();
  queue_id_.clear();
  sender_ = {};
  sender_partners_ = {};
  mail_rules_.clear();
  recipient_partners_.clear();
}

}  // namespace tlsgate::engine
