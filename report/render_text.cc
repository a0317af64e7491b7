// The text format: the tables (tables.h) laid out for a terminal.
#include "report/render.h"
#include "report/tables.h"
#include "report/text_table.h"

namespace tlsgate::report {
namespace {

void append(std::string& out, const std::vector<Table>& tables) {
  for (const Table& t : tables) {
    TextTable text(t.header, t.align);
    for (const auto& row : t.rows) text.add(row);
    out += "\n" + t.title + "\n" + text.render();
  }
}

}  // namespace

std::string render_text(const Summary& s) {
  std::string out = "tlsgate report: " + headline(s) + "\n";
  if (const std::string selection = selection_line(s); !selection.empty()) out += selection + "\n";
  append(out, report_tables(s));
  if (s.what_if) {
    const auto lines = what_if_lines(*s.what_if);
    out += "\n" + lines.front() + "\n";
    for (std::size_t i = 1; i < lines.size(); ++i) out += "  " + lines[i] + "\n";
    append(out, what_if_tables(*s.what_if, s.top));
  }
  return out;
}

}  // namespace tlsgate::report
