// Times in the accounting file (UTC, "2026-11-23T15:37:00Z", what tlsgate writes)
// and in --since/--until (ISO 8601 date or date-time), as seconds since the epoch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tlsgate::report {

inline constexpr std::int64_t kSecondsPerDay = 86400;

// Days since 1970-01-01 of a proleptic Gregorian date; nullopt if there is no such date.
std::optional<std::int64_t> days_from_civil(int year, int month, int day);

// Exactly YYYY-MM-DDTHH:MM:SSZ.
std::optional<std::int64_t> parse_row_time(std::string_view text);
// The seconds into its day of such a time (its "HH:MM:SSZ"); the date is not read.
std::optional<std::int64_t> parse_row_clock(std::string_view text);

// YYYY-MM-DD (its midnight), or YYYY-MM-DDTHH:MM[:SS] (T or a space), optionally
// followed by Z or an offset +HH:MM / -HH:MM / +HHMM / +HH; no offset means UTC.
std::optional<std::int64_t> parse_time_bound(std::string_view text);

std::string format_day(std::int64_t day);       // YYYY-MM-DD
std::string format_time(std::int64_t seconds);  // YYYY-MM-DDTHH:MM:SSZ

inline std::int64_t day_of(std::int64_t seconds) {
  return seconds >= 0 ? seconds / kSecondsPerDay : (seconds - kSecondsPerDay + 1) / kSecondsPerDay;
}

}  // namespace tlsgate::report
