// Fuzz target: the address and CIDR parsers, netblock lists (a `networks` value and
// a networks_file) and the longest-prefix-match table built from them.
//
// Properties:
//  - Address::parse accepts exactly what inet_pton accepts (IPv4, else IPv6 with
//    ::ffff:a.b.c.d made IPv4), and to_string() parses back to the same address.
//  - parse_prefix: a prefix has no host bits, contains its first and last address
//    and not the ones just outside, and to_string() parses back to it; an error starts
//    with the text as written, and a "perhaps X" suggestion is itself a valid prefix
//    of the same address.
//  - parse_networks / read_networks_file: every token (line) gives a prefix or an error
//    at its own line, never both, never neither.
//  - NetblockTable: lookup() agrees with a linear longest-prefix scan (earliest entry
//    among duplicates), combine() sees the nearest enclosing entry, and on_duplicate
//    names an earlier and a later entry with the same prefix.
#include <arpa/inet.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "policy/address.h"
#include "policy/netblock_table.h"
#include "policy/networks.h"
#include "policy/prefix.h"
#include "t/fuzz/fuzz_support.h"

namespace tlsgate::fuzz {
namespace {

using policy::Address;
using policy::Family;
using policy::NetblockTable;
using policy::Prefix;

constexpr std::string_view kSeparators = ", \t\r\n";

std::optional<Address> reference_parse(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  const std::string s(text);
  std::uint8_t raw[16];
  Address a;
  if (inet_pton(AF_INET, s.c_str(), raw) == 1) {
    std::copy(raw, raw + 4, a.bytes.begin());
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), raw) != 1) return std::nullopt;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(raw, kMapped, 12) == 0) {
    std::copy(raw + 12, raw + 16, a.bytes.begin());
  } else {
    a.family = Family::v6;
    std::copy(raw, raw + 16, a.bytes.begin());
  }
  return a;
}

void check_address(std::string_view text) {
  const auto got = Address::parse(text);
  const auto want = reference_parse(text);
  FUZZ_CHECK(got == want, "Address::parse(\"%s\") %s, inet_pton %s", show(text).c_str(),
             got ? got->to_string().c_str() : "fails", want ? want->to_string().c_str() : "fails");
  if (!got) return;
  const std::string back = got->to_string();
  FUZZ_CHECK(Address::parse(back) == got, "\"%s\" -> %s does not parse back", show(text).c_str(),
             back.c_str());
}

void check_prefix(std::string_view text) {
  auto parsed = policy::parse_prefix(text);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    const std::string head = std::string(text) + ": ";
    FUZZ_CHECK(error->starts_with(head), "error for \"%s\" does not quote it: %s",
               show(text).c_str(), show(*error).c_str());
    const std::string host_bits = head + "host bits set; perhaps ";
    if (error->starts_with(host_bits)) {
      const std::string hint = error->substr(host_bits.size());
      const auto suggested = policy::parse_prefix(hint);
      FUZZ_CHECK(std::holds_alternative<Prefix>(suggested), "suggestion %s for \"%s\" is invalid",
                 hint.c_str(), show(text).c_str());
      const auto addr = Address::parse(text.substr(0, text.find('/')));
      FUZZ_CHECK(addr && std::get<Prefix>(suggested).contains(*addr),
                 "suggestion %s does not contain \"%s\"", hint.c_str(), show(text).c_str());
    }
    return;
  }
  const Prefix& p = std::get<Prefix>(parsed);
  const Address& a = p.address;
  FUZZ_CHECK(p.length <= a.bit_width(), "length %u", unsigned{p.length});
  FUZZ_CHECK(policy::mask_address(a, p.length) == a, "host bits in %s", p.to_string().c_str());
  FUZZ_CHECK(p.contains(a) && p.contains(last_of(p)), "%s misses its own ends",
             p.to_string().c_str());
  if (auto before = step(a, -1)) {
    FUZZ_CHECK(!p.contains(*before) || p.length == 0, "%s contains %s", p.to_string().c_str(),
               before->to_string().c_str());
  }
  if (auto after = step(last_of(p), +1)) {
    FUZZ_CHECK(!p.contains(*after) || p.length == 0, "%s contains %s", p.to_string().c_str(),
               after->to_string().c_str());
  }
  const std::string back = p.to_string();
  const auto again = policy::parse_prefix(back);
  FUZZ_CHECK(std::holds_alternative<Prefix>(again) && std::get<Prefix>(again) == p,
             "\"%s\" -> %s does not parse back", show(text).c_str(), back.c_str());
  if (text.find('/') == std::string_view::npos) {  // a bare address: a host prefix
    FUZZ_CHECK(p.length == a.bit_width() && Address::parse(text) == a, "\"%s\" -> %s",
               show(text).c_str(), back.c_str());
  }
}

