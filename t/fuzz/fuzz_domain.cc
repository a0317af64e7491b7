// Fuzz target: partner domains (issue 21): the envelope address parser, the pattern
// lists of sender_domains/recipient_domains, and the index domain -> partners.
//
// Properties:
//  - envelope_domain: any bytes give a result; a domain is canonical (lower case,
//    1-63 character labels of letters, digits and inner hyphens, at most 253
//    characters, no trailing dot, not ending in a number), reads back to itself
//    from "<x@DOMAIN>", in upper case and with a trailing dot, and after a quoted
//    local part holding '@'. For plain ASCII (no quote, backslash, bracket,
//    parenthesis (a comment) or source route) it is exactly what follows the last
//    '@', lower-cased, when that is a valid name: nothing else can make a partner
//    match or miss.
//  - parse_domain_list: a list of canonical patterns, each of which reads back to
//    itself, at most one per comma-separated item; or a problem that quotes each
//    bad item.
//  - DomainIndex: for every probe (each pattern's domain, a subdomain, its parent,
//    the envelope's domain), the partners it finds are those a scan of every pattern
//    with DomainPattern::matches finds.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "policy/domain.h"
#include "policy/domain_index.h"
#include "t/fuzz/fuzz_support.h"

namespace tlsgate::fuzz {
namespace {

using policy::DomainIndex;
using policy::DomainList;
using policy::DomainPattern;
using policy::EnvelopeDomain;

bool ldh(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

// Written from RFC 1035/1123 and the README, not from policy/domain.cc.
bool canonical(std::string_view d) {
  if (d.empty() || d.size() > 253) return false;
  std::size_t start = 0;
  std::string_view last;
  while (start <= d.size()) {
    const std::size_t dot = std::min(d.find('.', start), d.size());
    const std::string_view label = d.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
        !std::all_of(label.begin(), label.end(), ldh)) {
      return false;
    }
    last = label;
    start = dot + 1;
  }
  return !std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  return out;
}

void same_domain(const std::string& address, const std::string& domain) {
  const EnvelopeDomain again = policy::envelope_domain(address);
  FUZZ_CHECK(again.has_domain() && again.domain == domain, "\"%s\" does not read back to %s",
             show(address).c_str(), domain.c_str());
}

void check_envelope(std::string_view text) {
  const EnvelopeDomain d = policy::envelope_domain(text);
  FUZZ_CHECK(d.kind != EnvelopeDomain::Kind::none, "no kind for \"%s\"", show(text).c_str());
  FUZZ_CHECK(d.has_domain() == !d.domain.empty(), "domain \"%s\" for kind %d",
             show(d.domain).c_str(), static_cast<int>(d.kind));
  if (d.has_domain()) {
    FUZZ_CHECK(canonical(d.domain), "\"%s\" -> not canonical \"%s\"", show(text).c_str(),
               show(d.domain).c_str());
    same_domain("<x@" + d.domain + ">", d.domain);
    same_domain("X@" + upper(d.domain) + ".", d.domain);
    same_domain("<\"a@b.example\"@" + d.domain + ">", d.domain);
  }
  // Plain ASCII: the reference reading.
  const bool plain = text.find_first_of("\"\\<>()[]") == std::string_view::npos &&
                     !text.starts_with('@') && std::all_of(text.begin(), text.end(), [](char c) {
                       const auto u = static_cast<unsigned char>(c);
                       return u > 0x20 && u < 0x7f;
                     });
  if (!plain || text.empty()) return;
  const std::size_t at = text.rfind('@');
  if (at == std::string_view::npos) {
    FUZZ_CHECK(d.kind == EnvelopeDomain::Kind::no_domain, "\"%s\": no '@' but kind %d",
               show(text).c_str(), static_cast<int>(d.kind));
    return;
  }
  std::string want = lower(text.substr(at + 1));
  if (want.ends_with('.')) want.pop_back();
  if (canonical(want)) {
    FUZZ_CHECK(d.has_domain() && d.domain == want, "\"%s\": expected %s, got \"%s\"",
               show(text).c_str(), want.c_str(), show(d.domain).c_str());
  } else {
    FUZZ_CHECK(d.kind == EnvelopeDomain::Kind::unparsable, "\"%s\": expected unparsable, got %s",
               show(text).c_str(), show(d.domain).c_str());
  }
}

// The patterns of the list's items that parse on their own, with the item's index as
// its partner.
std::vector<std::pair<DomainPattern, std::uint32_t>> check_list(std::string_view text) {
  std::vector<std::pair<DomainPattern, std::uint32_t>> patterns;
  const auto parsed = policy::parse_domain_list(text);
  const std::size_t items = static_cast<std::size_t>(std::count(text.begin(), text.end(), ',')) + 1;
  if (const auto* list = std::get_if<DomainList>(&parsed)) {
    FUZZ_CHECK(!list->patterns.empty() && list->patterns.size() <= items, "%zu patterns, %zu items",
               list->patterns.size(), items);
    for (const DomainPattern& p : list->patterns) {
      FUZZ_CHECK(canonical(p.domain), "pattern %s is not canonical", show(p.domain).c_str());
      const auto back = policy::parse_domain_list(p.to_string());
      FUZZ_CHECK(std::holds_alternative<DomainList>(back) &&
                     std::get<DomainList>(back).patterns == std::vector<DomainPattern>{p},
                 "pattern %s does not read back", show(p.to_string()).c_str());
    }
  } else {
    FUZZ_CHECK(!std::get<std::string>(parsed).empty(), "an empty problem for \"%s\"",
               show(text).c_str());
  }
  std::uint32_t partner = 0;
  for (std::size_t start = 0; start <= text.size(); ++partner) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const auto item = policy::parse_domain_list(text.substr(start, comma - start));
    if (const auto* list = std::get_if<DomainList>(&item)) {
      for (const DomainPattern& p : list->patterns) patterns.emplace_back(p, partner % 5);
    }
    start = comma + 1;
  }
  return patterns;
}

void check_index(const std::vector<std::pair<DomainPattern, std::uint32_t>>& patterns,
                 std::vector<std::string> probes) {
  DomainIndex::Builder builder;
  for (const auto& [p, partner] : patterns) builder.add(p, partner);
  const DomainIndex index = std::move(builder).build();
  for (const auto& [p, partner] : patterns) {
    probes.push_back(p.domain);
    probes.push_back("mx." + p.domain);
    probes.push_back("a.b." + p.domain);
    if (const auto dot = p.domain.find('.'); dot != std::string::npos) {
      probes.push_back(p.domain.substr(dot + 1));
    }
  }
  for (const std::string& probe : probes) {
    if (probe.size() > 253) continue;  // no envelope gives a longer domain
    std::vector<std::uint32_t> got, want;
    index.for_each_match(probe, [&](std::uint32_t p) { got.push_back(p); });
    for (const auto& [p, partner] : patterns) {
      if (p.matches(probe)) want.push_back(partner);
    }
    for (auto* v : {&got, &want}) {
      std::sort(v->begin(), v->end());
      v->erase(std::unique(v->begin(), v->end()), v->end());
    }
    FUZZ_CHECK(got == want, "%s: the index finds %zu partners, the scan %zu", show(probe).c_str(),
               got.size(), want.size());
  }
}

}  // namespace
}  // namespace tlsgate::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tlsgate::fuzz;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_envelope(text);
  // Each line as an address too, so that a seed can hold several.
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t nl = std::min(text.find('\n', start), text.size());
    check_envelope(text.substr(start, nl - start));
    start = nl + 1;
  }
  const auto patterns = check_list(text);
  std::vector<std::string> probes;
  if (const auto d = tlsgate::policy::envelope_domain(text); d.has_domain()) {
    probes.push_back(d.domain);
  }
  check_index(patterns, probes);
  return 0;
}
