// A small streaming JSON writer: objects, arrays, strings (escaped per RFC 8259;
// for a page, <, >, & and U+2028/U+2029 too, so that the text can sit inside an
// HTML <script> element), integers and fractions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tlsgate::report {

class JsonWriter {
 public:
  enum class Style { pretty, for_html };  // for_html: compact, and markup characters escaped
  explicit JsonWriter(std::string& out, Style style = Style::pretty)
      : out_(out), pretty_(style == Style::pretty) {}

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(std::string_view name);  // in an object, before its value
  void value(std::string_view text);
  void value(const char* text) { value(std::string_view(text)); }
  void value(std::uint64_t n);
  void value(double fraction);  // 4 decimals
  void null();

 private:
  void before_value();
  void newline();

  std::string& out_;
  bool pretty_;
  std::vector<bool> has_items_;  // per open container
  bool after_key_ = false;
};

// `text` as a JSON string literal, quotes included; `for_html`: <, >, &, U+2028 and
// U+2029 as \u escapes too.
std::string json_string(std::string_view text, bool for_html = false);

}  // namespace tlsgate::report
