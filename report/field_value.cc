#include "report/field_value.h"

#include "policy/utf8.h"

namespace tlsgate::report {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string displayable(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size();) {
    const auto c = static_cast<unsigned char>(value[i]);
    const std::size_t n = policy::utf8_sequence(value, i);
    const bool c1 = n == 2 && c == 0xc2 && static_cast<unsigned char>(value[i + 1]) < 0xa0;
    if (n == 0 || c1 || c < 0x20 || c == 0x7f) {
      const std::size_t len = n == 0 ? 1 : n;
      for (std::size_t k = 0; k < len; ++k)
        policy::append_hex_escape(out, static_cast<unsigned char>(value[i + k]));
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
