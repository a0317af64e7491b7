// Shared by the fuzz targets: property checks that abort (so that libFuzzer keeps the
// input), the small readers the targets use as oracles for the log formats, and
// address arithmetic for probing netblock edges.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/address.h"
#include "policy/prefix.h"

namespace tlsgate::fuzz {

// Aborts with a message when a property does not hold.
#define FUZZ_CHECK(cond, ...)                                                          \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, "  " __VA_ARGS__);                                          \
      std::fprintf(stderr, "\n");                                                      \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

// Printable text for a message: control characters and non-ASCII bytes as \xNN.
inline std::string show(std::string_view s) {
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7e || c == '\\') {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Undoes \\, \" and \xNN escapes; nullopt for any other backslash sequence.
inline std::optional<std::string> c_unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (i + 1 >= s.size()) return std::nullopt;
    const char next = s[++i];
    if (next == '\\' || next == '"') {
      out += next;
    } else if (next == 'x' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 &&
               hex_digit(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
      i += 2;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// A strict RFC 4180 reader for one record ending in CRLF: nullopt if `text` is not
// exactly that (a quote inside an unquoted field, text after a closing quote, a bare
// CR or LF, a missing or extra record terminator).
inline std::optional<std::vector<std::string>> parse_csv_record(std::string_view text) {
  if (!text.ends_with("\r\n")) return std::nullopt;
  text.remove_suffix(2);
  std::vector<std::string> fields(1);
  std::size_t i = 0;
  bool field_start = true;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\r' || c == '\n') return std::nullopt;
    if (c == ',') {
      fields.emplace_back();
      field_start = true;
      ++i;
      continue;
    }
    if (field_start && c == '"') {
      ++i;
      for (;;) {
        if (i >= text.size()) return std::nullopt;  // unterminated
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            fields.back() += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        fields.back() += text[i++];
      }
      if (i < text.size() && text[i] != ',') return std::nullopt;
      field_start = false;
      continue;
    }
    if (c == '"') return std::nullopt;  // a quote inside an unquoted field
    fields.back() += c;
    field_start = false;
    ++i;
  }
  return fields;
}

// The highest address of a prefix.
inline policy::Address last_of(const policy::Prefix& p) {
  policy::Address a = p.address;
  for (unsigned bit = p.length; bit < a.bit_width(); ++bit) {
    a.bytes[bit / 8] |= static_cast<std::uint8_t>(0x80u >> (bit % 8));
  }
  return a;
}

// a + delta (+1 or -1) within its family; nullopt past either end.
inline std::optional<policy::Address> step(policy::Address a, int delta) {
  for (int i = static_cast<int>(a.bit_width() / 8) - 1; i >= 0; --i) {
    auto& b = a.bytes[static_cast<std::size_t>(i)];
    if (delta > 0 ? b != 0xff : b != 0) {
      b = static_cast<std::uint8_t>(b + delta);
      return a;
    }
    b = delta > 0 ? 0 : 0xff;
  }
  return std::nullopt;
}

}  // namespace tlsgate::fuzz
