#include "policy/loader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <unordered_map>

#include "policy/ini_source.h"
#include "policy/networks.h"
#include "policy/schema.h"

namespace tlsgate::policy {

namespace {

constexpr std::string_view kDefaultSource = "default";

struct Setting {
  std::string value;
  int line;
};

struct Section {
  Scope scope;
  std::string name;    // the source's name; "milter" for [milter]
  std::string header;  // as written between the brackets, normalised: "source NAME"
  int header_line = 0;
  std::map<std::string, Setting, std::less<>> settings;

  const Setting* get(std::string_view key) const {
    const auto it = settings.find(key);
    return it == settings.end() ? nullptr : &it->second;
  }
};

// "source NAME" or "milter", with any run of blanks between words.
std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

bool valid_source_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

}  // namespace

class PolicyBuilder {
 public:
  PolicyBuilder(std::string file, std::string base_dir, LoadOptions options)
      : file_(std::move(file)), base_dir_(std::move(base_dir)), options_(options) {
    sections_.push_back({Scope::source, std::string(kDefaultSource), "source default", 0, {}});
  }

  LoadResult load(std::string_view text) {
    parse_ini(
        text, file_, [this](const IniEntry& e) { on_entry(e); }, errors_);
    auto policy = build();
    std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
      return std::tie(a.file, a.line) < std::tie(b.file, b.line);
    });
    if (!errors_.empty()) policy.reset();
    return {std::move(policy), std::move(errors_)};
  }

  void error(int line, std::string message) {
    errors_.push_back({file_, line, std::move(message)});
  }
  std::vector<ConfigError>& errors() { return errors_; }

 private:
  // The section an entry belongs to, or nullptr (after reporting it once) if
  // the header is not one tlsgate knows.
  Section* section_for(const IniEntry& e) {
    const std::vector<std::string> words = words_of(e.section);
    std::string header;
    Scope scope = Scope::source;
    std::string name;
    if (words.size() == 1 && words[0] == "milter") {
      scope = Scope::milter;
      header = name = "milter";
    } else if (words.size() == 2 && words[0] == "source" && valid_source_name(words[1])) {
      name = words[1];
      header = "source " + name;
    } else if (e.section_line == 0) {  // no [header] above this key
      error(e.line, "'" + std::string(e.key) +
                        "' is not in any section (expected [milter] or [source NAME] before it)");
      return nullptr;
    } else {
      if (reported_sections_.insert({std::string(e.section), e.section_line}).second) {
        error(e.section_line,
              "unknown section [" + std::string(e.section) +
                  "] (expected [milter] or [source NAME], NAME of letters, digits, - _ .)");
      }
      return nullptr;
    }

    auto it = std::find_if(sections_.begin(), sections_.end(),
                           [&](const Section& s) { return s.header == header; });
    if (it == sections_.end()) {
      sections_.push_back({scope, name, header, e.section_line, {}});
      source_count_ += scope == Scope::source ? 1 : 0;
      return &sections_.back();
    }
    if (it->header_line == 0) {  // [source default] exists implicitly until written
      it->header_line = e.section_line;
      ++source_count_;
    } else if (it->header_line != e.section_line &&
               reported_sections_.insert({header, e.section_line}).second) {
      error(e.section_line, "[" + header + "] appears twice (first at line " +
                                std::to_string(it->header_line) + ")");
    }
    return &*it;
  }

  void on_entry(const IniEntry& e) {
    Section* section = section_for(e);
    if (section == nullptr || e.key.empty()) return;  // empty: a section with no keys
    const std::string where = "[" + section->header + "]";
    const KeySpec* key = find_key(section->scope, e.key);
    if (key == nullptr) {
      error(e.line, "unknown key '" + std::string(e.key) + "' in " + where);
      return;
    }
    if (const Setting* previous = section->get(key->name)) {
      error(e.line, std::string(key->name) + " is set twice in " + where + " (first at line " +
                        std::to_string(previous->line) + ")");
      return;
    }
    section->settings[std::string(key->name)] = {std::string(e.value), e.line};
    if (auto problem = check_value(*key, e.value)) {
      error(e.line, std::string(key->name) + ": " + *problem);
      return;
    }
    if (section->scope == Scope::milter && options_.check_setting) {
      if (auto problem = options_.check_setting(key->name, e.value)) {
        error(e.line, std::string(key->name) + ": " + *problem);
        return;
      }
    }

    const auto section_index = static_cast<std::uint32_t>(section - sections_.data());
    const bool is_network_key = key->type == ValueType::cidr_list || key->name == "networks_file";
    if (is_network_key && section->name == kDefaultSource) {
      error(e.line, std::string(key->name) +
                        ": [source default] governs every client no other source does; it "
                        "takes no networks");
    } else if (key->type == ValueType::cidr_list) {
      networks_.push_back({false, std::string(e.value), e.line, section_index});
    } else if (key->name == "networks_file") {
      networks_.push_back({true, resolve_path(e.value), e.line, section_index});
    } else if (key->type == ValueType::cipher_list || key->type == ValueType::ciphersuites) {
      if (auto problem = expand_ciphers(key->type, std::string(e.value))) {
        error(e.line, std::string(key->name) + ": " + *problem);
      }
    }
  }

  std::string resolve_path(std::string_view value) const {
    const std::filesystem::path p(value);
    if (p.is_absolute() || base_dir_.empty()) return p.string();
    return (std::filesystem::path(base_dir_) / p).string();
  }

  // Reads every `networks` value and networks_file in the order the INI file lists
  // them, after counting them so that the netblocks are allocated once.
  void read_networks() {
    std::size_t count = 0;
    for (const Networks& n : networks_) {
      count += n.is_file ? count_networks_file(n.text) : count_networks(n.text);
    }
    prefixes_.items.v4.reserve(count);
    prefixes_.items.v6.reserve(count);
    for (const Networks& n : networks_) {
      std::error_code ec;
      if (!n.is_file) {
        parse_networks(n.text, file_, n.line, n.section, prefixes_, errors_);
      } else if (std::filesystem::is_directory(n.text, ec)) {
        error(n.line, "networks_file " + n.text + ": is a directory");
      } else {
        read_networks_file(n.text, file_, n.line, n.section, prefixes_, errors_);
      }
    }
    networks_.clear();
  }

  // Expands a cipher string once per load, whichever sections use it.
  std::optional<std::string> expand_ciphers(ValueType type, const std::string& spec) {
    const auto family =
        type == ValueType::cipher_list ? CipherSet::Family::tls12 : CipherSet::Family::tls13;
    const auto cache_key = std::make_pair(family, spec);
    if (ciphers_.count(cache_key) != 0) return std::nullopt;
    auto expanded = options_.expand_ciphers(family, spec);
    if (auto* problem = std::get_if<std::string>(&expanded)) return *problem;
    ciphers_[cache_key] =
        std::make_shared<const CipherSet>(std::get<CipherSet>(std::move(expanded)));
    return std::nullopt;
  }

  std::shared_ptr<const Policy> build();
  void check_certificate_names(const std::vector<Rule>& rules);
  std::uint32_t chain_for(std::uint32_t section, std::uint32_t parent_chain);
  Rule make_rule(std::uint32_t chain) const;
  void apply(Rule& rule, std::string_view key, const std::string& value) const;

  struct ChainNode {
    std::uint32_t section;
    std::uint32_t parent;  // NetblockTable::kNone for the root ([source default])
  };

  std::string file_;
  std::string base_dir_;
  LoadOptions options_;
  std::vector<ConfigError> errors_;
  std::vector<Section> sections_;  // [0] is [source default]
  std::size_t source_count_ = 0;
  std::set<std::pair<std::string, int>> reported_sections_;
  struct Networks {  // a `networks` value (its text) or a networks_file (its path)
    bool is_file;
    std::string text;
    int line;
    std::uint32_t section;
  };
  std::vector<Networks> networks_;
  PrefixList prefixes_;
  std::map<std::pair<CipherSet::Family, std::string>, std::shared_ptr<const CipherSet>> ciphers_;
  std::vector<ChainNode> chains_{{0, NetblockTable::kNone}};
  std::unordered_map<std::uint64_t, std::uint32_t> chain_index_;
};

