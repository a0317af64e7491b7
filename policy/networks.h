// Reading netblock lists: a `networks` value and a `networks_file`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy/config_error.h"
#include "policy/netblock_table.h"
#include "policy/prefix.h"

namespace tlsgate::policy {

// Every netblock read so far, each with the section it belongs to (the entry's
// payload) and where it was written. Kept compact: a million entries is a
// normal size for a networks_file.
struct PrefixList {
  struct Location {
    std::uint32_t file;  // index into files
    std::int32_t line;
  };
  std::vector<std::string> files;
  std::vector<NetblockTable::Entry> entries;
  std::vector<Location> where;

  std::uint32_t file_id(const std::string& name);
  std::string describe(std::size_t i) const {  // "FILE:LINE"
    return files[where[i].file] + ":" + std::to_string(where[i].line);
  }
};

// CIDRs separated by commas and/or whitespace; each bad one is an error at `line`.
void parse_networks(std::string_view value, const std::string& file, int line,
                    std::uint32_t section, PrefixList& out, std::vector<ConfigError>& errors);

// One CIDR a line, blank lines and '#' comments (whole-line or trailing) ignored.
// Errors name `path` and its line; an unreadable file is an error at the
// referring `file`:`line`.
void read_networks_file(const std::string& path, const std::string& file, int line,
                        std::uint32_t section, PrefixList& out, std::vector<ConfigError>& errors);

}  // namespace tlsgate::policy
