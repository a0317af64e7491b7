// Fuzz target: the configuration loader (policy/loader, policy/ini_source, inih) on
// arbitrary INI text.
//
// The input is the file's text, except when its first byte selects a mode:
//   0x01 D L TEXT  line L (mod the line count) of TEXT stretched, by repeating it, to
//                  kMaxIniLine + (D % 16 - 8) bytes: lines at and around the limit;
//   0x02 BYTES     a generated file of nested sources, three bytes a netblock (family
//                  and length, section, one key): deep nesting, shared sections.
// networks_file may only name the fixtures made in a scratch directory (other inputs
// are refused), so that no run reads an arbitrary file.
//
// Properties:
//  - never crashes; every error is FILE:LINE: message, FILE the config (or a
//    networks_file), LINE within it, as one line without control characters; errors
//    sorted by line; a policy exactly when there is no error;
//  - a text that loads, with an unknown key appended, gives an error (nothing in the
//    file is silently ignored);
//  - the text with CRLF line ends gives the same errors and the same policy (a text
//    that already has CRs: loading it again gives the same);
//  - a loaded policy: the rule for an address (table lookup) is the source of the
//    longest listed netblock containing it (linear scan), or default; its chain is
//    the sections of the netblocks enclosing that one, then default; --explain's
//    first line names the same source; every merged value is one the schema accepts.
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "policy/explain.h"
#include "policy/ini_source.h"
#include "policy/loader.h"
#include "policy/schema.h"
#include "t/fuzz/fuzz_support.h"

namespace tlsgate::fuzz {
namespace {

using policy::Address;
using policy::LoadResult;

constexpr const char* kFile = "fuzz.ini";
std::string scratch;  // base_dir: holds the networks_file fixtures

const std::set<std::string, std::less<>> kFixtures = {"legacy-networks.txt", "nested-v6.txt",
                                                      "bad-networks.txt", "missing-networks.txt"};

void make_fixtures() {
  std::string pattern = (std::filesystem::temp_directory_path() / "tlsgate-fuzz-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  scratch = pattern;
  auto write = [](const std::string& name, const std::string& text) {
    std::ofstream(scratch + "/" + name) << text;
  };
  write("legacy-networks.txt", "# legacy\n203.0.113.0/24\n2001:db8:300::/48   # v6\n");
  write("nested-v6.txt", "2001:db8:1::/48\n2001:db8:1:2::/64\n");
  write("bad-networks.txt", "192.0.2.0/24\n192.0.2.300/32\n198.51.100.0/24 203.0.113.0/24\n");
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(scratch, ec);
  });
}

// Every "networks_file" in the text is followed by = or :, and a fixture's name.
bool networks_files_safe(std::string_view text) {
  constexpr std::string_view kKey = "networks_file";
  for (std::size_t pos = text.find(kKey); pos != std::string_view::npos;
       pos = text.find(kKey, pos + 1)) {
    std::size_t i = pos + kKey.size();
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i >= text.size() || (text[i] != '=' && text[i] != ':')) return false;
    ++i;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) ||
                               text[i] == '.' || text[i] == '-' || text[i] == '_')) {
      ++i;
    }
    if (kFixtures.count(text.substr(start, i - start)) == 0) return false;
    if (i < text.size() && std::string_view(" \t\r\n;").find(text[i]) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

std::size_t line_count(std::string_view text) {
  const auto n = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  return n + (!text.empty() && !text.ends_with('\n') ? 1 : 0);
}

std::vector<std::string> error_strings(const LoadResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.to_string());
  return out;
}

// Addresses worth looking up: a few fixed ones, and the ends of the first listed
// netblocks with their neighbours outside.
std::vector<Address> probes_for(const policy::Policy& p, std::size_t max_netblocks) {
  std::vector<Address> out;
  for (const char* a : {"192.0.2.10", "10.1.7.1", "203.0.113.9", "0.0.0.0", "255.255.255.255",
                        "2001:db8::1", "2001:db8:1:2::1", "::1", "::"}) {
    out.push_back(*Address::parse(a));
  }
  const auto& listed = p.netblocks();
  for (std::size_t i = 0; i < listed.size() && i < max_netblocks; ++i) {
    const policy::Prefix& n = listed[i].prefix;
    out.push_back(n.address);
    out.push_back(last_of(n));
    if (auto a = step(n.address, -1)) out.push_back(*a);
    if (auto a = step(last_of(n), +1)) out.push_back(*a);
  }
  return out;
}

