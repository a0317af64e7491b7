#include "policy/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <array>
#include <memory>

namespace tlsgate::policy {
namespace {

constexpr std::array<std::pair<std::string_view, TlsVersion>, 4> kVersions{{
    {"TLSv1", TlsVersion::tls1_0},
    {"TLSv1.1", TlsVersion::tls1_1},
    {"TLSv1.2", TlsVersion::tls1_2},
    {"TLSv1.3", TlsVersion::tls1_3},
}};

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

std::string openssl_error(const std::string& fallback) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return fallback;
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

}  // namespace

std::optional<TlsVersion> parse_tls_version(std::string_view text) {
  for (const auto& [name, version] : kVersions) {
    if (text == name) return version;
  }
  return std::nullopt;
}

std::string_view tls_version_name(TlsVersion v) {
  for (const auto& [name, version] : kVersions) {
    if (version == v) return name;
  }
  return "unknown";
}

std::optional<unsigned> parse_cipher_bits(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned bits = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    bits = bits * 10 + static_cast<unsigned>(c - '0');
  }
  return bits;
}

std::variant<CipherSet, std::string> CipherSet::expand(Family family, const std::string& spec) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_method()));
  if (!ctx) return openssl_error("OpenSSL could not create a context");
  // Expand the whole list the admin wrote; the security level only matters for a
  // live handshake, which the MTA performs, not tlsgate.
  SSL_CTX_set_security_level(ctx.get(), 0);

  const bool ok = family == Family::tls12 ? SSL_CTX_set_cipher_list(ctx.get(), spec.c_str()) == 1
                                          : SSL_CTX_set_ciphersuites(ctx.get(), spec.c_str()) == 1;
  if (!ok) return "OpenSSL rejects \"" + spec + "\": " + openssl_error("no cipher matches");

  CipherSet set;
  const STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx.get());
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
    const bool is_tls13 = std::string_view(SSL_CIPHER_get_version(c)) == "TLSv1.3";
    if (is_tls13 != (family == Family::tls13)) continue;
    set.add(SSL_CIPHER_get_name(c));
  }
  if (set.names_.empty()) return "OpenSSL expands \"" + spec + "\" to no cipher";
  return set;
}

std::optional<CipherSet> CipherSet::from_expansion(std::string_view expansion) {
  CipherSet set;
  while (!expansion.empty()) {
    const auto colon = expansion.find(':');
    const std::string_view name = expansion.substr(0, colon);
    expansion.remove_prefix(colon == std::string_view::npos ? expansion.size() : colon + 1);
    if (!name.empty()) set.add(name);
  }
  if (set.names_.empty()) return std::nullopt;
  return set;
}

void CipherSet::add(std::string_view name) {
  if (!names_.emplace(name).second) return;
  if (!expansion_.empty()) expansion_ += ':';
  expansion_ += name;
}

bool CipherSet::contains(std::string_view cipher_name) const {
  return names_.find(cipher_name) != names_.end();
}

}  // namespace tlsgate::policy
