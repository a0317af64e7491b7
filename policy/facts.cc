#include "policy/facts.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace tlsgate::policy {

std::string mechanism_family(std::string_view mechanism) {
  std::string family(mechanism);
  std::transform(family.begin(), family.end(), family.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  // Every "-PLUS": one more than Cyrus strips errs on the side of a refusal.
  while (family.size() > 5 && family.ends_with("-PLUS")) family.resize(family.size() - 5);
  return family;
}

bool sends_secret(std::string_view mechanism) {
  static constexpr std::array<std::string_view, 4> kSecretBearing{"PLAIN", "LOGIN", "XOAUTH2",
                                                                  "OAUTHBEARER"};
  const std::string family = mechanism_family(mechanism);
  return std::find(kSecretBearing.begin(), kSecretBearing.end(), family) != kSecretBearing.end();
}

void AuthHistory::observe(bool tls_active, std::string_view auth_type, bool helo) {
  if (auth_type.empty()) {
    auth_before_tls_ = false;
  } else if (!tls_active || !tls_helo_seen_) {
    auth_before_tls_ = true;
  }
  if (!auth_type.empty() && !tls_active && sends_secret(auth_type)) secret_sent_in_clear_ = true;
  if (helo && tls_active) tls_helo_seen_ = true;
}

void AuthHistory::at_helo(bool tls_active, std::string_view auth_type) {
  observe(tls_active, auth_type, true);
}

void AuthHistory::at_mail(bool tls_active, std::string_view auth_type) {
  observe(tls_active, auth_type, false);
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

SessionFacts parse_facts(const FactText& t) {
  SessionFacts f;
  f.tls_reported = t.tls_version;
  f.tls_version = parse_tls_version(t.tls_version);
  f.tls_active = f.tls_version.has_value();
  f.cipher = t.cipher;
  f.cipher_bits = parse_cipher_bits(t.cipher_bits);
  if (f.tls_active) {
    f.cert_subject = t.cert_subject;
    f.cert_issuer = t.cert_issuer;
    const bool has_cert = !t.cert_subject.empty() || !t.cert_issuer.empty();
    f.cert_verified = has_cert && t.cert_verified;
  }
  f.auth_mechanism = t.auth_type;
  return f;
}

}  // namespace tlsgate::policy
