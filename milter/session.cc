#include "milter/session.h"

#include "policy/tls.h"

namespace tlsgate::milter {
namespace {

std::string get_or_empty(const MacroGetter& get, const char* name) {
  const char* v = get(name);
  return v == nullptr ? std::string() : std::string(v);
}

}  // namespace

Session::Session(std::shared_ptr<const policy::Policy> policy,
                 std::optional<policy::Address> client, DecisionSink sink)
    : policy_(std::move(policy)),
      rule_(&policy_->rule_for(client)),
      client_text_(client ? client->to_string() : "unknown"),
      sink_(std::move(sink)) {}

void Session::on_connect_macros(const MacroGetter& get) {
  // Postfix sends {cert_subject}/{cert_issuer} only for a certificate it
  // verified; Sendmail sends them always and says in {verify}.
  mta_is_postfix_ = get_or_empty(get, "v").starts_with("Postfix");
}

void Session::read_tls_macros(const MacroGetter& get) {
  macros_.tls_version = get_or_empty(get, "{tls_version}");
  macros_.cipher = get_or_empty(get, "{cipher}");
  macros_.cipher_bits = get_or_empty(get, "{cipher_bits}");
  if (mta_is_postfix_) {
    macros_.cert_subject = get_or_empty(get, "{cert_subject}");
    macros_.cert_issuer = get_or_empty(get, "{cert_issuer}");
  } else {
    // Sendmail: the CNs, as Postfix gives them, so that one client_cert_issuer
    // and one log line serve both MTAs; xtext-encoded ("tlsgate+20test+20CA").
    // {cert_subject}/{cert_issuer} hold the full DNs ("/O=.../CN=...").
    macros_.cert_subject = policy::xtext_decode(get_or_empty(get, "{cn_subject}"));
    macros_.cert_issuer = policy::xtext_decode(get_or_empty(get, "{cn_issuer}"));
  }
  macros_.verify = get_or_empty(get, "{verify}");
}

void Session::observe_auth(policy::AuthHistory::Stage stage) {
  // Postfix forgets an AUTH at STARTTLS: what it reports is current.
  if (mta_is_postfix_) return;
  auth_history_.observe(stage, facts().tls_active, !macros_.auth_type.empty());
}

void Session::on_tls_macros(const MacroGetter& get) {
  read_tls_macros(get);
  macros_.auth_type = get_or_empty(get, "{auth_type}");
  observe_auth(policy::AuthHistory::Stage::helo);
}

void Session::on_mail_macros(const MacroGetter& get) {
  read_tls_macros(get);
  macros_.auth_type = get_or_empty(get, "{auth_type}");
  macros_.auth_authen = get_or_empty(get, "{auth_authen}");
  if (const char* id = get("{i}")) queue_id_ = id;
  observe_auth(policy::AuthHistory::Stage::mail);
}

void Session::on_eom_macros(const MacroGetter& get) {
  if (const char* id = get("{i}")) queue_id_ = id;
}

policy::SessionFacts Session::facts() const {
  const policy::MacroValues m{macros_.tls_version,  macros_.cipher,      macros_.cipher_bits,
                              macros_.cert_subject, macros_.cert_issuer, macros_.verify,
                              macros_.auth_type};
  policy::SessionFacts f = policy::facts_from_macros(m, mta_is_postfix_);
  f.auth_before_tls = auth_history_.auth_before_tls();
  return f;
}

LogRecord Session::record(const policy::Decision& d, const std::string& reply) const {
  const policy::SessionFacts f = facts();
  LogRecord r;
  r.queue_id = queue_id_;
  r.action = policy::action_name(d);
  r.reason = d.refused() ? policy::reason_name(d.reason) : std::string_view();
  r.client = client_text_;
  r.source = rule_->source;
  r.tls = !f.tls_active   ? "none"
          : f.tls_version ? policy::tls_version_name(*f.tls_version)
                          : "unknown";
  r.cipher = macros_.cipher;
  r.bits = macros_.cipher_bits;
  r.auth = macros_.auth_type;
  r.auth_user = macros_.auth_type.empty() ? std::string_view() : macros_.auth_authen;
  if (f.cert_verified) {
    r.cert_subject = macros_.cert_subject;
    r.cert_issuer = macros_.cert_issuer;
  }
  r.reply = reply;
  r.credentials_exposed = d.credentials_exposed;
  return r;
}

Outcome Session::decide_and_log() {
  const policy::Decision d = policy::decide(*rule_, facts());
  last_decision_ = d;
  decided_on_ = macros_;
  if (!d.refused() || d.would_reject) {
    transaction_accepted_ = true;
    // An accepted message is logged at EOM, with its queue id; a would-reject now.
    if (d.would_reject) sink_(Severity::warning, record(d, {}));
    return {};
  }
  transaction_accepted_ = false;
  Outcome o;
  o.step = d.verdict == policy::Verdict::tempfail ? Outcome::Step::tempfail : Outcome::Step::reject;
  o.code = std::to_string(d.smtp_code);
  o.status = std::string(d.status_code);
  o.text = std::string(d.text);
  // An exposed password is a warning whatever the verdict: it must be changed.
  sink_(d.credentials_exposed ? Severity::warning : Severity::notice,
        record(d, o.code + " " + o.status + " " + o.text));
  return o;
}

Outcome Session::on_mail() {
  decided_on_.reset();
  return decide_and_log();
}

Outcome Session::on_rcpt() {
  if (decided_on_ && *decided_on_ == macros_) return {};
  return decide_and_log();
}

void Session::on_eom() {
  if (!transaction_accepted_) return;
  policy::Decision accepted = last_decision_;
  accepted.would_reject = false;  // the message itself was accepted
  accepted.verdict = policy::Verdict::accept;
  accepted.reason = policy::Reason::none;
  sink_(accepted.credentials_exposed ? Severity::warning : Severity::info, record(accepted, {}));
  transaction_accepted_ = false;
  queue_id_.clear();
}

void Session::on_abort() {
  transaction_accepted_ = false;
  decided_on_.reset();
  queue_id_.clear();
}

}  // namespace tlsgate::milter