// The chain of sections a netblock inherits through: its own section, then the
// chain of the netblock that encloses it. Interned, so each distinct chain gets
// one merged rule however many netblocks share it.
std::uint32_t PolicyBuilder::chain_for(std::uint32_t section, std::uint32_t parent_chain) {
  if (parent_chain == NetblockTable::kNone) parent_chain = 0;
  if (chains_[parent_chain].section == section) return parent_chain;
  const std::uint64_t key = (std::uint64_t{section} << 32) | parent_chain;
  const auto [it, inserted] =
      chain_index_.try_emplace(key, static_cast<std::uint32_t>(chains_.size()));
  if (inserted) chains_.push_back({section, parent_chain});
  return it->second;
}

void PolicyBuilder::apply(Rule& rule, std::string_view key, const std::string& value) const {
  if (key == "require_starttls") {
    rule.require_starttls = parse_bool(value);
  } else if (key == "require_starttls_before_auth") {
    rule.require_starttls_before_auth = parse_bool(value);
  } else if (key == "allow_unencrypted_plain_auth") {
    rule.allow_unencrypted_plain_auth = parse_bool(value);
  } else if (key == "min_tls_version") {
    rule.min_tls_version = parse_tls_version(value);
  } else if (key == "min_cipher_bits") {
    rule.min_cipher_bits = parse_count(value);
  } else if (key == "ciphers" || key == "tls13_ciphersuites") {
    const auto family = key == "ciphers" ? CipherSet::Family::tls12 : CipherSet::Family::tls13;
    const auto it = ciphers_.find({family, value});
    auto& target = key == "ciphers" ? rule.ciphers : rule.tls13_ciphersuites;
    target = it == ciphers_.end() ? nullptr : it->second;
  } else if (key == "require_client_cert") {
    rule.require_client_cert = parse_bool(value);
  } else if (key == "client_cert_issuer") {
    rule.client_cert_issuer = value;
  } else if (key == "client_cert_subject") {
    rule.client_cert_subject = value;
  } else if (key == "action") {
    rule.action = value == "tempfail" ? Action::tempfail : Action::reject;
  } else if (key == "mode") {
    rule.mode = value == "monitor" ? Mode::monitor : Mode::enforce;
  }
}

