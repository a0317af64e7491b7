// Domain names, in one canonical form: lower case, no trailing dot, letters, digits
// and hyphens (an internationalized name as its A-labels, "xn--..."). Two sources:
// the patterns a [partner NAME] lists (sender_domains, recipient_domains), and the
// domain of an envelope address (MAIL FROM, RCPT TO), which comes from the network.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tlsgate::policy {

// The longest domain name, without its trailing dot (RFC 1035: 255 octets on the
// wire), and the longest label.
inline constexpr std::size_t kMaxDomain = 253;
inline constexpr std::size_t kMaxLabel = 63;

// "d.example" (that domain) or "*.d.example" (any subdomain of it, not itself).
struct DomainPattern {
  std::string domain;  // canonical
  bool subdomains = false;

  std::string to_string() const { return subdomains ? "*." + domain : domain; }
  // `canonical`: a domain as envelope_domain gives it.
  bool matches(std::string_view canonical) const;
  friend bool operator==(const DomainPattern&, const DomainPattern&) = default;
};

struct DomainList {
  std::vector<DomainPattern> patterns;  // as listed (a repeated one once)
};

// Comma-separated patterns, blanks around each ignored, case-insensitive, one
// trailing dot ignored. The list, or every item that is not a pattern, each
// described ("\"bank..example\": empty label"), joined by "; ".
std::variant<DomainList, std::string> parse_domain_list(std::string_view text);

// The domain of an envelope address as MAIL FROM or RCPT TO gave it: "<u@d>",
// "u@d" (Sendmail's {mail_addr}, Postfix's policy service), "<>", a quoted local part
// that may hold '@' ("\"a@b\"@d"), a source route ("<@a,@b:u@d>"), and the RFC 822
// forms Postfix and Sendmail also take and deliver as u@d: comments ("<u@d (x)>"),
// blanks between tokens, a quoted or escaped domain ("u@\"d\"", "u@d\\.e"), text
// before the brackets ("Name<u@d>"). Read as the MTA reads it: comments out, quotes
// undone, then the domain follows the last '@' (so "\"d@x\"@evil" is evil's and
// "\"u@d\"" is d's). Any text (no '@', NUL, 64 KiB, bad UTF-8) gives a result; a
// domain that does not parse has none, and matches no partner.
struct EnvelopeDomain {
  enum class Kind {
    none,        // no address was given
    null_path,   // "<>": the null sender (bounces)
    domain,      // `domain` holds it
    no_domain,   // no '@': a local name such as <postmaster>
    unparsable,  // an '@', but no domain name after it that tlsgate can read
  };
  Kind kind = Kind::none;
  std::string domain;  // canonical; only for Kind::domain

  bool has_domain() const { return kind == Kind::domain; }
  // What the log writes: the domain, "<>", "(none)" or "(unparsable)" (no domain
  // holds a parenthesis or '<'); empty for Kind::none.
  std::string_view log_text() const;
};

EnvelopeDomain envelope_domain(std::string_view address);

}  // namespace tlsgate::policy
