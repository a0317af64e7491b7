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

}  // namespace

std::string explain(const Policy& policy, const std::optional<Address>& client,
                    const SessionFacts& facts) {
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
  std::size_t width = 0;
  for (const auto& s : rule.settings) width = std::max(width, s.key->name.size());
  for (const auto& s : rule.settings) {
    out << "  " << s.key->name << std::string(width - s.key->name.size(), ' ') << " = "
        << value_text(s) << "  ; from " << origin_text(s.origin) << "\n";
  }

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

  const Decision d = decide(rule, facts);
  out << "decision: action=" << action_name(d) << " reason=" << reason_name(d.reason);
  if (d.credentials_exposed) out << " credentials_exposed=yes";
  out << "\n";
  if (d.refused()) {
    out << "reply: " << d.smtp_code << " " << d.status_code << " " << d.text
        << (d.would_reject ? " (monitor mode: logged, not sent)" : "") << "\n";
  } else {
    out << "reply: none (the session continues)\n";
  }
  return out.str();
}

}  // namespace tlsgate::policy
