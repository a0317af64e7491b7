// Helpers shared by the unit tests: parsing shorthands and a scratch directory.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "policy/address.h"
#include "policy/config_error.h"
#include "policy/prefix.h"

namespace tlsgate::policy::testing {

// An address the test knows to be valid; a typo in a test table fails loudly.
inline Address addr(std::string_view text) {
  const auto a = Address::parse(text);
  if (!a) throw std::invalid_argument("test table: bad address " + std::string(text));
  return *a;
}

inline Prefix prefix(std::string_view text) {
  auto p = parse_prefix(text);
  if (auto* error = std::get_if<std::string>(&p)) {
    throw std::invalid_argument("test table: bad prefix: " + *error);
  }
  return std::get<Prefix>(p);
}

inline std::vector<std::string> error_strings(const std::vector<ConfigError>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.to_string());
  return out;
}

// A fresh directory under $TMPDIR, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tlsgate-unit-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

  // Writes `content` (bytes as given) to `name` and returns its full path.
  std::string write(std::string_view name, std::string_view content) const {
    const std::string full = file(name);
    std::ofstream out(full, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) throw std::runtime_error("cannot write " + full);
    return full;
  }
  std::string mkdir(std::string_view name) const {
    const std::string full = file(name);
    std::filesystem::create_directory(full);
    return full;
  }

 private:
  std::string path_;
};

// Replaces every "{dir}" in `text` with `dir`.
inline std::string with_dir(std::string text, const std::string& dir) {
  for (std::size_t pos = 0; (pos = text.find("{dir}", pos)) != std::string::npos;) {
    text.replace(pos, 5, dir);
    pos += dir.size();
  }
  return text;
}

}  // namespace tlsgate::policy::testing
