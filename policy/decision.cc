#include "policy/decision.h"

#include <array>

#include "policy/netblock_table.h"

namespace tlsgate::policy {
namespace {

// What each reason answers, and its name in logs.
struct ReasonEntry {
  Reason reason;
  std::string_view name;
  int reject_code;
  std::string_view reject_status;
  int tempfail_code;
  std::string_view tempfail_status;
  std::string_view text;
};

// RFC 3207 (530 5.7.0 for a missing STARTTLS), RFC 4954 (5.7.10 encryption
// needed for the mechanism), RFC 3463/5248 (5.7.0 security policy).
constexpr std::array<ReasonEntry, 8> kReasons{{
    // A partner's sender domain from elsewhere: RFC 3463 X.7.1, delivery not authorized.
    {Reason::partner_network, "partner_network", 550, "5.7.1", 450, "4.7.1",
     "Mail from this sender domain is not accepted from this network"},
    {Reason::plaintext_auth, "plaintext_auth", 530, "5.7.10", 450, "4.7.10",
     "Encryption needed for PLAIN/LOGIN authentication"},
    {Reason::auth_before_starttls, "auth_before_starttls", 530, "5.7.10", 450, "4.7.10",
     "Encryption needed: authenticate after STARTTLS"},
    {Reason::starttls_required, "starttls_required", 530, "5.7.0", 450, "4.7.0",
     "Must issue a STARTTLS command first"},
    {Reason::tls_version_too_low, "tls_version_too_low", 554, "5.7.0", 454, "4.7.0",
     "TLS protocol or cipher not accepted"},
    {Reason::cipher_too_weak, "cipher_too_weak", 554, "5.7.0", 454, "4.7.0",
     "TLS protocol or cipher not accepted"},
    {Reason::cipher_not_allowed, "cipher_not_allowed", 554, "5.7.0", 454, "4.7.0",
     "TLS protocol or cipher not accepted"},
    {Reason::client_cert_required, "client_cert_required", 530, "5.7.0", 450, "4.7.0",
     "A trusted client certificate is required"},
}};

const ReasonEntry* entry_for(Reason r) {
  for (const ReasonEntry& entry : kReasons) {
    if (entry.reason == r) return &entry;
  }
  return nullptr;
}

bool cipher_allowed(const Rule& rule, const SessionFacts& f) {
  if (!f.tls_version) {
    // parse_facts never gives TLS without a version; facts made by hand might:
    // without a known version no list can be shown to apply, so any list refuses.
    return !rule.ciphers && !rule.tls13_ciphersuites;
  }
  const auto& allowed =
      *f.tls_version == TlsVersion::tls1_3 ? rule.tls13_ciphersuites : rule.ciphers;
  return !allowed || allowed->contains(f.cipher);
}

bool cert_acceptable(const Rule& rule, const SessionFacts& f) {
  return f.tls_active && f.cert_verified &&
         (rule.client_cert_issuer.empty() || f.cert_issuer == rule.client_cert_issuer) &&
         (rule.client_cert_subject.empty() || f.cert_subject == rule.client_cert_subject);
}

// A partner's networks, where they are set: an unknown client is outside them.
bool from_partner_network(const Rule& rule, const SessionFacts& f) {
  return !rule.partner_networks ||
         (f.client && rule.partner_networks->lookup(*f.client) != NetblockTable::kNone);
}

Reason first_failure(const Rule& rule, const SessionFacts& f) {
  if (!from_partner_network(rule, f)) return Reason::partner_network;
  const bool authenticated = !f.auth_mechanism.empty();
  const bool auth_in_clear = authenticated && (!f.tls_active || f.auth_before_tls);
  if (auth_in_clear && sends_secret(f.auth_mechanism) && !rule.allow_unencrypted_plain_auth) {
    return Reason::plaintext_auth;
  }
  if (auth_in_clear && rule.require_starttls_before_auth) {
    return Reason::auth_before_starttls;
  }
  if (rule.require_starttls && !f.tls_active) return Reason::starttls_required;
  if (!f.tls_active) {
    return rule.require_client_cert ? Reason::client_cert_required : Reason::none;
  }
  if (rule.min_tls_version && (!f.tls_version || *f.tls_version < *rule.min_tls_version)) {
    return Reason::tls_version_too_low;
  }
  if (rule.min_cipher_bits > 0 && (!f.cipher_bits || *f.cipher_bits < rule.min_cipher_bits)) {
    return Reason::cipher_too_weak;
  }
  if (!cipher_allowed(rule, f)) return Reason::cipher_not_allowed;
  if (rule.require_client_cert && !cert_acceptable(rule, f)) return Reason::client_cert_required;
  return Reason::none;
}

}  // namespace

Decision decide(std::span<const Rule* const> rules, const SessionFacts& facts) {
  Decision d;
  const bool auth_in_clear = !facts.tls_active || facts.auth_before_tls;
  d.credentials_exposed =
      (auth_in_clear && sends_secret(facts.auth_mechanism)) || facts.secret_sent_in_clear_earlier;
  for (const Rule* rule : rules) {
    if (!rule->partner.empty()) d.partners.push_back(rule->partner);
  }
  for (const Rule* rule : rules) {
    const Reason reason = first_failure(*rule, facts);
    const ReasonEntry* reply = entry_for(reason);
    if (reply == nullptr) continue;
    const bool monitor = rule->mode == Mode::monitor;
    if (monitor && d.would_reject) continue;  // an earlier would-reject stands
    const bool tempfail = rule->action == Action::tempfail;
    d.reason = reason;
    d.smtp_code = tempfail ? reply->tempfail_code : reply->reject_code;
    d.status_code = tempfail ? reply->tempfail_status : reply->reject_status;
    d.text = reply->text;
    d.partner = rule->partner;
    d.would_reject = monitor;
    if (!monitor) {
      d.verdict = tempfail ? Verdict::tempfail : Verdict::reject;
      return d;
    }
  }
  return d;
}

std::string_view reason_name(Reason r) {
  const ReasonEntry* entry = entry_for(r);
  return entry == nullptr ? "none" : entry->name;
}

std::string_view action_name(const Decision& d) {
  if (d.would_reject) return "would-reject";
  switch (d.verdict) {
    case Verdict::accept: return "accept";
    case Verdict::reject: return "reject";
    case Verdict::tempfail: return "tempfail";
  }
  return "tempfail";
}

}  // namespace tlsgate::policy
