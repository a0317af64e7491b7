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
#include "policy/socket_spec.h"

namespace tlsgate::policy {

namespace {

constexpr std::string_view kDefaultSource = "default";

struct Setting {
  Value value;  // the text only, if it did not read
  int line;
};

struct Section {
  Scope scope;
  std::string name;    // the source's or partner's name; "milter" for [milter]
  std::string header;  // as written between the brackets, normalised: "source NAME"
  int header_line = 0;
  std::map<const KeySpec*, Setting> settings;

  const Setting* get(const KeySpec* key) const {
    const auto it = settings.find(key);
    return it == settings.end() ? nullptr : &it->second;
  }
  // The first setting of a key of this type, or nullptr.
  const std::pair<const KeySpec* const, Setting>* first_of(ValueType type) const {
    const auto it = std::find_if(settings.begin(), settings.end(),
                                 [type](const auto& s) { return s.first->type == type; });
    return it == settings.end() ? nullptr : &*it;
  }
  bool has_networks() const {
    return first_of(ValueType::cidr_list) != nullptr ||
           first_of(ValueType::networks_file) != nullptr;
  }
  bool is_default_source() const { return scope == Scope::source && name == kDefaultSource; }
};

// "source NAME", "partner NAME" or "milter", with any run of blanks between words.
std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  constexpr std::string_view kBlanks = " \t\n\v\f\r";  // what `istream >>` skips
  for (std::size_t start = 0; (start = text.find_first_not_of(kBlanks, start)) != text.npos;) {
    const std::size_t end = std::min(text.find_first_of(kBlanks, start), text.size());
    words.emplace_back(text.substr(start, end - start));
    start = end;
  }
  return words;
}

// A value the table gives (a default), read as any value.
Value table_value(const KeySpec& key, std::string_view text) {
  if (text.empty()) return {};
  return std::get<Value>(read_value(key, text, {}));
}

// A key's value when no section sets it: the table's default.
Value built_in_value(const KeySpec& key) { return table_value(key, key.default_value); }

const std::string kExpectedSections =
    "expected [milter], [source NAME] or [partner NAME], NAME of letters, digits, - _ .";

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
      : file_(std::move(file)), options_(std::move(options)) {
    sections_.push_back({Scope::source, std::string(kDefaultSource), "source default", 0, {}});
    reader_.base_dir = std::move(base_dir);
    reader_.expand_ciphers = [this](CipherSet::Family family, const std::string& spec) {
      return expand_ciphers(family, spec);
    };
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
    } else if (words.size() == 2 && (words[0] == "source" || words[0] == "partner") &&
               valid_source_name(words[1])) {
      scope = words[0] == "source" ? Scope::source : Scope::partner;
      name = words[1];
      header = words[0] + " " + name;
    } else if (e.section_line == 0) {  // no [header] above this key
      error(e.line, "'" + std::string(e.key) +
                        "' is not in any section (expected [milter], [source NAME] or "
                        "[partner NAME] before it)");
      return nullptr;
    } else {
      if (reported_sections_.insert({std::string(e.section), e.section_line}).second) {
        error(e.section_line,
              "unknown section [" + std::string(e.section) + "] (" + kExpectedSections + ")");
      }
      return nullptr;
    }

    const auto [found, added] = section_index_.try_emplace(header, sections_.size());
    if (added) {
      sections_.push_back({scope, name, header, e.section_line, {}});
      source_count_ += scope == Scope::source ? 1 : 0;
      return &sections_.back();
    }
    const auto it = sections_.begin() + static_cast<std::ptrdiff_t>(found->second);
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
    // The keys of one section come one after the other: its header's line finds it.
    Section* section = nullptr;
    if (e.section_line != 0 && e.section_line == last_section_line_) {
      section = &sections_[last_section_];
    } else {
      section = section_for(e);
      if (section != nullptr) {
        last_section_line_ = e.section_line;
        last_section_ = static_cast<std::size_t>(section - sections_.data());
      }
    }
    if (section == nullptr || e.key.empty()) return;  // empty: a section with no keys
    const std::string where = "[" + section->header + "]";
    const KeySpec* key = find_key(section->scope, e.key);
    if (key == nullptr) {
      error(e.line, "unknown key '" + std::string(e.key) + "' in " + where);
      return;
    }
    if (const Setting* previous = section->get(key)) {
      error(e.line, std::string(key->name) + " is set twice in " + where + " (first at line " +
                        std::to_string(previous->line) + ")");
      return;
    }
    Setting& setting = section->settings[key] = {{std::string(e.value), {}}, e.line};
    auto read = read_value(*key, e.value, reader_);
    if (auto* problem = std::get_if<std::string>(&read)) {
      error(e.line, std::string(key->name) + ": " + *problem);
      return;
    }
    setting.value = std::get<Value>(std::move(read));
    if (section->scope == Scope::milter && options_.check_setting) {
      if (auto problem = options_.check_setting(*key, e.value)) {
        error(e.line, std::string(key->name) + ": " + *problem);
        return;
      }
    }