// Everything a policy decides, as text: two policies with the same fingerprint
// govern the probed clients the same way.
std::string fingerprint(const policy::Policy& p, const std::vector<Address>& probes) {
  std::string out = std::to_string(p.source_count()) + " sources, " +
                    std::to_string(p.netblock_count()) + " netblocks\n";
  const auto& m = p.milter();
  out += m.socket + "|" + std::to_string(m.socket_mode) + "|" + m.user + "|" + m.group + "|" +
         std::to_string(static_cast<int>(m.mode)) + "|" + std::to_string(static_cast<int>(m.mta)) +
         "|" + std::string(policy::facility_name(m.syslog_facility)) + "|" + m.syslog_ident + "|" +
         m.accounting_file + "|" + m.pid_file + "\n";
  // Each distinct rule written out once (values can be a megabyte long), then each
  // probe as the number of its rule.
  std::vector<const policy::Rule*> seen;
  auto rule_number = [&](const policy::Rule& r) {
    const auto it = std::find(seen.begin(), seen.end(), &r);
    if (it != seen.end()) return static_cast<std::size_t>(it - seen.begin());
    seen.push_back(&r);
    out += "rule " + std::to_string(seen.size() - 1) + ": " + r.source + ":";
    for (const auto& c : r.chain) out += " " + c;
    for (const auto& s : r.settings) {
      out +=
          " " + std::string(s.key->name) + "=" + s.value.text + "@" + std::to_string(s.origin.line);
    }
    out += "\n";
    return seen.size() - 1;
  };
  out += "unknown -> " + std::to_string(rule_number(p.rule_for(std::nullopt))) + "\n";
  for (const Address& a : probes) {
    const std::size_t n = rule_number(p.rule_for(a));
    out += a.to_string() + " -> " + std::to_string(n) + "\n";
  }
  return out;
}

void check_rule(const policy::Rule& r) {
  FUZZ_CHECK(!r.chain.empty() && r.chain.front() == r.source && r.chain.back() == "default",
             "chain of %s", r.source.c_str());
  for (std::size_t i = 1; i < r.chain.size(); ++i) {
    FUZZ_CHECK(r.chain[i] != r.chain[i - 1], "%s twice in a row in the chain of %s",
               r.chain[i].c_str(), r.source.c_str());
  }
  for (const auto& s : r.settings) {
    const policy::KeySpec* key = policy::find_key(policy::Scope::source, s.key->name);
    FUZZ_CHECK(key == s.key, "merged key %s not in the schema", std::string(s.key->name).c_str());
    if (s.value.text.empty()) continue;
    // Every merged value reads again as its key's type (a cipher string was expanded
    // by the load itself: not again here, OpenSSL is slow under ASan).
    policy::ValueReader reader;
    reader.expand_ciphers = [](policy::CipherSet::Family, const std::string&)
        -> std::variant<std::shared_ptr<const policy::CipherSet>, std::string> {
      return std::make_shared<const policy::CipherSet>();
    };
    const auto read = policy::read_value(*key, s.value.text, reader);
    const auto* problem = std::get_if<std::string>(&read);
    FUZZ_CHECK(problem == nullptr, "merged %s = %s is invalid: %s",
               std::string(s.key->name).c_str(), show(s.value.text).c_str(),
               problem != nullptr ? problem->c_str() : "");
  }
}

// The sections a client inherits through, from the listed netblocks alone: the longest
// netblock containing it, then the longest one strictly enclosing that, and so on (a
// section once however many of its netblocks nest), then default.
std::vector<std::string> reference_chain(const policy::Policy& p, const Address& a) {
  std::vector<std::string> chain;
  const policy::NetblockOrigin* cur = nullptr;
  for (;;) {
    const policy::NetblockOrigin* next = nullptr;
    for (const auto& n : p.netblocks()) {
      if (cur != nullptr && n.prefix.length >= cur->prefix.length) continue;
      if (!n.prefix.contains(cur != nullptr ? cur->prefix.address : a)) continue;
      if (next == nullptr || n.prefix.length > next->prefix.length) next = &n;
    }
    if (next == nullptr) break;
    if (chain.empty() || chain.back() != next->section) chain.push_back(next->section);
    cur = next;
  }
  if (chain.empty() || chain.back() != "default") chain.push_back("default");
  return chain;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " -> ") + w;
  return out;
}

// Checks one load; returns its errors and fingerprint for comparison with another.
struct Outcome {
  std::vector<std::string> errors;
  std::string fingerprint;
  bool operator==(const Outcome&) const = default;
};

