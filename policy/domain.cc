#include "policy/domain.h"

#include <idn2.h>

#include <algorithm>
#include <memory>

namespace tlsgate::policy {
namespace {

constexpr std::string_view kBlanks = " \t";

std::string_view trim(std::string_view s) {
  const std::size_t start = s.find_first_not_of(kBlanks);
  if (start == std::string_view::npos) return {};
  return s.substr(start, s.find_last_not_of(kBlanks) - start + 1);
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_ldh(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

// A character as a message shows it.
std::string shown(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0xf];
}

// What is wrong with a lower-case ASCII name without its trailing dot; empty if
// nothing is.
std::string label_problem(std::string_view d) {
  if (d.empty()) return "empty domain";
  if (d.size() > kMaxDomain) return "longer than " + std::to_string(kMaxDomain) + " characters";
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = std::min(d.find('.', start), d.size());
    const std::string_view label = d.substr(start, dot - start);
    if (label.empty()) return "empty label";
    if (label.size() > kMaxLabel) {
      return "a label longer than " + std::to_string(kMaxLabel) + " characters";
    }
    for (const char c : label) {
      if (c == ' ' || c == '\t') return "a space inside";
      if (c == '@') return "'@' in a domain (name the domain, not an address)";
      if (c == '*') return "'*' only as the whole first label, as in *.d.example";
      if (!is_ldh(c)) return shown(c) + " is not allowed (letters, digits, '-' and '.')";
    }
    if (label.front() == '-' || label.back() == '-') return "a label starts or ends with '-'";
    if (dot == d.size()) {
      const bool digits =
          std::all_of(label.begin(), label.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (digits) return "ends in a number: an address, not a domain name";
      return {};
    }
    start = dot + 1;
  }
}

// UTS #46 (non-transitional) processing, then the A-labels: what a mail system that
// supports internationalized domains makes of a name (case folded, NFC, full-width
// dots and letters mapped, ignorable characters dropped). Empty if it is no name.
std::string to_a_labels(std::string_view utf8) {
  if (utf8.find('\0') != std::string_view::npos) return {};
  char* out = nullptr;
  const std::string input(utf8);
  if (idn2_to_ascii_8z(input.c_str(), &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK) {
    return {};
  }
  const std::unique_ptr<char, decltype(&idn2_free)> owned(out, idn2_free);
  return out;
}

struct Canonical {
  std::string domain;   // when problem is empty
  std::string problem;  // what is wrong with the text
};

// `text` in canonical form. A configuration must give A-labels (the admin is told the
// A-label form of a name that has a non-ASCII label); an envelope's internationalized
// domain (SMTPUTF8) is converted, so that it matches the partner it names.
Canonical canonical_domain(std::string_view text, bool convert_unicode) {
  if (text.ends_with('.')) text.remove_suffix(1);
  std::string d;
  if (!is_ascii(text)) {
    const std::string converted = to_a_labels(text);
    if (!convert_unicode) {
      return {{},
              converted.empty() || !label_problem(converted).empty()
                  ? "a non-ASCII label (write it in its A-label form, xn--...)"
                  : "a non-ASCII label (write it in its A-label form: " + converted + ")"};
    }
    if (converted.empty()) return {{}, "not an internationalized domain name"};
    d = converted;
  } else {
    d.resize(text.size());
    std::transform(text.begin(), text.end(), d.begin(), lower);
  }
  std::string problem = label_problem(d);
  if (!problem.empty()) return {{}, std::move(problem)};
  return {std::move(d), {}};
}

std::variant<DomainPattern, std::string> parse_pattern(std::string_view item) {
  DomainPattern p;
  std::string_view name = item;
  if (name.starts_with("*.")) {
    name.remove_prefix(2);
    p.subdomains = true;
    if (name.empty() || name == ".") return std::string("no domain after \"*.\"");
  }
  Canonical c = canonical_domain(name, false);
  if (!c.problem.empty()) return std::move(c.problem);
  p.domain = std::move(c.domain);
  return p;
}

}  // namespace

bool DomainPattern::matches(std::string_view canonical) const {
  if (!subdomains) return canonical == domain;
  return canonical.size() > domain.size() + 1 && canonical.ends_with(domain) &&
         canonical[canonical.size() - domain.size() - 1] == '.';
}

std::variant<DomainList, std::string> parse_domain_list(std::string_view text) {
  DomainList list;
  list.patterns.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), ',')) + 1);
  std::string problems;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view item = trim(text.substr(start, comma - start));
    auto parsed = item.empty() ? std::variant<DomainPattern, std::string>(
                                     std::string("empty domain (two commas, or one at an end)"))
                               : parse_pattern(item);
    if (auto* problem = std::get_if<std::string>(&parsed)) {
      const std::string described =
          item.empty() ? *problem : "\"" + std::string(item) + "\": " + *problem;
      if (problems.find(described) == std::string::npos) {  // ", ," once
        problems += (problems.empty() ? "" : "; ") + described;
      }
    } else if (auto& p = std::get<DomainPattern>(parsed);
               std::find(list.patterns.begin(), list.patterns.end(), p) == list.patterns.end()) {
      list.patterns.push_back(std::move(p));
    }
    if (comma == text.size()) break;
    start = comma + 1;
  }
  if (!problems.empty()) return problems;
  return list;
}

