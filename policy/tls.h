// TLS vocabulary: protocol versions, key sizes and cipher sets, as the MTAs name them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <variant>

namespace tlsgate::policy {

// Ordered: a higher value is a newer protocol.
enum class TlsVersion : std::uint8_t { tls1_0 = 1, tls1_1, tls1_2, tls1_3 };

// "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" (OpenSSL's SSL_get_version names, which
// Postfix and Sendmail pass in {tls_version}); nullopt for anything else.
std::optional<TlsVersion> parse_tls_version(std::string_view text);
std::string_view tls_version_name(TlsVersion v);

// {cipher_bits}: a decimal number of at most 5 digits; nullopt for empty,
// garbage, signs, spaces or anything larger.
std::optional<unsigned> parse_cipher_bits(std::string_view text);

// The cipher names an OpenSSL cipher string expands to.
class CipherSet {
 public:
  enum class Family { tls12, tls13 };
  // `spec` in SSL_CTX_set_cipher_list syntax (tls12) or SSL_CTX_set_ciphersuites
  // syntax (tls13), expanded with OpenSSL itself. The error says what OpenSSL refused.
  static std::variant<CipherSet, std::string> expand(Family family, const std::string& spec);
  // A set from an expansion() string ("NAME:NAME:..."), e.g. one made in another
  // process; nullopt when it names nothing.
  static std::optional<CipherSet> from_expansion(std::string_view expansion);

  bool contains(std::string_view cipher_name) const;
  std::size_t size() const { return names_.size(); }
  // The accepted names, in OpenSSL's preference order, ':'-separated.
  const std::string& expansion() const { return expansion_; }

 private:
  // Adds a name not yet in the set at the end of the expansion; a repeat changes nothing.
  void add(std::string_view name);

  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_set<std::string, Hash, std::equal_to<>> names_;
  std::string expansion_;
};

// How a loader expands cipher strings: CipherSet::expand, or a stand-in that runs it
// elsewhere (the daemon runs it in a child process: engine/cipher_child.h).
using CipherExpander =
    std::function<std::variant<CipherSet, std::string>(CipherSet::Family, const std::string&)>;

}  // namespace tlsgate::policy
