// `tlsgate report`'s command line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace tlsgate::report {

enum class Format { text, json, html };

inline constexpr const char* kDefaultChartJs = "/usr/share/javascript/chart.js/chart.min.js";

struct Options {
  Format format = Format::text;
  std::optional<std::string> output;        // -o; standard output if unset
  std::optional<std::string> since, until;  // as given
  std::optional<std::int64_t> since_time, until_time;
  std::vector<std::string> sources;
  std::size_t top = 10;
  std::optional<std::string> what_if;
  std::string chart_js = kDefaultChartJs;
  std::vector<std::string> files;
  bool help = false;
};

extern const char* const kReportUsage;

// argv[0] is "report". The options, or what is wrong with the command line.
std::variant<Options, std::string> parse_options(int argc, char** argv);

}  // namespace tlsgate::report