Outcome check_load(std::string_view text, std::vector<Address>& probes, bool find_probes,
                   std::size_t max_netblock_probes) {
  const LoadResult r = policy::load_policy_text(text, kFile, scratch, {.keep_netblocks = true});
  const std::size_t lines = line_count(text);
  for (const auto& e : r.errors) {
    const std::string where = e.to_string();
    const bool in_config = e.file == kFile;
    const bool in_fixture = e.file.starts_with(scratch + "/") &&
                            kFixtures.count(e.file.substr(scratch.size() + 1)) != 0;
    FUZZ_CHECK(in_config || in_fixture, "error in an unexpected file: %s", show(where).c_str());
    FUZZ_CHECK(e.line >= 1, "error without a line: %s", show(where).c_str());
    FUZZ_CHECK(!in_config || static_cast<std::size_t>(e.line) <= lines,
               "line %d of a %zu-line file: %s", e.line, lines, show(where).c_str());
    FUZZ_CHECK(!e.message.empty(), "empty message: %s", show(where).c_str());
    FUZZ_CHECK(
        std::none_of(where.begin(), where.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }),
        "error is not one line of text: %s", show(where).c_str());
    FUZZ_CHECK(where.starts_with(e.file + ":" + std::to_string(e.line) + ": "), "form: %s",
               show(where).c_str());
  }
  FUZZ_CHECK(std::is_sorted(r.errors.begin(), r.errors.end(),
                            [](const auto& a, const auto& b) {
                              return std::tie(a.file, a.line) < std::tie(b.file, b.line);
                            }),
             "errors not sorted");
  FUZZ_CHECK((r.policy == nullptr) == !r.errors.empty(), "policy %s with %zu errors",
             r.policy ? "loaded" : "missing", r.errors.size());
  Outcome out{error_strings(r), {}};
  if (!r.policy) return out;

  const policy::Policy& p = *r.policy;
  FUZZ_CHECK(p.default_rule().source == "default" && p.rule_for(std::nullopt).source == "default",
             "the default rule is %s", p.default_rule().source.c_str());
  check_rule(p.default_rule());
  if (find_probes) probes = probes_for(p, max_netblock_probes);
  std::set<const policy::Rule*> checked;
  for (const Address& a : probes) {
    const policy::Rule& rule = p.rule_for(a);
    if (checked.insert(&rule).second) check_rule(rule);
    const auto matched = p.matched_netblock(a);
    const std::string want = matched ? matched->section : "default";
    FUZZ_CHECK(rule.source == want, "%s is governed by %s, the longest netblock is %s's",
               a.to_string().c_str(), rule.source.c_str(), want.c_str());
    const std::vector<std::string> chain = reference_chain(p, a);
    FUZZ_CHECK(rule.chain == chain, "%s inherits through %s, the netblocks say %s",
               a.to_string().c_str(), joined(rule.chain).c_str(), joined(chain).c_str());
    if (&a - probes.data() >= 12) continue;  // explain() copies every value: a few suffice
    const std::string explained = policy::explain(p, a, {});
    FUZZ_CHECK(explained.starts_with("source=" + rule.source + "\n"), "explain %s: %s",
               a.to_string().c_str(), show(explained.substr(0, 80)).c_str());
  }
  out.fingerprint = fingerprint(p, probes);
  return out;
}

std::string stretched(std::string_view rest, std::uint8_t delta_byte, std::uint8_t which) {
  std::vector<std::string_view> lines;
  for (std::size_t pos = 0; pos <= rest.size();) {
    const std::size_t nl = std::min(rest.find('\n', pos), rest.size());
    lines.push_back(rest.substr(pos, nl - pos));
    pos = nl + 1;
  }
  const std::size_t target = policy::kMaxIniLine + (delta_byte % 16) - 8;
  const std::size_t index = which % lines.size();
  const std::string_view seed = lines[index].empty() ? std::string_view(" ") : lines[index];
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += '\n';
    if (i != index) {
      out += lines[i];
      continue;
    }
    const std::size_t start = out.size();
    while (out.size() - start < target) out += seed.substr(0, target - (out.size() - start));
  }
  return out;
}

