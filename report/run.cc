#include "report/run.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <variant>

#include "report/aggregator.h"
#include "report/byte_source.h"
#include "report/feed.h"
#include "report/options.h"
#include "report/render.h"
#include "report/replay.h"

namespace tlsgate::report {
namespace {

int error(const std::string& message) {
  std::cerr << "tlsgate report: " << message << "\n";
  return kError;
}

std::optional<std::string> read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return text.str();
}

bool write_report(const Options& o, const std::string& text) {
  if (!o.output) {
    std::cout << text;
    std::cout.flush();
    return static_cast<bool>(std::cout);
  }
  std::ofstream out(*o.output, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  return static_cast<bool>(out);
}

}  // namespace

int run_report(int argc, char** argv) {
  auto parsed = parse_options(argc, argv);
  if (auto* why = std::get_if<std::string>(&parsed)) {
    std::cerr << "tlsgate report: " << *why << "\nTry 'tlsgate report -h'.\n";
    return kError;
  }
  const Options& o = std::get<Options>(parsed);
  if (o.help) {
    std::cout << kReportUsage;
    return kDone;
  }

  std::unique_ptr<Replay> replay;
  if (o.what_if) {
    std::vector<policy::ConfigError> errors;
    replay = Replay::load(*o.what_if, errors);
    if (!replay) {
      for (const auto& e : errors) std::cerr << e.to_string() << "\n";
      return error("--what-if " + *o.what_if + ": " + std::to_string(errors.size()) +
                   (errors.size() == 1 ? " error" : " errors") + "; nothing replayed");
    }
  }
  std::string chart_js;
  if (o.format == Format::html) {
    const auto js = read_whole(o.chart_js);
    if (!js || js->empty()) {
      return error("cannot read Chart.js from " + o.chart_js +
                   " (Debian: apt-get install libjs-chart.js; or --chart-js FILE)");
    }
    chart_js = *js;
  }

  Aggregator aggregator({o.since_time, o.until_time, o.sources}, replay.get());
  BadRowLog bad(std::cerr);
  std::uint64_t rows = 0;
  for (const std::string& file : o.files) {
    const std::string name = file == "-" ? "(standard input)" : file;
    try {
      const auto source = open_input(file);
      if (auto why = feed_file(name, *source, aggregator, rows, bad, std::cerr)) return error(*why);
    } catch (const InputError& e) {
      return error(e.what());
    }
  }
  bad.finish();

  Summary s = aggregator.summarize(o.top);
  s.files = o.files;
  s.rows = rows;
  s.bad_rows = bad.count();
  s.since = o.since;
  s.until = o.until;
  s.source_filter = o.sources;

  std::string text;
  switch (o.format) {
    case Format::text: text = render_text(s); break;
    case Format::json: text = render_json(s); break;
    case Format::html: text = render_html(s, chart_js); break;
  }
  if (!write_report(o, text)) {
    return error("cannot write " + (o.output ? *o.output : std::string("standard output")));
  }
  return s.what_if && s.what_if->newly_refused > 0 ? kNewlyRefused : kDone;
}

}  // namespace tlsgate::report
