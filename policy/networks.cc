#include "policy/networks.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace tlsgate::policy {
namespace {

constexpr std::string_view kSeparators = ", \t\r\n";

void add_prefix(std::string_view text, std::uint32_t file_id, int line, std::uint32_t section,
                PrefixList& out, std::vector<ConfigError>& errors) {
  auto parsed = parse_prefix(text);
  if (auto* p = std::get_if<Prefix>(&parsed)) {
    out.entries.push_back({*p, section});
    out.where.push_back({file_id, line});
  } else {
    errors.push_back({out.files[file_id], line, std::get<std::string>(parsed)});
  }
}

}  // namespace

std::uint32_t PrefixList::file_id(const std::string& name) {
  const auto it = std::find(files.begin(), files.end(), name);
  if (it != files.end()) return static_cast<std::uint32_t>(it - files.begin());
  files.push_back(name);
  return static_cast<std::uint32_t>(files.size() - 1);
}

void parse_networks(std::string_view value, const std::string& file, int line,
                    std::uint32_t section, PrefixList& out, std::vector<ConfigError>& errors) {
  const std::uint32_t id = out.file_id(file);
  std::size_t pos = 0;
  while ((pos = value.find_first_not_of(kSeparators, pos)) != std::string_view::npos) {
    const std::size_t end = std::min(value.find_first_of(kSeparators, pos), value.size());
    add_prefix(value.substr(pos, end - pos), id, line, section, out, errors);
    pos = end;
  }
}

void read_networks_file(const std::string& path, const std::string& file, int line,
                        std::uint32_t section, PrefixList& out, std::vector<ConfigError>& errors) {
  std::ifstream in(path);
  if (!in) {
    errors.push_back({file, line, "networks_file " + path + ": " + std::strerror(errno)});
    return;
  }
  const std::uint32_t id = out.file_id(path);
  std::string text;
  int lineno = 0;
  while (std::getline(in, text)) {
    ++lineno;
    std::string_view rest(text);
    rest = rest.substr(0, rest.find('#'));
    const auto first = rest.find_first_not_of(kSeparators);
    if (first == std::string_view::npos) continue;
    const auto last = rest.find_last_not_of(kSeparators);
    const std::string_view cidr = rest.substr(first, last - first + 1);
    if (cidr.find_first_of(kSeparators) != std::string_view::npos) {
      errors.push_back({path, lineno, "one netblock per line expected"});
      continue;
    }
    add_prefix(cidr, id, lineno, section, out, errors);
  }
  if (in.bad()) errors.push_back({file, line, "networks_file " + path + ": read error"});
}

}  // namespace tlsgate::policy