std::string generated(std::string_view bytes) {
  static constexpr const char* kKeys[] = {"require_starttls = yes",
                                          "require_starttls = no",
                                          "min_tls_version = TLSv1.2",
                                          "min_tls_version = TLSv1",
                                          "min_cipher_bits = 128",
                                          "action = tempfail",
                                          "mode = monitor",
                                          "mode = enforce",
                                          "require_client_cert = yes",
                                          "client_cert_subject = relay.example",
                                          "ciphers = HIGH:!aNULL",
                                          "tls13_ciphersuites = TLS_AES_128_GCM_SHA256",
                                          "allow_unencrypted_plain_auth = yes",
                                          "require_starttls_before_auth = no"};
  constexpr std::size_t kKeyCount = std::size(kKeys);
  struct Section {
    std::vector<std::string> networks;
    std::set<std::string> keys;  // "key = value", at most one per key
    std::string text;
  };
  std::vector<Section> sections(12);
  std::string head = "[milter]\nmode = enforce\n[source default]\n";
  for (std::size_t i = 0; i + 2 < bytes.size(); i += 3) {
    const auto a = static_cast<std::uint8_t>(bytes[i]);
    const auto b = static_cast<std::uint8_t>(bytes[i + 1]);
    const auto c = static_cast<std::uint8_t>(bytes[i + 2]);
    const bool v6 = (a & 0x80) != 0;
    const unsigned length = (a & 0x7f) % (v6 ? 129 : 33);
    const char* base = v6 ? ((b & 0x80) ? "2001:db8:5555:aaaa:ffff:0:1234:5678" : "2001:db8:aaaa::")
                          : ((b & 0x80) ? "10.85.170.255" : "10.170.85.0");
    const Address addr = policy::mask_address(*Address::parse(base), length);
    Section& s = sections[(b & 0x7f) % sections.size()];
    s.networks.push_back(addr.to_string() + "/" + std::to_string(length));
    if (c % 16 < kKeyCount) {
      const std::string kv = kKeys[c % 16];
      const std::string key = kv.substr(0, kv.find(' '));
      if (std::none_of(s.keys.begin(), s.keys.end(),
                       [&](const std::string& k) { return k.starts_with(key + " "); })) {
        s.keys.insert(kv);
        // A certificate name without the requirement is an error: keep the file valid.
        if (key == "client_cert_subject") s.keys.insert("require_client_cert = yes");
      }
    }
  }
  std::string out = head;
  for (std::size_t i = 0; i < sections.size(); ++i) {
    if (sections[i].networks.empty()) continue;
    out += "[source s" + std::to_string(i) + "]\nnetworks =";
    for (const auto& n : sections[i].networks) out += " " + n;
    out += "\n";
    for (const auto& kv : sections[i].keys) out += kv + "\n";
  }
  return out;
}

}  // namespace
}  // namespace tlsgate::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tlsgate::fuzz::make_fixtures();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tlsgate::fuzz;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string text;
  bool big = false;
  if (size >= 3 && data[0] == 0x01) {
    text = stretched(input.substr(3), data[1], data[2]);
    big = true;
  } else if (size >= 1 && data[0] == 0x02) {
    text = generated(input.substr(1));
  } else {
    text = std::string(input);
  }
  if (!networks_files_safe(text)) return -1;

  // The same text again must load the same; with CRLF line ends too. (One more load,
  // not two: a load costs a few ms under ASan.)
  std::vector<tlsgate::policy::Address> probes;
  const Outcome first = check_load(text, probes, true, big ? 4 : 48);
  if (big || text.find('\r') != std::string::npos) {
    const Outcome again = check_load(text, probes, false, 0);
    FUZZ_CHECK(first == again, "a second load differs:\n%s\n---\n%s", first.fingerprint.c_str(),
               again.fingerprint.c_str());
  } else {
    std::string crlf;
    for (const char c : text) {
      if (c == '\n') crlf += '\r';
      crlf += c;
    }
    const Outcome windows = check_load(crlf, probes, false, 0);
    for (std::size_t i = 0; i < std::min(first.errors.size(), windows.errors.size()); ++i) {
      FUZZ_CHECK(first.errors[i] == windows.errors[i], "CRLF line ends change an error: %s / %s",
                 show(first.errors[i]).c_str(), show(windows.errors[i]).c_str());
    }
    FUZZ_CHECK(first.errors.size() == windows.errors.size(),
               "CRLF line ends change the errors: %zu vs %zu", first.errors.size(),
               windows.errors.size());
    FUZZ_CHECK(first.fingerprint == windows.fingerprint,
               "CRLF line ends change the policy:\n%s\n---\n%s", first.fingerprint.c_str(),
               windows.fingerprint.c_str());
  }

  // Nothing is silently ignored: a file that loads, with an unknown key appended, no
  // longer does (whatever section the key falls into).
  if (first.errors.empty()) {
    const std::string extended = text + "\nfuzz_unknown_key = 1\n";
    const auto r = tlsgate::policy::load_policy_text(extended, "fuzz.ini", scratch);
    FUZZ_CHECK(!r.errors.empty(), "an unknown key appended to a valid file is accepted");
  }
  return 0;
}
