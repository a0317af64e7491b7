#include "report/json_writer.h"

#include <cstdio>

namespace tlsgate::report {

std::string json_string(std::string_view text, bool for_html) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      default: break;
    }
    // U+2028 and U+2029 (E2 80 A8/A9) end a line in older JavaScript.
    const bool line_separator = for_html && c == 0xe2 && i + 2 < text.size() &&
                                static_cast<unsigned char>(text[i + 1]) == 0x80 &&
                                (static_cast<unsigned char>(text[i + 2]) & 0xfe) == 0xa8;
    if (c < 0x20 || c == 0x7f || (for_html && (c == '<' || c == '>' || c == '&'))) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else if (line_separator) {
      out += static_cast<unsigned char>(text[i + 2]) == 0xa8 ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

void JsonWriter::newline() {
  if (!pretty_) return;
  out_ += '\n';
  out_.append(2 * has_items_.size(), ' ');
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (has_items_.empty()) return;
  if (has_items_.back()) out_ += ',';
  has_items_.back() = true;
  newline();
}

void JsonWriter::begin_object() {
  before_value();
  out_ += '{';
  has_items_.push_back(false);
}

void JsonWriter::end_object() {
  const bool items = has_items_.back();
  has_items_.pop_back();
  if (items) newline();
  out_ += '}';
}

void JsonWriter::begin_array() {
  before_value();
  out_ += '[';
  has_items_.push_back(false);
}

void JsonWriter::end_array() {
  const bool items = has_items_.back();
  has_items_.pop_back();
  if (items) newline();
  out_ += ']';
}

void JsonWriter::key(std::string_view name) {
  before_value();
  out_ += json_string(name, !pretty_);
  out_ += pretty_ ? ": " : ":";
  after_key_ = true;
}

void JsonWriter::value(std::string_view text) {
  before_value();
  out_ += json_string(text, !pretty_);
}

void JsonWriter::value(std::uint64_t n) {
  before_value();
  out_ += std::to_string(n);
}

void JsonWriter::value(double fraction) {
  before_value();
  char text[32];
  std::snprintf(text, sizeof text, "%.4f", fraction);
  out_ += text;
}

void JsonWriter::null() {
  before_value();
  out_ += "null";
}

}  // namespace tlsgate::report
