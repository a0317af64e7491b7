#include "report/field_value.h"

namespace tlsgate::report {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The length of the well-formed UTF-8 sequence (RFC 3629) at s[i], or 0.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto byte = [&s](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return n;
}

void append_hex(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 0xf];
}

}  // namespace

std::string displayable(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size();) {
    const auto c = static_cast<unsigned char>(value[i]);
    const std::size_t n = utf8_sequence(value, i);
    const bool c1 = n == 2 && c == 0xc2 && static_cast<unsigned char>(value[i + 1]) < 0xa0;
    if (n == 0 || c1 || c < 0x20 || c == 0x7f) {
      const std::size_t len = n == 0 ? 1 : n;
      for (std::size_t k = 0; k < len; ++k)
        append_hex(out, static_cast<unsigned char>(value[i + k]));
      i += len;
    } else {
      out.append(value.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::optional<std::string_view> field_value(std::string_view field, std::string& scratch) {
  if (field.starts_with('\'')) field.remove_prefix(1);
  std::size_t slash = field.find('\\');
  if (slash == std::string_view::npos) return field;
  scratch.assign(field.substr(0, slash));
  for (std::size_t i = slash; i < field.size(); ++i) {
    if (field[i] != '\\') {
      scratch += field[i];
      continue;
    }
    if (i + 1 < field.size() && field[i + 1] == '\\') {
      scratch += '\\';
      i += 1;
    } else if (i + 3 < field.size() && field[i + 1] == 'x' && hex_digit(field[i + 2]) >= 0 &&
               hex_digit(field[i + 3]) >= 0) {
      scratch += static_cast<char>(hex_digit(field[i + 2]) * 16 + hex_digit(field[i + 3]));
      i += 3;
    } else {
      return std::nullopt;
    }
  }
  return std::string_view(scratch);
}

std::string printable(std::string_view value, std::size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  const bool cut = value.size() > max;
  if (cut) value = value.substr(0, max);
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c > 0x7e) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += ch;
    }
  }
  if (cut) out += "...";
  return out;
}

}  // namespace tlsgate::report
