// The schema table against the docs: every key tlsgate reads is in README.md's key
// tables and in tlsgate.ini(5), in the right section, and every key they document
// is one tlsgate reads. A key added to the code and not documented, or documented
// and gone, fails the build.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "policy/schema.h"

namespace tlsgate::policy {
namespace {

// Unit tests run in t/unit.
std::string read(const std::string& path) {
  std::ifstream in("../../" + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) throw std::runtime_error("cannot read " + path);
  return text.str();
}

using Keys = std::set<std::string>;

Keys schema_keys(Scope scope) {
  Keys keys;
  for (const KeySpec* k : all_keys()) {
    if (k->scopes.has(scope)) keys.insert(std::string(k->name));
  }
  return keys;
}

// The text from the line starting with `from` to the next line starting with `to`.
std::string part(const std::string& text, const std::string& from, const std::string& to) {
  const auto start = text.find("\n" + from);
  if (start == std::string::npos) throw std::runtime_error("no section " + from);
  const auto end = text.find("\n" + to, start + 1);
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// README: the first cell of each table row, "`user`, `group`" naming two keys.
Keys readme_keys(const std::string& section) {
  Keys keys;
  std::istringstream in(section);
  const std::regex name("`([a-z0-9_]+)`");
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("| `")) continue;
    const std::string cell = line.substr(1, line.find('|', 1) - 1);
    for (std::sregex_iterator m(cell.begin(), cell.end(), name), end; m != end; ++m) {
      keys.insert((*m)[1]);
    }
  }
  return keys;
}

// tlsgate.ini(5): each ".TP" item, `.BI "key = " ...` or `.BR "key = ...`: key -> its text.
std::map<std::string, std::string> man_items(const std::string& section) {
  std::map<std::string, std::string> items;
  const std::regex entry("\n\\.TP\n\\.B[IR]? \"([a-z0-9_]+) = ");
  for (std::sregex_iterator m(section.begin(), section.end(), entry), end; m != end; ++m) {
    const auto start = static_cast<std::size_t>(m->position(0)) + 1;
    const auto next = section.find("\n.TP\n", start);
    items[(*m)[1]] = section.substr(start, next == std::string::npos ? next : next - start);
  }
  return items;
}

Keys man_keys(const std::string& section) {
  Keys keys;
  for (const auto& [key, text] : man_items(section)) keys.insert(key);
  return keys;
}

TEST(SchemaDocs, ReadmeKeyTables) {
  const std::string readme = read("README.md");
  EXPECT_EQ(readme_keys(part(readme, "### `[source NAME]` keys", "### ")),
            schema_keys(Scope::source));
  EXPECT_EQ(readme_keys(part(readme, "### `[milter]` keys", "### ")), schema_keys(Scope::milter));
  EXPECT_EQ(readme_keys(part(readme, "### `[partner NAME]` keys", "## ")),
            schema_keys(Scope::partner));
}

TEST(SchemaDocs, ManPageSections) {
  const std::string man = read("contrib/man/tlsgate.ini.5");
  EXPECT_EQ(man_keys(part(man, ".SH THE [milter] SECTION", ".SH ")), schema_keys(Scope::milter));
  EXPECT_EQ(man_keys(part(man, ".SH THE [source NAME] SECTIONS", ".SH ")),
            schema_keys(Scope::source));
  EXPECT_EQ(man_keys(part(man, ".SH THE [partner NAME] SECTIONS", ".SH ")),
            schema_keys(Scope::partner));
}

// Each item names the key's built-in default ("Default: 0660.", "mode = enforce |");
// a partner's item the value a partner that does not set the key gets.
TEST(SchemaDocs, ManPageNamesEachDefault) {
  const std::string man = read("contrib/man/tlsgate.ini.5");
  const auto milter = man_items(part(man, ".SH THE [milter] SECTION", ".SH "));
  const auto source = man_items(part(man, ".SH THE [source NAME] SECTIONS", ".SH "));
  const auto partner = man_items(part(man, ".SH THE [partner NAME] SECTIONS", ".SH "));
  for (const KeySpec* k : all_keys()) {
    std::vector<std::pair<const std::map<std::string, std::string>*, std::string_view>> docs;
    if (k->scopes.has(Scope::milter)) docs.emplace_back(&milter, k->default_value);
    if (k->scopes.has(Scope::source)) docs.emplace_back(&source, k->default_value);
    if (k->scopes.has(Scope::partner) && k->default_from == nullptr) {
      docs.emplace_back(&partner, partner_default(*k));
    }
    for (const auto& [items, value] : docs) {
      if (value.empty()) continue;
      const auto it = items->find(std::string(k->name));
      ASSERT_NE(it, items->end()) << k->name;
      EXPECT_NE(it->second.find(std::string(value)), std::string::npos)
          << k->name << ": its item does not name the default " << value;
    }
  }
}

TEST(SchemaDocs, EveryKeyHasHelpAndItsDefaultReads) {
  for (const KeySpec* k : all_keys()) {
    EXPECT_FALSE(k->help.empty()) << k->name;
    EXPECT_EQ(k->help.find('\n'), std::string_view::npos) << k->name << ": one line";
    EXPECT_TRUE((k->to_rule != nullptr) + (k->to_milter != nullptr) <= 1) << k->name;
    if (k->default_value.empty()) continue;
    const auto read = read_value(*k, k->default_value, {});
    EXPECT_TRUE(std::holds_alternative<Value>(read)) << k->name;
  }
}

}  // namespace
}  // namespace tlsgate::policy
