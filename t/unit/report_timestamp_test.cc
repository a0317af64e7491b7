// Row times and --since/--until bounds, as seconds since the epoch (UTC).
#include <gtest/gtest.h>

#include "report/timestamp.h"

namespace tlsgate::report {
namespace {

TEST(Timestamp, RowTimesAreExactlyWhatTlsgateWrites) {
  EXPECT_EQ(parse_row_time("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_row_time("2026-11-01T00:00:00Z"), 1793491200);
  EXPECT_EQ(parse_row_time("2024-02-29T23:59:59Z"), 1709251199);
  for (const char* bad : {"2026-11-01T00:00:00", "2026-11-01 00:00:00Z", "2026-13-01T00:00:00Z",
                          "2025-02-29T00:00:00Z", "2026-11-01T24:00:00Z", "2026-11-01T00:60:00Z",
                          "2026-11-01T00:00:60Z", "+026-11-01T00:00:00Z", ""}) {
    EXPECT_FALSE(parse_row_time(bad).has_value()) << bad;
  }
}

TEST(Timestamp, BoundsTakeADateADateTimeAndAnOffset) {
  const std::int64_t midnight = 1793491200;  // 2026-11-01
  EXPECT_EQ(parse_time_bound("2026-11-01"), midnight);
  EXPECT_EQ(parse_time_bound("2026-11-01T08:30"), midnight + 8 * 3600 + 30 * 60);
  EXPECT_EQ(parse_time_bound("2026-11-01 08:30:15Z"), midnight + 8 * 3600 + 30 * 60 + 15);
  EXPECT_EQ(parse_time_bound("2026-11-01T08:00+02:00"), midnight + 6 * 3600);
  EXPECT_EQ(parse_time_bound("2026-11-01T08:00-0130"), midnight + 9 * 3600 + 30 * 60);
  EXPECT_EQ(parse_time_bound("2026-11-01T08:00+02"), midnight + 6 * 3600);
  for (const char* bad : {"2026-11", "2026-11-01T8:00", "2026-11-01T08:00+2", "yesterday",
                          "2026-11-01T08:00:00.5Z", "2026-11-01X"}) {
    EXPECT_FALSE(parse_time_bound(bad).has_value()) << bad;
  }
}

TEST(Timestamp, FormatsBack) {
  for (const char* t : {"1970-01-01T00:00:00Z", "2026-11-23T15:37:00Z", "2000-02-29T12:00:01Z",
                        "2100-12-31T23:59:59Z"}) {
    EXPECT_EQ(format_time(*parse_row_time(t)), t);
  }
  EXPECT_EQ(format_day(day_of(*parse_row_time("2026-11-23T15:37:00Z"))), "2026-11-23");
  EXPECT_EQ(day_of(-1), -1);
}

}  // namespace
}  // namespace tlsgate::report
