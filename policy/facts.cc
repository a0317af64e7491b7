#include "policy/facts.h"

#include <strings.h>

namespace tlsgate::policy {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

bool is_plaintext_mechanism(std::string_view mechanism) {
  return iequals(mechanism, "PLAIN") || iequals(mechanism, "LOGIN");
}

void AuthHistory::observe(Stage stage, bool tls_active, bool authenticated) {
  if (!authenticated) {
    auth_before_tls_ = false;
  } else if (!tls_active || (stage == Stage::helo && !tls_seen_)) {
    auth_before_tls_ = true;
  }
  tls_seen_ = tls_seen_ || tls_active;
}

std::string xtext_decode(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

SessionFacts facts_from_macros(const MacroValues& m, bool cert_verified_by_mta) {
  SessionFacts f;
  f.tls_active = !m.tls_version.empty() || !m.cipher.empty() || !m.cipher_bits.empty();
  if (f.tls_active) {
    f.tls_version = parse_tls_version(m.tls_version);
    f.cipher = m.cipher;
    f.cipher_bits = parse_cipher_bits(m.cipher_bits);
    f.cert_subject = m.cert_subject;
    f.cert_issuer = m.cert_issuer;
    const bool has_cert = !m.cert_subject.empty() || !m.cert_issuer.empty();
    f.cert_verified = has_cert && (cert_verified_by_mta || m.verify == "OK");
  }
  f.auth_mechanism = m.auth_type;
  return f;
}

}  // namespace tlsgate::policy
