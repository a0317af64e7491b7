// A table for a terminal: columns as wide as their widest cell, text columns
// left-aligned and number columns right-aligned, two spaces between them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tlsgate::report {

class TextTable {
 public:
  // `align`: 'l' or 'r' per column; by default the first column is text ('l'), the
  // others numbers ('r').
  explicit TextTable(std::vector<std::string> header, std::string align = "l");
  void add(std::vector<std::string> row);
  bool empty() const { return rows_.empty(); }
  // The table, each line indented by `indent` spaces; "(none)" with no rows.
  std::string render(std::size_t indent = 2) const;

 private:
  std::vector<std::string> header_;
  std::string align_;
  std::vector<std::vector<std::string>> rows_;
};

std::string group_digits(std::uint64_t n);            // 1234567 -> "1,234,567"
std::string percent(std::optional<double> fraction);  // 0.9951 -> "99.5%", nullopt -> "-"
// part / whole rounded down to a tenth ("99.9%" until all of it; "<0.1%"), "-" for 0 / 0.
std::string percent_of(std::uint64_t part, std::uint64_t whole);

// The display width of UTF-8 text: one column a code point.
std::size_t text_width(const std::string& text);

}  // namespace tlsgate::report
