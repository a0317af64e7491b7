#include "report/timestamp.h"

#include <cstdio>

namespace tlsgate::report {
namespace {

// The value of `count` decimal digits at text[at]; -1 if any is not a digit.
int digits(std::string_view text, std::size_t at, std::size_t count) {
  if (at + count > text.size()) return -1;
  int v = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// YYYY-MM-DD at the start of `text`.
std::optional<std::int64_t> parse_date(std::string_view text) {
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const int y = digits(text, 0, 4), m = digits(text, 5, 2), d = digits(text, 8, 2);
  if (y < 0 || m < 0 || d < 0) return std::nullopt;
  return days_from_civil(y, m, d);
}

// HH:MM or HH:MM:SS at the start of `text`; `used` gets its length.
std::optional<std::int64_t> parse_clock(std::string_view text, std::size_t& used) {
  const int h = digits(text, 0, 2), mi = digits(text, 3, 2);
  if (h < 0 || mi < 0 || text[2] != ':' || h > 23 || mi > 59) return std::nullopt;
  used = 5;
  int s = 0;
  if (text.size() >= 8 && text[5] == ':') {
    s = digits(text, 6, 2);
    if (s < 0 || s > 59) return std::nullopt;
    used = 8;
  }
  return std::int64_t{h} * 3600 + mi * 60 + s;
}

}  // namespace

std::optional<std::int64_t> days_from_civil(int year, int month, int day) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return std::nullopt;
  if (day > kDays[month - 1] + (month == 2 && leap(year) ? 1 : 0)) return std::nullopt;
  // Howard Hinnant's days_from_civil.
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return std::int64_t{era} * 146097 + doe - 719468;
}

std::optional<std::int64_t> parse_row_clock(std::string_view text) {
  if (text.size() != 20 || text[10] != 'T' || text[19] != 'Z') return std::nullopt;
  std::size_t used = 0;
  const auto clock = parse_clock(text.substr(11, 8), used);
  if (!clock || used != 8) return std::nullopt;
  return clock;
}

std::optional<std::int64_t> parse_row_time(std::string_view text) {
  const auto clock = parse_row_clock(text);
  const auto day = parse_date(text);
  if (!clock || !day) return std::nullopt;
  return *day * kSecondsPerDay + *clock;
}

std::optional<std::int64_t> parse_time_bound(std::string_view text) {
  const auto day = parse_date(text);
  if (!day) return std::nullopt;
  std::int64_t t = *day * kSecondsPerDay;
  std::string_view rest = text.substr(10);
  if (rest.empty()) return t;
  if (rest[0] != 'T' && rest[0] != ' ') return std::nullopt;
  std::size_t used = 0;
  const auto clock = parse_clock(rest.substr(1), used);
  if (!clock) return std::nullopt;
  t += *clock;
  rest.remove_prefix(1 + used);
  if (rest.empty() || rest == "Z") return t;
  if (rest[0] != '+' && rest[0] != '-') return std::nullopt;
  const int sign = rest[0] == '+' ? 1 : -1;
  int hours = digits(rest, 1, 2), minutes = 0;
  if (hours < 0 || hours > 23) return std::nullopt;
  if (rest.size() == 6 && rest[3] == ':') {
    minutes = digits(rest, 4, 2);
  } else if (rest.size() == 5) {
    minutes = digits(rest, 3, 2);
  } else if (rest.size() != 3) {
    return std::nullopt;
  }
  if (minutes < 0 || minutes > 59) return std::nullopt;
  return t - sign * (std::int64_t{hours} * 3600 + minutes * 60);  // local time minus its offset
}

std::string format_day(std::int64_t day) {
  // Howard Hinnant's civil_from_days.
  const std::int64_t z = day + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char text[64];
  std::snprintf(text, sizeof text, "%04lld-%02lld-%02lld", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d));
  return text;
}

std::string format_time(std::int64_t seconds) {
  const std::int64_t day = day_of(seconds);
  const std::int64_t s = seconds - day * kSecondsPerDay;
  char text[64];
  std::snprintf(text, sizeof text, "T%02lld:%02lld:%02lldZ", static_cast<long long>(s / 3600),
                static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return format_day(day) + text;
}

}  // namespace tlsgate::report
