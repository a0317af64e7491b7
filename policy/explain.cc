#include "policy/explain.h"

#include <algorithm>
#include <sstream>

#include "policy/decision.h"
#include "policy/schema.h"

namespace tlsgate::policy {
namespace {

std::string origin_text(const Origin& o) {
  if (o.section.empty()) return "built-in default";
  return "[" + o.section + "] " + o.file + ":" + std::to_string(o.line);
}

std::string value_text(const ResolvedSetting& s) {
  if (s.value.text.empty()) return "(none)";
  std::string text = s.value.text;
  if (const auto* set = std::get_if<std::shared_ptr<const CipherSet>>(&s.value.typed)) {
    text += " (" + std::to_string((*set)->size()) + " ciphers)";
  }
  return text;
}

std::string or_none(std::string_view v) { return v.empty() ? "none" : std::string(v); }

void print_settings(std::ostream& out, const std::vector<ResolvedSetting>& settings) {
  std::size_t width = 0;
  for (const auto& s : settings) width = std::max(width, s.key->name.size());
  for (const auto& s : settings) {
    out << "  " << s.key->name << std::string(width - s.key->name.size(), ' ') << " = "
        << value_text(s) << "  ; from " << origin_text(s.origin) << "\n";
  }
}

// "decision: action=... reason=..." (`label`: "decision" or "recipient decision"),
// then the reply.
void print_decision(std::ostream& out, std::string_view label, const Decision& d) {
  out << label << ": action=" << action_name(d) << " reason=" << reason_name(d.reason);
  if (!d.partner.empty()) out << " partner=" << d.partner;
  if (d.credentials_exposed) out << " credentials_exposed=yes";
  out << "\n";
  if (d.refused()) {
    out << "reply: " << d.smtp_code << " " << d.status_code << " " << d.text
        << (d.would_reject ? " (monitor mode: logged, not sent)" : "") << "\n";
  } else {
    out << "reply: none (the session continues)\n";
  }
}

// The key that set `list` in the partner: its name comes from the schema, through
// the partner's settings.
std::string key_of(const Rule& partner, const std::shared_ptr<const DomainList>& list) {
  for (const ResolvedSetting& s : partner.settings) {
    const auto* set = std::get_if<std::shared_ptr<const DomainList>>(&s.value.typed);
    if (set != nullptr && *set == list) return std::string(s.key->name);
  }
  return "?";
}

// "KEY: PATTERN matches": the first of the list's patterns that matches the domain.
std::string matching(const Rule& partner, const std::shared_ptr<const DomainList>& list,
                     const EnvelopeDomain& d) {
  const auto p = std::find_if(list->patterns.begin(), list->patterns.end(),
                              [&](const DomainPattern& p) { return p.matches(d.domain); });
  return key_of(partner, list) + ": " + (p == list->patterns.end() ? "?" : p->to_string()) +
         " matches";
}

// A partner that applies: why, and what it sets.
void print_partner(std::ostream& out, const Rule& p, std::string_view why) {
  out << "partner=" << p.partner << " (" << why << ")\n";
  print_settings(out, p.settings);
  out << "  (a key it does not set imposes nothing)\n";
}

void print_envelope(std::ostream& out, const Policy& policy, const Rule& source,
                    const SessionFacts& facts, const ExplainEnvelope& envelope) {
  const EnvelopeDomain sender =
      envelope.sender ? envelope_domain(*envelope.sender) : EnvelopeDomain{};
  if (envelope.sender) {
    out << "sender: " << *envelope.sender << " -> sender_domain=" << sender.log_text() << "\n";
  }
  const SenderPartners partners = policy.partners_for_sender(sender);
  std::vector<const Rule*> rules{&source};
  for (const Rule* p : partners.for_transaction) {
    print_partner(
        out, *p, matching(*p, p->sender_domains, sender) + "; it applies to the whole transaction");
    rules.push_back(p);
  }
  for (const Rule* p : partners.for_recipients) {
    out << "partner=" << p->partner << " (" << matching(*p, p->sender_domains, sender)
        << "; it applies to each recipient its " << key_of(*p, p->recipient_domains) << " match)\n";
  }
  if (envelope.sender && partners.for_transaction.empty() && partners.for_recipients.empty()) {
    out << "partners: none applies to this sender\n";
  }
  const Decision mail = decide(rules, facts);
  print_decision(out, "decision", mail);
  for (const std::string& address : envelope.recipients) {
    const EnvelopeDomain recipient = envelope_domain(address);
    out << "recipient: " << address << " -> rcpt_domain=" << recipient.log_text() << "\n";
    if (mail.refused() && !mail.would_reject) {
      out << "  not reached: the transaction is refused at MAIL\n";
      continue;
    }
    const std::vector<const Rule*> applying = policy.partners_for_recipient(recipient, partners);
    if (applying.empty()) {
      out << "partners: none applies to this recipient\n";
      continue;
    }
    for (const Rule* p : applying) {
      print_partner(
          out, *p,
          matching(*p, p->recipient_domains, recipient) + "; it applies to this recipient only");
    }
    print_decision(out, "recipient decision", decide(applying, facts));
  }
}

}  // namespace

std::string explain(const Policy& policy, const std::optional<Address>& client,
                    const SessionFacts& session, const ExplainEnvelope& envelope) {
  SessionFacts facts = session;
  facts.client = client;
  const Rule& rule = policy.rule_for(client);
  std::ostringstream out;
  out << "source=" << rule.source << "\n";
  out << "client: " << (client ? client->to_string() : "unknown") << "\n";
  std::optional<NetblockOrigin> netblock;
  if (client) netblock = policy.matched_netblock(*client);
  out << "netblock: "
      << (netblock ? netblock->prefix.to_string() + " [source " + netblock->section + "]"
                   : std::string("none (no listed netblock contains the client)"))
      << "\n";

  out << "inherits:";
  for (std::size_t i = 0; i < rule.chain.size(); ++i) {
    out << (i == 0 ? " " : " -> ") << "[source " << rule.chain[i] << "]";
  }
  if (rule.chain.back() != "default") out << " -> [source default]";
  out << " -> built-in defaults\n";

  out << "rules:\n";
  print_settings(out, rule.settings);

  out << "session: tls="
      << (facts.tls_version ? std::string(tls_version_name(*facts.tls_version))
                            : std::string("none"));
  if (!facts.tls_version && !facts.tls_reported.empty() && facts.tls_reported != "none") {
    out << " (\"" << facts.tls_reported << "\" is not a TLS version: judged as no TLS)";
  }
  out << " cipher=" << or_none(facts.cipher) << " bits="
      << (facts.cipher_bits  ? std::to_string(*facts.cipher_bits)
          : facts.tls_active ? std::string("unknown")
                             : std::string("none"))
      << " auth=" << or_none(facts.auth_mechanism)
      << " cert=" << (facts.cert_verified ? "verified" : "none") << "\n";

  if (envelope.sender || !envelope.recipients.empty()) {
    print_envelope(out, policy, rule, facts, envelope);
  } else {
    print_decision(out, "decision", decide(rule, facts));
  }
  return out.str();
}

}  // namespace tlsgate::policy
