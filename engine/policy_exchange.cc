#include "engine/policy_exchange.h"

#include <array>
#include <deque>
#include <stdexcept>

namespace tlsgate::engine {
namespace {

// The milter macro each policy attribute stands for, so that one Session reads both.
constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kMacroOf{{
    {"{tls_version}", "encryption_protocol"},
    {"{cipher}", "encryption_cipher"},
    {"{cipher_bits}", "encryption_keysize"},
    {"{cert_subject}", "ccert_subject"},
    {"{cert_issuer}", "ccert_issuer"},
    {"{auth_type}", "sasl_method"},
    {"{auth_authen}", "sasl_username"},
    {"{i}", "queue_id"},
}};

// What the MTA is: only Postfix speaks this protocol.
constexpr const char* kPostfix = "Postfix (policy service)";

// A MacroLookup over a request; the C strings it hands out live in `values` (a
// deque: adding one never moves the others).
MacroLookup macros_of(const PolicyRequest& request, std::deque<std::string>& values) {
  return [&request, &values](const char* name) -> const char* {
    const std::string_view macro(name);
    if (macro == "v") return kPostfix;
    for (const auto& [m, attribute] : kMacroOf) {
      if (m != macro) continue;
      const std::string_view v = request.get(attribute);
      if (v.empty()) return nullptr;  // Postfix's empty value: not known
      values.emplace_back(v);
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

Session& PolicyExchange::session_for(const PolicyRequest& request) {
  const std::string_view instance = request.get("instance");
  if (!session_ || instance != instance_) {
    auto policy = policy_();
    if (!policy) throw std::runtime_error("no policy loaded");
    session_ = std::make_unique<Session>(
        std::move(policy), policy::Address::from_macro(request.get("client_address")), sink_);
    instance_ = instance;
  }
  return *session_;
}

std::string PolicyExchange::answer(const PolicyRequest& request) {
  const Stage stage = stage_of(request.get("protocol_state"));
  if (stage == Stage::before_mail) return policy_answer("DUNNO");
  const bool first = !session_ || request.get("instance") != instance_;
  Session& s = session_for(request);
  std::deque<std::string> values;
  const MacroLookup macros = macros_of(request, values);
  if (stage == Stage::end_of_message) {
    if (first) s.at_mail(macros);  // no RCPT request came: judge the transaction now
    const policy::Decision d = s.at_end_of_message(macros);
    session_.reset();  // the transaction is over
    return answer_for(d);
  }
  return answer_for(first ? s.at_mail(macros) : s.at_rcpt(macros));
}

}  // namespace tlsgate::engine
