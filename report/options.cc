#include "report/options.h"

#include <getopt.h>

#include <charconv>

#include "report/timestamp.h"

namespace tlsgate::report {

const char* const kReportUsage =
    R"(Usage: tlsgate report [OPTIONS] CSV...

Reads tlsgate accounting files (plain or gzip-compressed; - for standard input),
in any order, and reports per source and per partner who uses TLS, who would
break, whose passwords crossed in clear, which sender domains send over TLS, and
(with --what-if) whom a new configuration would refuse that passes today.

      --format FMT     text (default), json or html
  -o, --output FILE    write the report to FILE (default: standard output; html needs -o)
      --since TIME     only rows at or after TIME (ISO 8601: 2026-11-01 or
                       2026-11-01T08:00[:00][Z|+HH:MM]; without an offset, UTC)
      --until TIME     only rows before TIME
      --source NAME    only this source (repeat for more)
      --top N          list N clients, networks, users, sender domains, ...
                       (default 10)
      --what-if FILE   judge every logged decision again with the configuration
                       FILE, every source and sender partner in enforce mode
      --chart-js FILE  Chart.js for html (default /usr/share/javascript/chart.js/chart.min.js,
                       Debian's libjs-chart.js)
  -h, --help           print this help

Exit status: 0 done; 1 --what-if: the candidate refuses at least one session that
passes today; 2 error (unreadable file, no header, a required column missing,
usage). Bad rows are skipped, counted, and the first ten named on standard error.
)";

namespace {

enum LongOnly { kFormat = 256, kSince, kUntil, kSource, kTop, kWhatIf, kChartJs };

std::optional<Format> parse_format(std::string_view text) {
  if (text == "text") return Format::text;
  if (text == "json") return Format::json;
  if (text == "html") return Format::html;
  return std::nullopt;
}

}  // namespace

std::variant<Options, std::string> parse_options(int argc, char** argv) {
  static const option kLong[] = {
      {"format", required_argument, nullptr, kFormat},
      {"output", required_argument, nullptr, 'o'},
      {"since", required_argument, nullptr, kSince},
      {"until", required_argument, nullptr, kUntil},
      {"source", required_argument, nullptr, kSource},
      {"top", required_argument, nullptr, kTop},
      {"what-if", required_argument, nullptr, kWhatIf},
      {"chart-js", required_argument, nullptr, kChartJs},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  Options o;
  optind = 1;
  opterr = 0;
  for (int c; (c = getopt_long(argc, argv, ":o:h", kLong, nullptr)) != -1;) {
    const std::string value = optarg != nullptr ? optarg : "";
    switch (c) {
      case kFormat: {
        const auto f = parse_format(value);
        if (!f) return "--format: '" + value + "' is none of text, json, html";
        o.format = *f;
        break;
      }
      case 'o': o.output = value; break;
      case kSince:
      case kUntil: {
        const auto t = parse_time_bound(value);
        const char* name = c == kSince ? "--since" : "--until";
        if (!t) return std::string(name) + ": '" + value + "' is not an ISO 8601 date or date-time";
        (c == kSince ? o.since : o.until) = value;
        (c == kSince ? o.since_time : o.until_time) = *t;
        break;
      }
      case kSource: o.sources.push_back(value); break;
      case kTop: {
        std::size_t n = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec != std::errc() || end != value.data() + value.size() || n == 0 || n > 100000) {
          return "--top: '" + value + "' is not a number from 1 to 100000";
        }
        o.top = n;
        break;
      }
      case kWhatIf: o.what_if = value; break;
      case kChartJs: o.chart_js = value; break;
      case 'h': o.help = true; return o;
      case ':': return std::string("option needs a value: ") + argv[optind - 1];
      default: return std::string("unknown option: ") + argv[optind - 1];
    }
  }
  for (int i = optind; i < argc; ++i) o.files.emplace_back(argv[i]);
  if (o.files.empty()) return "no accounting file given (- reads standard input)";
  if (o.format == Format::html && !o.output) return "--format html needs -o FILE";
  if (o.since_time && o.until_time && *o.until_time <= *o.since_time) {
    return "--until must be later than --since";
  }
  return o;
}

}  // namespace tlsgate::report
