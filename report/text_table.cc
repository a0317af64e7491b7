#include "report/text_table.h"

#include <algorithm>
#include <cstdio>

namespace tlsgate::report {

TextTable::TextTable(std::vector<std::string> header, std::string align)
    : header_(std::move(header)), align_(std::move(align)) {
  align_.resize(header_.size(), 'r');
}

void TextTable::add(std::vector<std::string> row) {
  row.resize(header_.size());
  rows_.push_back(std::move(row));
}

std::size_t text_width(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;  // not a continuation byte
  }));
}

std::string TextTable::render(std::size_t indent) const {
  const std::string pad(indent, ' ');
  if (rows_.empty()) return pad + "(none)\n";
  std::vector<std::size_t> width(header_.size());
  for (std::size_t c = 0; c < header_.size(); ++c) width[c] = text_width(header_[c]);
  for (const auto& row : rows_) {
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], text_width(row[c]));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text = pad;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::string fill(width[c] - text_width(cells[c]), ' ');
      if (c > 0) text += "  ";
      text += align_[c] == 'l' ? cells[c] + fill : fill + cells[c];
    }
    while (text.ends_with(' ')) text.pop_back();
    out += text + "\n";
  };
  line(header_);
  for (const auto& row : rows_) line(row);
  return out;
}

std::string group_digits(std::uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string percent(std::optional<double> fraction) {
  if (!fraction) return "-";
  char text[16];
  std::snprintf(text, sizeof text, "%.1f%%", *fraction * 100.0);
  return text;
}

std::string percent_of(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) return "-";
  // Rounded down, so that 100.0% means all of it and 0.0% none of it.
  const auto tenths =
      static_cast<std::uint64_t>(static_cast<unsigned __int128>(part) * 1000 / whole);
  if (tenths == 0 && part > 0) return "<0.1%";
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + "%";
}

}  // namespace tlsgate::report