    const auto section_index = static_cast<std::uint32_t>(section - sections_.data());
    const bool networks_file = key->type == ValueType::networks_file;
    if ((networks_file || key->type == ValueType::cidr_list) && section->is_default_source()) {
      error(e.line, std::string(key->name) +
                        ": [source default] governs every client no other source does; it "
                        "takes no networks");
    } else if (networks_file) {
      networks_.push_back({key, std::get<std::string>(setting.value.typed), e.line, section_index});
    } else if (key->type == ValueType::cidr_list) {
      networks_.push_back({key, std::string(e.value), e.line, section_index});
    }
  }

  // Reads every `networks` value and networks_file in the order the INI file lists
  // them, after counting them so that the netblocks are allocated once.
  // A partner's networks go to a list of its own: they say where its sender
  // domains may send from, and govern no client.
  void read_networks() {
    std::size_t count = 0;
    for (const Networks& n : networks_) {
      if (sections_[n.section].scope != Scope::source) continue;
      count += n.is_file() ? count_networks_file(n.text) : count_networks(n.text);
    }
    prefixes_.items.v4.reserve(count);
    prefixes_.items.v6.reserve(count);
    for (const Networks& n : networks_) {
      PrefixList& list =
          sections_[n.section].scope == Scope::source ? prefixes_ : partner_prefixes_[n.section];
      std::error_code ec;
      if (!n.is_file()) {
        parse_networks(n.text, file_, n.line, n.section, list, errors_);
      } else if (std::filesystem::is_directory(n.text, ec)) {
        error(n.line, std::string(n.key->name) + " " + n.text + ": is a directory");
      } else {
        read_networks_file(n.key->name, n.text, file_, n.line, n.section, list, errors_);
      }
    }
    networks_.clear();
  }

  // Expands a cipher string once per load, whichever sections use it.
  std::variant<std::shared_ptr<const CipherSet>, std::string> expand_ciphers(
      CipherSet::Family family, const std::string& spec) {
    const auto cache_key = std::make_pair(family, spec);
    if (const auto it = ciphers_.find(cache_key); it != ciphers_.end()) return it->second;
    auto expanded = options_.expand_ciphers(family, spec);
    if (auto* problem = std::get_if<std::string>(&expanded)) return *problem;
    auto set = std::make_shared<const CipherSet>(std::get<CipherSet>(std::move(expanded)));
    ciphers_[cache_key] = set;
    return set;
  }

  std::shared_ptr<const Policy> build();
  void check_partner_sections();
  void build_partners(Policy& policy);
  void check_certificate_names(const std::vector<Rule>& rules);
  std::uint32_t chain_for(std::uint32_t section, std::uint32_t parent_chain);
  Rule make_rule(std::uint32_t chain) const;
  Rule make_partner_rule(std::uint32_t section, const std::vector<ResolvedSetting>& unset);
  ResolvedSetting milter_default(const KeySpec& key) const;
  int nothing_to_serve() const;

  struct ChainNode {
    std::uint32_t section;
    std::uint32_t parent;  // NetblockTable::kNone for the root ([source default])
  };

  std::string file_;
  LoadOptions options_;
  ValueReader reader_;
  std::vector<ConfigError> errors_;
  std::vector<Section> sections_;  // [0] is [source default]
  std::unordered_map<std::string, std::size_t> section_index_{{"source default", 0}};  // by header
  int last_section_line_ = 0;  // the header of the last entry's section, and its index
  std::size_t last_section_ = 0;
  std::size_t source_count_ = 0;
  std::set<std::pair<std::string, int>> reported_sections_;
  struct Networks {  // a netblock list (its text) or a file of them (its path)
    const KeySpec* key;
    bool is_file() const { return key->type == ValueType::networks_file; }
    std::string text;
    int line;
    std::uint32_t section;
  };
  std::vector<Networks> networks_;
  PrefixList prefixes_;
  std::map<std::uint32_t, PrefixList> partner_prefixes_;  // by section
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

