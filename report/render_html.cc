// The HTML format: one self-contained page. Chart.js (Debian's libjs-chart.js) and
// the page's own script are inlined; a Content-Security-Policy allows only those
// two scripts (by their SHA-256) and the page's style, so the page fetches nothing
// and no value can become markup or code: every table cell is HTML-escaped, and the
// data the charts read sits in a JSON block whose <, > and & are \u escapes.
#include <openssl/evp.h>

#include <string>

#include "report/json_writer.h"
#include "report/render.h"
#include "report/tables.h"

namespace tlsgate::report {
namespace {

constexpr std::string_view kStyle = R"(
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { padding: 2px 10px; border-bottom: 1px solid #ddd; text-align: left; }
td.r, th.r { text-align: right; font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 2em; }
.chart { width: 560px; height: 320px; }
p.none { color: #777; }
)";

// Draws the three charts from the report's JSON (the block #report-data).
constexpr std::string_view kChartScript = R"(
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const names = Object.keys(data.sources);
  const palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02",
                   "#a6761d", "#666666", "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6"];
  const color = (i) => palette[i % palette.length];
  const share = (d) => (d.accepted ? Math.floor((1000 * d.tls) / d.accepted) / 10 : null);

  const dates = data.total.days.map((d) => d.date);
  new Chart(document.getElementById("chart-tls-share"), {
    type: "line",
    data: {
      labels: dates,
      datasets: names.map((name, i) => {
        const byDate = new Map(data.sources[name].days.map((d) => [d.date, share(d)]));
        return { label: name, data: dates.map((x) => (byDate.has(x) ? byDate.get(x) : null)),
                 borderColor: color(i), backgroundColor: color(i), spanGaps: true };
      }),
    },
    options: { animation: false, maintainAspectRatio: false,
               scales: { y: { min: 0, max: 100,
                              title: { display: true, text: "% of accepted messages over TLS" } } } },
  });

  const versions = Object.keys(data.total.accepted_by_tls_version);
  new Chart(document.getElementById("chart-tls-versions"), {
    type: "bar",
    data: {
      labels: names,
      datasets: versions.map((v, i) => ({
        label: v, backgroundColor: color(i),
        data: names.map((name) => data.sources[name].accepted_by_tls_version[v] || 0) })),
    },
    options: { animation: false, maintainAspectRatio: false,
               scales: { x: { stacked: true },
                         y: { stacked: true, title: { display: true, text: "accepted messages" } } } },
  });

  const reasons = Object.keys(data.total.reasons);
  new Chart(document.getElementById("chart-refusals"), {
    type: "bar",
    data: {
      labels: reasons,
      datasets: names.map((name, i) => ({
        label: name, backgroundColor: color(i),
        data: reasons.map((r) => data.sources[name].reasons[r] || 0) })),
    },
    options: { animation: false, maintainAspectRatio: false, indexAxis: "y",
               scales: { x: { stacked: true, title: { display: true, text: "refusals and would-rejects" } },
                         y: { stacked: true } } },
  });
})();
)";

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// Inside <script>: a "</script" or "<!--" in the library's text would end or
// confuse the element; "<\/" and "<\!--" mean the same in JavaScript strings.
std::string script_safe(std::string_view js) {
  std::string out;
  out.reserve(js.size());
  for (std::size_t i = 0; i < js.size(); ++i) {
    out += js[i];
    if (js[i] != '<' || i + 1 >= js.size()) continue;
    const std::string_view rest = js.substr(i + 1);
    std::string head(rest.substr(0, 7));
    for (char& c : head) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (head.starts_with("!--") || head == "/script") out += '\\';
  }
  return out;
}

// 'sha256-BASE64' of `text`, for the Content-Security-Policy.
std::string csp_hash(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  unsigned char base64[2 * EVP_MAX_MD_SIZE];
  const int n = EVP_EncodeBlock(base64, digest, static_cast<int>(length));
  return "'sha256-" + std::string(reinterpret_cast<char*>(base64), static_cast<std::size_t>(n)) +
         "'";
}

void table(std::string& out, const Table& t) {
  out += "<h2 id=\"" + t.id + "\">" + html_escape(t.title) + "</h2>\n";
  if (t.rows.empty()) {
    out += "<p class=\"none\">(none)</p>\n";
    return;
  }
  auto cell = [&](const char* tag, std::size_t column, const std::string& text) {
    const bool number = t.number_column(column);
    out += std::string("<") + tag + (number ? " class=\"r\">" : ">") + html_escape(text) + "</" +
           tag + ">";
  };
  out += "<table class=\"" + t.id + "\">\n<tr>";
  for (std::size_t c = 0; c < t.header.size(); ++c) cell("th", c, t.header[c]);
  out += "</tr>\n";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (std::size_t c = 0; c < row.size(); ++c) cell("td", c, row[c]);
    out += "</tr>\n";
  }
  out += "</table>\n";
}

}  // namespace

std::string render_html(const Summary& s, std::string_view chart_js) {
  const std::string library = script_safe(chart_js);
  std::string data;
  JsonWriter json(data, JsonWriter::Style::for_html);
  render_json_to(json, s);

  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src " +
         csp_hash(library) + " " + csp_hash(kChartScript) + "; style-src " + csp_hash(kStyle) +
         "\">\n";
  out += "<title>tlsgate report</title>\n<style>" + std::string(kStyle) + "</style>\n</head>\n";
  out +=
      "<body>\n<h1>tlsgate report</h1>\n<p id=\"headline\">" + html_escape(headline(s)) + "</p>\n";
  if (const std::string selection = selection_line(s); !selection.empty()) {
    out += "<p id=\"selection\">" + html_escape(selection) + "</p>\n";
  }
  out += "<div class=\"charts\">\n";
  for (const auto& [id, title] :
       {std::pair<const char*, const char*>{"chart-tls-share",
                                            "TLS share of accepted messages per day, per source"},
        {"chart-tls-versions", "Accepted messages by TLS version, per source"},
        {"chart-refusals", "Refusals and would-rejects by reason, per source"}}) {
    out += std::string("<figure><figcaption>") + title + "</figcaption><div class=\"chart\">" +
           "<canvas id=\"" + id + "\"></canvas></div></figure>\n";
  }
  out += "</div>\n";
  for (const Table& t : report_tables(s)) table(out, t);
  if (s.what_if) {
    out += "<section id=\"what-if\">\n";
    const auto lines = what_if_lines(*s.what_if);
    out += "<h2>" + html_escape(lines.front()) + "</h2>\n<ul>\n";
    for (std::size_t i = 1; i < lines.size(); ++i)
      out += "<li>" + html_escape(lines[i]) + "</li>\n";
    out += "</ul>\n";
    for (const Table& t : what_if_tables(*s.what_if, s.top)) table(out, t);
    out += "</section>\n";
  }
  out += "<script type=\"application/json\" id=\"report-data\">" + data + "</script>\n";
  out += "<script>" + library + "</script>\n";
  out += "<script>" + std::string(kChartScript) + "</script>\n";
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace tlsgate::report