Rule PolicyBuilder::make_rule(std::uint32_t chain) const {
  Rule rule;
  std::vector<const Section*> lineage;
  for (std::uint32_t c = chain; c != NetblockTable::kNone; c = chains_[c].parent) {
    lineage.push_back(&sections_[chains_[c].section]);
  }
  rule.source = lineage.front()->name;
  for (const Section* s : lineage) rule.chain.push_back(s->name);

  const auto milter = std::find_if(sections_.begin(), sections_.end(),
                                   [](const Section& s) { return s.scope == Scope::milter; });
  for (const KeySpec& key : all_keys()) {
    if (key.scope != Scope::source || key.type == ValueType::cidr_list ||
        key.name == "networks_file") {
      continue;
    }
    ResolvedSetting resolved{key.name, std::string(key.default_value), {}};
    bool found = false;
    for (const Section* s : lineage) {
      if (const Setting* set = s->get(key.name)) {
        resolved.value = set->value;
        resolved.origin = {"source " + s->name, file_, set->line};
        found = true;
        break;
      }
    }
    if (!found && key.name == "mode") {  // a source's mode defaults to [milter] mode
      const Setting* set = milter == sections_.end() ? nullptr : milter->get("mode");
      resolved.value = set != nullptr ? set->value : "enforce";
      if (set != nullptr) resolved.origin = {"milter", file_, set->line};
    }
    apply(rule, key.name, resolved.value);
    rule.settings.push_back(std::move(resolved));
  }
  return rule;
}

// client_cert_issuer/subject only narrow require_client_cert: set where no
// certificate is required, they would enforce nothing, silently. An error, where
// the section names them itself (a source that inherits them and turns the
// requirement off does so on purpose).
void PolicyBuilder::check_certificate_names(const std::vector<Rule>& rules) {
  std::set<int> reported;
  for (const Rule& rule : rules) {
    if (rule.require_client_cert) continue;
    for (const ResolvedSetting& s : rule.settings) {
      const bool names_certificate =
          s.key == "client_cert_issuer" || s.key == "client_cert_subject";
      if (!names_certificate || s.value.empty() || s.origin.section != "source " + rule.source ||
          !reported.insert(s.origin.line).second) {
        continue;
      }
      errors_.push_back({file_, s.origin.line,
                         std::string(s.key) + ": applies only with require_client_cert = yes, " +
                             "which [source " + rule.source +
                             "] does not set (nor a source it inherits from)"});
    }
  }
}

