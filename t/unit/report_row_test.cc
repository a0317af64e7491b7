// Columns by header name, and the checks a row must pass to be counted.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "report/byte_source.h"
#include "report/columns.h"
#include "report/csv_reader.h"
#include "report/row.h"
#include "report/timestamp.h"

namespace tlsgate::report {
namespace {

std::vector<std::string_view> split(std::string_view text) {
  std::vector<std::string_view> out;
  for (std::size_t start = 0;;) {
    const std::size_t comma = text.find(',', start);
    out.push_back(text.substr(start, comma - start));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

constexpr const char* kHeader =
    "time,queue_id,client,source,action,reason,tls_version,cipher,cipher_bits,cert_subject,"
    "cert_issuer,auth,auth_user,credentials_exposed,transaction,auth_before_tls";

TEST(Columns, FoundByNameInAnyOrderOlderFilesLackTheNewOnes) {
  const auto today = read_header(split(kHeader));
  ASSERT_TRUE(std::holds_alternative<ColumnMap>(today));
  EXPECT_EQ(std::get<ColumnMap>(today)[Column::auth_before_tls], 15);

  const auto older = read_header(
      split("time,queue_id,client,source,action,reason,tls_version,cipher,cipher_bits,cert_subject,"
            "cert_issuer,auth,auth_user,credentials_exposed"));
  ASSERT_TRUE(std::holds_alternative<ColumnMap>(older));
  EXPECT_FALSE(std::get<ColumnMap>(older).has(Column::transaction));
  EXPECT_FALSE(std::get<ColumnMap>(older).has(Column::auth_before_tls));

  const auto shuffled = read_header(split("action,extra,source,client,time"));
  ASSERT_TRUE(std::holds_alternative<ColumnMap>(shuffled));
  EXPECT_EQ(std::get<ColumnMap>(shuffled)[Column::client], 3);
  EXPECT_EQ(std::get<ColumnMap>(shuffled).width, 5u);
}

TEST(Columns, NoHeaderOrARequiredColumnMissingIsAnError) {
  const auto data = read_header(split("2026-11-20T10:00:00Z,,192.0.2.1,default,accept"));
  ASSERT_TRUE(std::holds_alternative<std::string>(data));
  EXPECT_TRUE(std::get<std::string>(data).starts_with("no header")) << std::get<std::string>(data);
  const auto no_action = read_header(split("time,client,source,reason"));
  ASSERT_TRUE(std::holds_alternative<std::string>(no_action));
  EXPECT_EQ(std::get<std::string>(no_action),
            "required column action missing from the header (required: time, client, source, "
            "action)");
  const auto twice = read_header(split("time,client,source,action,client"));
  ASSERT_TRUE(std::holds_alternative<std::string>(twice));
  EXPECT_EQ(std::get<std::string>(twice), "column 'client' named twice");
}

// Parses `line` (one record) under kHeader; the error, empty if it parsed. The
// row's views point into the reader's buffer: it lives until the next call.
std::string parse(const std::string& line, Row& row) {
  static const ColumnMap columns = std::get<ColumnMap>(read_header(split(kHeader)));
  static std::unique_ptr<ByteSource> source;
  static std::unique_ptr<CsvReader> reader;
  reader.reset();
  source = memory_source(line + "\r\n");
  reader = std::make_unique<CsvReader>(*source);
  CsvRecord record;
  if (!reader->next(record)) return "no record";
  if (!record.error.empty()) return std::string(record.error);
  static RowParser parser(columns);
  std::string error;
  return parser.parse(record, row, error) ? "" : error;
}

TEST(RowParser, ReadsEveryColumn) {
  Row r;
  ASSERT_EQ(parse("2026-11-20T10:00:07Z,QID,192.0.2.10,partners,would-reject,starttls_required,"
                  "none,,,,,PLAIN,'-alice,yes,6a.1.2,yes",
                  r),
            "");
  EXPECT_EQ(r.time, *parse_row_time("2026-11-20T10:00:07Z"));
  EXPECT_EQ(r.client, "192.0.2.10");
  EXPECT_EQ(r.source, "partners");
  EXPECT_EQ(r.action, Action::would_reject);
  EXPECT_EQ(r.reason, "starttls_required");
  EXPECT_EQ(r.tls_version, "none");
  EXPECT_EQ(r.auth, "PLAIN");
  EXPECT_EQ(r.auth_user, "-alice");  // the formula guard undone
  EXPECT_TRUE(r.credentials_exposed);
  EXPECT_EQ(r.transaction, "6a.1.2");
  EXPECT_TRUE(r.auth_before_tls);
}

TEST(RowParser, RowsThatCannotBeCountedSayWhy) {
  const std::string good_tail = ",,,,,,,no,t.1.1,no";
  struct Case {
    std::string line, error;
  };
  const std::vector<Case> cases = {
      {"2026-11-20T10:00:00Z,,192.0.2.1,default,accept,,TLSv1.3",
       "wrong number of fields: 7, the header has 16"},
      {"2026-11-20 10:00:00,,192.0.2.1,default,accept,,none" + good_tail,
       "time: \"2026-11-20 10:00:00\" is not YYYY-MM-DDTHH:MM:SSZ"},
      {"2026-02-30T10:00:00Z,,192.0.2.1,default,accept,,none" + good_tail,
       "time: \"2026-02-30T10:00:00Z\" is not YYYY-MM-DDTHH:MM:SSZ"},
      {"2026-11-20T10:00:00Z,,192.0.2.1,default,bounce,,none" + good_tail,
       "action: \"bounce\" is none of accept, reject, tempfail, would-reject"},
      {"2026-11-20T10:00:00Z,,192.0.2.1,,accept,,none" + good_tail, "source: empty"},
      {"2026-11-20T10:00:00Z,,192.0.2.1,default,accept,,none,,,,,,,maybe,t.1.1,no",
       "credentials_exposed: \"maybe\" is neither yes nor no"},
      {"2026-11-20T10:00:00Z,,192.0.2.1,default,accept,,none,,,,,,a\\q,no,t.1.1,no",
       "auth_user: a backslash that starts neither \\\\ nor \\xNN in \"a\\\\q\""},
  };
  for (const auto& c : cases) {
    Row r;
    EXPECT_EQ(parse(c.line, r), c.error) << c.line;
  }
}

TEST(RowParser, TheClockOfARowOnTheSameDateIsCheckedToo) {
  Row r;
  ASSERT_EQ(parse("2026-11-20T10:00:00Z,,192.0.2.1,default,accept,,none,,,,,,,no,t.1.1,no", r), "");
  EXPECT_EQ(parse("2026-11-20T25:00:00Z,,192.0.2.1,default,accept,,none,,,,,,,no,t.1.1,no", r),
            "time: \"2026-11-20T25:00:00Z\" is not YYYY-MM-DDTHH:MM:SSZ");
}

}  // namespace
}  // namespace tlsgate::report