std::string_view EnvelopeDomain::log_text() const {
  switch (kind) {
    case Kind::none: return {};
    case Kind::null_path: return "<>";
    case Kind::domain: return domain;
    case Kind::no_domain: return "(none)";
    case Kind::unparsable: return "(unparsable)";
  }
  return "(unparsable)";
}

namespace {

// Where the comment that opens at a[i] ends (the index after its ')'), or npos if it
// never closes: then '(' is an ordinary character (the MTA's own form of a quoted
// local part holding one, "a(b@d").
std::size_t comment_end(std::string_view a, std::size_t i) {
  int depth = 0;
  for (; i < a.size(); ++i) {
    if (a[i] == '\\') {
      ++i;
    } else if (a[i] == '(') {
      ++depth;
    } else if (a[i] == ')' && --depth == 0) {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

bool is_special(char c) { return std::string_view("@.:,<>").find(c) != std::string_view::npos; }

// The address as the MTA works with it (Postfix's "internal form"): comments dropped,
// quoted strings and quoted pairs unquoted, blanks outside quotes dropped where they
// separate tokens. A blank between two words stays: "bank example" is no domain.
std::string unquoted(std::string_view a) {
  std::string out;
  out.reserve(a.size());
  bool quoted = false;
  bool blank = false;  // a blank or comment outside quotes since the last character
  auto put = [&](char c, bool literal) {
    if (blank && !out.empty() && (literal || !is_special(c)) && !is_special(out.back())) {
      out += ' ';
    }
    blank = false;
    out += c;
  };
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char c = a[i];
    if (c == '\\' && i + 1 < a.size()) {
      put(a[++i], true);
    } else if (c == '"') {
      quoted = !quoted;
    } else if (quoted) {
      put(c, true);
    } else if (c == ' ' || c == '\t') {
      blank = true;
    } else if (const std::size_t end = c == '(' ? comment_end(a, i) : std::string_view::npos;
               end != std::string_view::npos) {
      blank = true;
      i = end - 1;
    } else {
      put(c, false);
    }
  }
  return out;
}

}  // namespace

// The MTA's reading (Postfix's tok822, Sendmail's prescan): comments out, quotes
// undone, and the domain is what follows the last '@' of that, as the MTA splits the
// address ("x@evil"@d and a\@evil@d are d's, "d@x"@evil is evil's, "u@d" alone is
// d's: Postfix delivers it as u@d). Text around angle brackets ("Name<u@d>",
// "<u@d>(x)") does not hide the domain: a '>' after it is not part of it.
EnvelopeDomain envelope_domain(std::string_view address) {
  using Kind = EnvelopeDomain::Kind;
  EnvelopeDomain out;
  const std::string flat = unquoted(trim(address));
  std::string_view a = flat;
  if (a.starts_with('<')) {  // Sendmail's {mail_addr} comes without the brackets
    a.remove_prefix(1);
    if (a.ends_with('>')) a.remove_suffix(1);
  }
  if (a.empty()) {
    out.kind = Kind::null_path;
    return out;
  }
  out.kind = Kind::unparsable;
  if (a.front() == '@') {  // a source route (RFC 5321 4.1.2), "@a,@b:": skipped
    const std::size_t colon = a.find(':');
    if (colon == std::string_view::npos) return out;
    a.remove_prefix(colon + 1);
  }
  const std::size_t at = a.rfind('@');
  if (at == std::string_view::npos) {
    out.kind = Kind::no_domain;
    return out;
  }
  std::string_view domain = a.substr(at + 1);
  if (domain.ends_with('>')) domain.remove_suffix(1);  // "Name<u@d>"
  // A comment that never closes runs to the end for the MTA ("<u@d(>"); in a local
  // part a '(' may be the MTA's own unquoted character, never in a domain.
  domain = domain.substr(0, domain.find('('));
  // Sendmail takes "[host]" for that host, looked up without MX (and delivers
  // <u@[bank.example]>); an address literal stays unparsable ("ends in a number").
  if (domain.size() > 2 && domain.front() == '[' && domain.back() == ']') {
    domain = domain.substr(1, domain.size() - 2);
  }
  Canonical c = canonical_domain(domain, true);
  if (!c.problem.empty()) return out;
  out.kind = Kind::domain;
  out.domain = std::move(c.domain);
  return out;
}

}  // namespace tlsgate::policy