std::shared_ptr<const Policy> PolicyBuilder::build() {
  read_networks();
  for (const Section& s : sections_) {
    if (s.scope == Scope::source && s.name != kDefaultSource && s.get("networks") == nullptr &&
        s.get("networks_file") == nullptr) {
      error(s.header_line, "[" + s.header + "] has no networks (set networks or networks_file)");
    }
  }

  auto policy = std::make_shared<Policy>(Policy::Key{});
  const std::size_t listed = prefixes_.items.size();
  if (options_.keep_netblocks) {
    policy->netblocks_.reserve(listed);
    for (const auto& it : prefixes_.items.v4) {
      policy->netblocks_.push_back({NetblockTable::prefix_of(it), sections_[it.payload].name});
    }
    for (const auto& it : prefixes_.items.v6) {
      policy->netblocks_.push_back({NetblockTable::prefix_of(it), sections_[it.payload].name});
    }
  }
  std::size_t duplicates = 0;
  policy->table_ = NetblockTable::build(
      std::move(prefixes_.items),
      [this](std::uint32_t section, std::uint32_t parent) { return chain_for(section, parent); },
      [&](const NetblockTable::Duplicate& d) {
        ++duplicates;
        if (d.earlier_payload == d.later_payload) return;  // listed twice in one source: harmless
        const PrefixList::Where at = prefixes_.where(d.later);
        errors_.push_back({at.file, at.line,
                           d.prefix.to_string() + " is already in [" +
                               sections_[d.earlier_payload].header + "] at " +
                               prefixes_.describe(d.earlier)});
      });
  if (!errors_.empty()) return nullptr;

  for (std::uint32_t c = 0; c < chains_.size(); ++c) policy->rules_.push_back(make_rule(c));
  check_certificate_names(policy->rules_);
  if (!errors_.empty()) return nullptr;
  policy->source_count_ = source_count_;
  policy->netblock_count_ = listed - duplicates;

  MilterSettings& m = policy->milter_;
  for (const Section& s : sections_) {
    if (s.scope != Scope::milter) continue;
    auto text = [&](std::string_view key, std::string& out) {
      if (const Setting* set = s.get(key)) out = set->value;
    };
    text("socket", m.socket);
    text("user", m.user);
    text("group", m.group);
    text("syslog_facility", m.syslog_facility);
    text("syslog_ident", m.syslog_ident);
    text("accounting_file", m.accounting_file);
    text("pid_file", m.pid_file);
    if (const Setting* set = s.get("socket_mode")) {
      m.socket_mode = static_cast<unsigned>(std::stoul(set->value, nullptr, 8));
    }
    if (const Setting* set = s.get("mode")) {
      m.mode = set->value == "monitor" ? Mode::monitor : Mode::enforce;
    }
    if (const Setting* set = s.get("mta")) {
      m.mta = set->value == "postfix"    ? Mta::postfix
                                         : set->value == "sendmail" ? Mta::sendmail
                                                                    : Mta::automatic;
    }
    // One rule for every path of the file: relative to the config file's directory.
    if (!m.accounting_file.empty()) m.accounting_file = resolve_path(m.accounting_file);
    if (!m.pid_file.empty()) m.pid_file = resolve_path(m.pid_file);
  }
  return policy;
}

LoadResult load_policy_text(std::string_view text, const std::string& file,
                            const std::string& base_dir, LoadOptions options) {
  PolicyBuilder builder(file, base_dir, options);
  return builder.load(text);
}

LoadResult load_policy(const std::string& path, LoadOptions options) {
  auto fail = [&](std::string message) {
    return LoadResult{nullptr, {{path, 0, std::move(message)}}};
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return fail("is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(std::string("cannot read: ") + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return fail("read error");
  if (text.str().find_first_not_of(" \t\r\n") == std::string::npos) {
    return fail("the file is empty: nothing to enforce");
  }
  const std::string base_dir = std::filesystem::path(path).parent_path().string();
  return load_policy_text(text.str(), path, base_dir, options);
}

}  // namespace tlsgate::policy
