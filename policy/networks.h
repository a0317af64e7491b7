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

// Every netblock read so far, each with the section it belongs to (the item's
// payload), in the compact form NetblockTable::build takes. A million entries is a
// normal size for a networks_file, so where each was written is not stored per
// entry: each entry gets an ordinal (its place in reading order), and a segment per
// `networks` value or networks_file maps ordinals back to FILE:LINE.
struct PrefixList {
  struct Segment {
    std::uint32_t first;  // the segment's first ordinal
    std::uint32_t file;   // index into files
    std::int32_t line;  // > 0: every ordinal is at this line; 0: ordinal `first` + k is line k + 1
  };
  std::vector<std::string> files;
  std::vector<Segment> segments;  // by `first`
  NetblockTable::Items items;
  std::uint32_t next_ordinal = 0;

  struct Where {
    const std::string& file;
    int line;
  };

  std::uint32_t file_id(const std::string& name);
  Where where(std::uint32_t ordinal) const;
  std::string describe(std::uint32_t ordinal) const {  // "FILE:LINE"
    const Where w = where(ordinal);
    return w.file + ":" + std::to_string(w.line);
  }
};

// CIDRs separated by commas and/or whitespace; each bad one is an error at `line`.
void parse_networks(std::string_view value, const std::string& file, int line,
                    std::uint32_t section, PrefixList& out, std::vector<ConfigError>& errors);

// At most how many netblocks a `networks` value or a networks_file holds, so that
// the items can be allocated once (memory reserved for both families but never
// written costs address space, not RSS). A file that is not a regular file, or
// cannot be read, counts 0: it is then read only once, by read_networks_file.
std::size_t count_networks(std::string_view value);
std::size_t count_networks_file(const std::string& path);

// One CIDR a line, blank lines and '#' comments (whole-line or trailing) ignored.
// Errors name `path` and its line; an unreadable file is an error at the
// referring `file`:`line`.
// `key` names the setting in errors ("KEY PATH: No such file or directory").
void read_networks_file(std::string_view key, const std::string& path, const std::string& file,
                        int line, std::uint32_t section, PrefixList& out,
                        std::vector<ConfigError>& errors);

}  // namespace tlsgate::policy