Rule PolicyBuilder::make_rule(std::uint32_t chain) const {
  Rule rule;
  std::vector<const Section*> lineage;
  for (std::uint32_t c = chain; c != NetblockTable::kNone; c = chains_[c].parent) {
    lineage.push_back(&sections_[chains_[c].section]);
  }
  rule.source = lineage.front()->name;
  for (const Section* s : lineage) rule.chain.push_back(s->name);

  for (const KeySpec* key : all_keys()) {
    if (key->to_rule == nullptr || !key->scopes.has(Scope::source)) continue;
    ResolvedSetting resolved{key, {}, {}};
    bool found = false;
    for (const Section* s : lineage) {
      if (const Setting* set = s->get(key)) {
        resolved.value = set->value;
        resolved.origin = {"source " + s->name, file_, set->line};
        found = true;
        break;
      }
    }
    if (!found && key->default_from != nullptr) {  // e.g. a source's mode: [milter] mode
      resolved = milter_default(*key);
      found = true;
    }
    if (!found) resolved.value = built_in_value(*key);
    key->to_rule(rule, resolved.value);
    rule.settings.push_back(std::move(resolved));
  }
  return rule;
}

// A key whose default is a [milter] key's value: that value and where it was set.
ResolvedSetting PolicyBuilder::milter_default(const KeySpec& key) const {
  ResolvedSetting resolved{&key, built_in_value(*key.default_from), {}};
  const auto milter = section_index_.find("milter");
  if (milter == section_index_.end()) return resolved;
  if (const Setting* set = sections_[milter->second].get(key.default_from)) {
    resolved.value = set->value;
    resolved.origin = {"milter", file_, set->line};
  }
  return resolved;
}

// A partner's rule: what it sets, and for every other key the value that imposes
// nothing (a partner inherits from no source); its mode defaults to [milter] mode.
// For --explain, its settings list what it sets, and its mode and action however
// they were set. `unset`: each partner key's value where a partner does not set it.
Rule PolicyBuilder::make_partner_rule(std::uint32_t section,
                                      const std::vector<ResolvedSetting>& unset) {
  const Section& s = sections_[section];
  Rule rule;
  rule.partner = s.name;
  const bool explain = options_.keep_netblocks;
  if (explain) rule.settings.reserve(s.settings.size() + 2);  // what it sets, mode, action
  for (const ResolvedSetting& otherwise : unset) {
    const KeySpec* key = otherwise.key;
    const Setting* set = s.get(key);
    const bool how = key->type == ValueType::mode || key->type == ValueType::action;
    if (set != nullptr) {
      if (key->to_rule != nullptr) key->to_rule(rule, set->value);
      if (explain) rule.settings.push_back({key, set->value, {s.header, file_, set->line}});
    } else {
      if (key->to_rule != nullptr) key->to_rule(rule, otherwise.value);
      if (explain && how) rule.settings.push_back(otherwise);
    }
  }

  if (auto it = partner_prefixes_.find(section); it != partner_prefixes_.end()) {
    rule.partner_networks = std::make_shared<const NetblockTable>(NetblockTable::build(
        std::move(it->second.items), [](std::uint32_t payload, std::uint32_t) { return payload; },
        [](const NetblockTable::Duplicate&) {}));  // listed twice: harmless
    partner_prefixes_.erase(it);
  }
  return rule;
}

// The partners' rules in file order, and the domain indexes that find them.
void PolicyBuilder::build_partners(Policy& policy) {
  policy.partners_.reserve(static_cast<std::size_t>(
      std::count_if(sections_.begin(), sections_.end(),
                    [](const Section& s) { return s.scope == Scope::partner; })));
  std::vector<ResolvedSetting> unset;  // read once, not once per partner
  for (const KeySpec* key : all_keys()) {
    if (!key->scopes.has(Scope::partner)) continue;
    unset.push_back(key->default_from != nullptr
                        ? milter_default(*key)
                        : ResolvedSetting{key, table_value(*key, partner_default(*key)), {}});
  }
  DomainIndex::Builder senders, recipients;
  for (std::uint32_t section = 0; section < sections_.size(); ++section) {
    if (sections_[section].scope != Scope::partner) continue;
    const auto id = static_cast<std::uint32_t>(policy.partners_.size());
    Rule& rule = policy.partners_.emplace_back(make_partner_rule(section, unset));
    if (rule.sender_domains) {
      for (const DomainPattern& p : rule.sender_domains->patterns) senders.add(p, id);
    }
    if (rule.recipient_domains) {
      for (const DomainPattern& p : rule.recipient_domains->patterns) recipients.add(p, id);
    }
  }
  policy.sender_index_ = std::move(senders).build();
  policy.recipient_index_ = std::move(recipients).build();
}

