#include "engine/policy_exchange.h"

#include <array>
#include <deque>
#include <stdexcept>

namespace tlsgate::engine {
namespace {

// The milter macro each policy attribute stands for, so that one Session reads both.
struct Attribute {
  std::string_view macro;
  std::string_view name;
  bool tls_only;  // Postfix sends it without TLS too (encryption_keysize=0): not a fact then
  bool xtext;     // Postfix xtext-encodes it (ccert_issuer=Example+20CA)
};
constexpr std::array<Attribute, 8> kAttributes{{
    {"{tls_version}", "encryption_protocol", false, false},
    {"{cipher}", "encryption_cipher", true, false},
    {"{cipher_bits}", "encryption_keysize", true, false},
    {"{cert_subject}", "ccert_subject", true, true},
    {"{cert_issuer}", "ccert_issuer", true, true},
    {"{auth_type}", "sasl_method", false, false},
    {"{auth_authen}", "sasl_username", false, false},
    {"{i}", "queue_id", false, false},
}};

// What the MTA is: only Postfix speaks this protocol.
constexpr const char* kPostfix = "Postfix (policy service)";

// A MacroLookup over a request; the C strings it hands out live in `values` (a
// deque: adding one never moves the others).
MacroLookup macros_of(const PolicyRequest& request, std::deque<std::string>& values) {
  return [&request, &values](const char* name) -> const char* {
    const std::string_view macro(name);
    if (macro == "v") return kPostfix;
    const bool tls = !request.get("encryption_protocol").empty();
    for (const Attribute& a : kAttributes) {
      if (a.macro != macro) continue;
      const std::string_view v = request.get(a.name);
      if (v.empty() || (a.tls_only && !tls)) return nullptr;  // Postfix's empty value: not known
      values.push_back(a.xtext ? policy::xtext_decode(v) : std::string(v));
      return values.back().c_str();
    }
    return nullptr;
  };
}

enum class Stage { before_mail, transaction, end_of_message };

Stage stage_of(std::string_view protocol_state) {
  if (protocol_state == "CONNECT" || protocol_state == "EHLO" || protocol_state == "HELO") {
    return Stage::before_mail;
  }
  if (protocol_state == "END-OF-MESSAGE") return Stage::end_of_message;
  return Stage::transaction;  // MAIL, RCPT, DATA, and whatever else: judged
}

std::string answer_for(const policy::Decision& d) {
  if (d.verdict == policy::Verdict::accept) return policy_answer("DUNNO");
  return policy_answer(std::to_string(d.smtp_code) + " " + std::string(d.status_code) + " " +
                       std::string(d.text));
}

}  // namespace

bool PolicyExchange::same_transaction(const PolicyRequest& request) const {
  // Postfix never changes the client within a transaction; should a request do so,
  // it is a new one, judged afresh.
  return session_ && request.get("instance") == instance_ &&
         request.get("client_address") == client_;
}

Session& PolicyExchange::session_for(const PolicyRequest& request) {
  if (!same_transaction(request)) {
    auto policy = policy_();
    if (!policy) throw std::runtime_error("no policy loaded");
    session_ = std::make_unique<Session>(
        std::move(policy), policy::Address::from_macro(request.get("client_address")), sink_);
    instance_ = request.get("instance");
    client_ = request.get("client_address");
  }
  return *session_;
}

std::string PolicyExchange::answer(const PolicyRequest& request) {
  const Stage stage = stage_of(request.get("protocol_state"));
  if (stage == Stage::before_mail) return policy_answer("DUNNO");
  const bool first = !same_transaction(request);
  Session& s = session_for(request);
  std::deque<std::string> values;
  const MacroLookup macros = macros_of(request, values);
  if (stage == Stage::end_of_message) {
    // No RCPT request came: judge the transaction now. Else the facts as they are
    // now (the same as at RCPT, from Postfix: then nothing is decided again).
    if (first) {
      s.at_mail(macros, request.find("sender"));
    } else {
      s.at_rcpt(macros);
    }
    const policy::Decision d = s.at_end_of_message(macros);
    session_.reset();  // the transaction is over
    return answer_for(d);
  }
  // RCPT: the transaction (source and sender partners) once, then this recipient's
  // partners; a refusal of the transaction answers every recipient.
  if (first) {
    const policy::Decision d = s.at_mail(macros, request.find("sender"));
    if (d.verdict != policy::Verdict::accept) return answer_for(d);
  }
  return answer_for(s.at_rcpt(macros, request.find("recipient")));
}

}  // namespace tlsgate::engine