// The tokens parse_networks is documented to split `value` into.
std::vector<std::string_view> tokens_of(std::string_view value) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while ((pos = value.find_first_not_of(kSeparators, pos)) != std::string_view::npos) {
    const std::size_t end = std::min(value.find_first_of(kSeparators, pos), value.size());
    out.push_back(value.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

// The list's prefixes in input order (by ordinal), each with its ordinal.
std::vector<std::pair<std::uint32_t, Prefix>> prefixes_of(const policy::PrefixList& list) {
  std::vector<std::pair<std::uint32_t, Prefix>> out;
  for (const auto& item : list.items.v4)
    out.emplace_back(item.ordinal, NetblockTable::prefix_of(item));
  for (const auto& item : list.items.v6)
    out.emplace_back(item.ordinal, NetblockTable::prefix_of(item));
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  return out;
}

void check_list_accounting(const policy::PrefixList& list,
                           const std::vector<policy::ConfigError>& errors, std::size_t expected,
                           const char* what) {
  FUZZ_CHECK(list.items.size() + errors.size() == expected,
             "%s: %zu prefixes + %zu errors for %zu items", what, list.items.size(), errors.size(),
             expected);
}

// A networks_file from the input, served from memory (no disk I/O per run).
void check_networks_file(std::string_view text) {
  const int fd = memfd_create("networks", 0);
  if (fd < 0) return;
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (written) {
    policy::PrefixList list;
    std::vector<policy::ConfigError> errors;
    policy::read_networks_file("networks_file", path, "test.ini", 7, 3, list, errors);
    // The lines that hold a netblock (text up to '#' not only separators): each is a
    // prefix or one error at that line of the file.
    std::size_t lines = 0;
    int max_line = 0;
    for (std::size_t pos = 0; pos < text.size();) {
      const std::size_t nl = std::min(text.find('\n', pos), text.size());
      std::string_view line = text.substr(pos, nl - pos);
      line = line.substr(0, line.find('#'));
      ++max_line;
      if (line.find_first_not_of(kSeparators) != std::string_view::npos) ++lines;
      pos = nl + 1;
    }
    check_list_accounting(list, errors, lines, "networks_file");
    for (const auto& e : errors) {
      FUZZ_CHECK(e.file == path && e.line >= 1 && e.line <= max_line, "error %s",
                 show(e.to_string()).c_str());
    }
    for (const auto& [ordinal, prefix] : prefixes_of(list)) {
      const auto w = list.where(ordinal);
      FUZZ_CHECK(w.file == path && w.line >= 1 && w.line <= max_line, "prefix at line %d", w.line);
    }
  }
  close(fd);
}

// The entry a linear scan says governs `a`: longest prefix, earliest among equals.
std::uint32_t reference_lookup(const std::vector<NetblockTable::Entry>& entries, const Address& a) {
  std::uint32_t best = NetblockTable::kNone;
  for (std::uint32_t i = 0; i < entries.size(); ++i) {
    const Prefix& p = entries[i].prefix;
    if (!p.contains(a)) continue;
    if (best == NetblockTable::kNone || p.length > entries[best].prefix.length) best = i;
  }
  return best;
}

void check_table(const std::vector<NetblockTable::Entry>& entries, std::vector<Address> probes) {
  // combine() is called once per distinct prefix, parents before children; each
  // value is the entry's own index, so that lookups can be compared with the scan.
  std::vector<std::uint32_t> parent_seen(entries.size(), NetblockTable::kNone - 1);
  const NetblockTable table = NetblockTable::build(
      entries,
      [&](std::uint32_t payload, std::uint32_t parent) {
        FUZZ_CHECK(payload < entries.size() && parent_seen[payload] == NetblockTable::kNone - 1,
                   "combine called twice for entry %u", payload);
        parent_seen[payload] = parent;
        return payload;
      },
      [&](std::size_t earlier, std::size_t later) {
        FUZZ_CHECK(earlier < later && later < entries.size() &&
                       entries[earlier].prefix == entries[later].prefix,
                   "duplicate %zu/%zu", earlier, later);
      });
  for (std::uint32_t i = 0; i < entries.size(); ++i) {
    if (parent_seen[i] == NetblockTable::kNone - 1) continue;  // a duplicate
    // The nearest enclosing entry: the longest strictly shorter prefix containing it.
    std::uint32_t want = NetblockTable::kNone;
    const Prefix& p = entries[i].prefix;
    for (std::uint32_t j = 0; j < entries.size(); ++j) {
      const Prefix& q = entries[j].prefix;
      if (q.length >= p.length || !q.contains(p.address)) continue;
      if (want == NetblockTable::kNone || q.length > entries[want].prefix.length) want = j;
    }
    FUZZ_CHECK(parent_seen[i] == want, "parent of %s: %u, expected %u", p.to_string().c_str(),
               parent_seen[i], want);
  }
  const std::size_t probed = std::min<std::size_t>(entries.size(), 48);
  for (std::size_t i = 0; i < probed; ++i) {
    const Prefix& p = entries[i].prefix;
    probes.push_back(p.address);
    probes.push_back(last_of(p));
    if (auto a = step(p.address, -1)) probes.push_back(*a);
    if (auto a = step(last_of(p), +1)) probes.push_back(*a);
  }
  for (const Address& a : probes) {
    const std::uint32_t got = table.lookup(a);
    const std::uint32_t want = reference_lookup(entries, a);
    FUZZ_CHECK(got == want, "lookup(%s) = %u, the scan says %u", a.to_string().c_str(), got, want);
  }
}

}  // namespace
}  // namespace tlsgate::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tlsgate::fuzz;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_address(text);
  check_prefix(text);

  // The input as a `networks` value: each token on its own, then as a list.
  const auto tokens = tokens_of(text);
  std::vector<Address> probes;
  for (const std::string_view t : tokens) {
    check_address(t);
    check_prefix(t);
    if (auto a = Address::parse(t.substr(0, t.find('/')))) probes.push_back(*a);
  }
  tlsgate::policy::PrefixList list;
  std::vector<tlsgate::policy::ConfigError> errors;
  tlsgate::policy::parse_networks(text, "test.ini", 5, 1, list, errors);
  check_list_accounting(list, errors, tokens.size(), "networks");
  for (const auto& e : errors) {
    FUZZ_CHECK(e.file == "test.ini" && e.line == 5, "error %s", show(e.to_string()).c_str());
  }
  // Payloads are entry indexes here, so that lookups name the entry that matched.
  std::vector<NetblockTable::Entry> entries;
  for (const auto& [ordinal, prefix] : prefixes_of(list)) {
    entries.push_back({prefix, static_cast<std::uint32_t>(entries.size())});
  }
  if (!entries.empty()) check_table(entries, probes);  // a build costs ~1 MB

  check_networks_file(text);
  return 0;
}
