// Feeds INI text through inih (the C API) and hands each key to C++ with its line.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/config_error.h"

namespace tlsgate::policy {

// One key = value line, or (key empty) a [section] header with no key under it.
struct IniEntry {
  std::string_view section;
  std::string_view key;
  std::string_view value;
  int line;          // the line of this key
  int section_line;  // the line of the [section] header it falls under (0: none)
};
using IniHandler = std::function<void(const IniEntry&)>;

// Longest line accepted; a longer one is an error (use networks_file for long lists).
inline constexpr std::size_t kMaxIniLine = 1 << 20;

// Calls `handler` for every key = value line, and for every [section] with no keys. Lines inih
// cannot parse, lines with NUL bytes and overlong lines become errors naming `file` and the line;
// all of them are reported, and the rest of the file is still read.
void parse_ini(std::string_view text, const std::string& file, const IniHandler& handler,
               std::vector<ConfigError>& errors);

}  // namespace tlsgate::policy