// What a partner section needs besides its values: a domain key, and networks only
// for sender domains (networks say where a sender domain's mail may come from).
void PolicyBuilder::check_partner_sections() {
  std::string domain_keys;  // "sender_domains nor recipient_domains"
  for (const KeySpec* key : all_keys()) {
    if (!key->scopes.has(Scope::partner) || key->type != ValueType::domain_list) continue;
    domain_keys += (domain_keys.empty() ? "" : " nor ") + std::string(key->name);
  }
  for (const Section& s : sections_) {
    if (s.scope != Scope::partner) continue;
    if (s.first_of(ValueType::domain_list) == nullptr) {
      error(s.header_line, "[" + s.header + "] has neither " + domain_keys +
                               " (a partner applies to mail by its envelope domains)");
    }
    for (const auto& [key, setting] : s.settings) {
      if (key->partner_needs != nullptr && s.get(key->partner_needs) == nullptr) {
        error(setting.line, std::string(key->name) + ": applies only beside " +
                                std::string(key->partner_needs->name) + ", which [" + s.header +
                                "] does not set (" + std::string(key->partner_needs_why) + ")");
      }
      // The certificate names, as in a source; a partner inherits nothing, so the
      // requirement must be in the partner itself.
      if (key->needs == nullptr || setting.value.text.empty()) continue;
      const Setting* needed = s.get(key->needs);
      const bool* on = needed == nullptr ? nullptr : std::get_if<bool>(&needed->value.typed);
      if (needed != nullptr && on == nullptr) continue;  // its own value is the error
      if (on == nullptr || !*on) {
        error(setting.line, std::string(key->name) + ": applies only with " +
                                std::string(key->needs->name) + " = yes, which [" + s.header +
                                "] does not set");
      }
    }
  }
}

// Keys that only narrow another (the certificate names narrow require_client_cert):
// set where that one is off, they would enforce nothing, silently. An error, where
// the section names them itself (a source that inherits them and turns the
// requirement off does so on purpose).
void PolicyBuilder::check_certificate_names(const std::vector<Rule>& rules) {
  std::set<int> reported;
  for (const Rule& rule : rules) {
    for (const ResolvedSetting& s : rule.settings) {
      if (s.key->needs == nullptr || s.value.text.empty() ||
          s.origin.section != "source " + rule.source || reported.count(s.origin.line) != 0) {
        continue;
      }
      const auto needed =
          std::find_if(rule.settings.begin(), rule.settings.end(),
                       [&](const ResolvedSetting& n) { return n.key == s.key->needs; });
      if (needed == rule.settings.end() || std::get<bool>(needed->value.typed)) continue;
      reported.insert(s.origin.line);
      errors_.push_back({file_, s.origin.line,
                         std::string(s.key->name) + ": applies only with " +
                             std::string(s.key->needs->name) + " = yes, which [source " +
                             rule.source + "] does not set (nor a source it inherits from)"});
    }
  }
}

std::shared_ptr<const Policy> PolicyBuilder::build() {
  read_networks();
  for (const Section& s : sections_) {
    if (s.scope == Scope::source && s.name != kDefaultSource && !s.has_networks()) {
      error(s.header_line, "[" + s.header + "] has no networks (set networks or networks_file)");
    }
  }
  check_partner_sections();

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
  build_partners(*policy);
  if (!errors_.empty()) return nullptr;
  policy->source_count_ = source_count_;
  policy->netblock_count_ = listed - duplicates;

  MilterSettings& m = policy->milter_;
  m = built_in_milter_settings();
  for (const Section& s : sections_) {
    if (s.scope != Scope::milter) continue;
    for (const auto& [key, setting] : s.settings) key->to_milter(m, setting.value);
  }
  if (const int line = nothing_to_serve(); line != 0) {
    error(line, "no front end left: every socket is none (set socket or policy_socket)");
    return nullptr;
  }
  return policy;
}

// The line of the last socket set to none, if no socket key (milter, policy
// service) names a socket any more, set or by default; else 0.
int PolicyBuilder::nothing_to_serve() const {
  const auto milter = std::find_if(sections_.begin(), sections_.end(),
                                   [](const Section& s) { return s.scope == Scope::milter; });
  int line = 0;
  for (const KeySpec* key : all_keys()) {
    if (key->type != ValueType::socket) continue;
    const Setting* set = milter == sections_.end() ? nullptr : milter->get(key);
    const std::string_view text =
        set != nullptr ? std::string_view(set->value.text) : key->default_value;
    if (!text.empty() && text != kNoSocket) return 0;
    if (set != nullptr) line = std::max(line, set->line);
  }
  return line;
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
