// The report's three formats, from one Summary.
#pragma once

#include <string>
#include <string_view>

#include "report/summary.h"

namespace tlsgate::report {

// Tables for a terminal, largest first.
std::string render_text(const Summary& s);

// The keys documented in tlsgate(8).
std::string render_json(const Summary& s);
class JsonWriter;
void render_json_to(JsonWriter& j, const Summary& s);  // compact, for the HTML page

// One self-contained page: `chart_js` (Chart.js, from Debian's libjs-chart.js) is
// inlined, a Content-Security-Policy allows nothing else (no network fetch), and
// every value is HTML-escaped.
std::string render_html(const Summary& s, std::string_view chart_js);

}  // namespace tlsgate::report
