// The report's tables, as cells: what both the text and the HTML format show, in
// the order they show it.
#pragma once

#include <string>
#include <vector>

#include "report/summary.h"

namespace tlsgate::report {

struct Table {
  std::string id;     // a name for the HTML page ("decisions", "reasons", ...)
  std::string title;  // one line
  std::vector<std::string> header;
  std::string align;  // 'l' (text) or 'r' (number) per column; columns past its end: 'r'
  std::vector<std::vector<std::string>> rows;

  bool number_column(std::size_t column) const {
    return column >= align.size() || align[column] == 'r';
  }
};

// "N rows in F files, B bad, X outside the selection; FIRST to LAST"
std::string headline(const Summary& s);
// "since ... until ... source ..." or empty.
std::string selection_line(const Summary& s);

std::vector<Table> report_tables(const Summary& s);

// The --what-if part: its figures, one a line, then its tables.
std::vector<std::string> what_if_lines(const WhatIfSummary& w);
std::vector<Table> what_if_tables(const WhatIfSummary& w, std::size_t top);

}  // namespace tlsgate::report
