// Fuzz target: tlsgate report's reader (report/csv_reader.h, row.h, field_value.h) and
// what it feeds (the aggregator, the three formats).
//
// Input: a few control bytes, then the text of an accounting file.
//
// Properties:
//  - RFC 4180 exact, against Debian's libcsv (strict mode, no space trimming) as the
//    reference: every line the reader takes gives libcsv's fields; a line it refuses
//    for a quote out of place is refused by libcsv too (unless it holds a CR, which
//    libcsv takes for the end of a record and this reader, one record a line, not);
//  - the same records whatever the read sizes (1 byte at a time and up) and the
//    buffer size, with consecutive line numbers;
//  - a row that engine/log_format writes (format_csv_row) from any values reads back
//    as those values, column by column;
//  - the whole file through feed_file and the aggregator: rows = data lines, bad rows
//    at most that, decisions the sum of the actions; the text, JSON and HTML formats
//    render without a crash.
#include <csv.h>
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "engine/log_format.h"
#include "fuzz_support.h"
#include "report/aggregator.h"
#include "report/byte_source.h"
#include "report/columns.h"
#include "report/csv_reader.h"
#include "report/feed.h"
#include "report/render.h"
#include "report/row.h"

namespace tlsgate::fuzz {
namespace {

using report::CsvReader;
using report::CsvRecord;

// Gives its text `step` bytes at a time at most.
class TrickleSource : public report::ByteSource {
 public:
  TrickleSource(std::string_view text, std::size_t step) : text_(text), step_(step) {}
  std::size_t read(char* buffer, std::size_t size) override {
    const std::size_t n = std::min({size, step_, text_.size() - pos_});
    std::memcpy(buffer, text_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string_view text_;
  std::size_t step_;
  std::size_t pos_ = 0;
};

struct Line {
  std::vector<std::string> fields;
  std::string error;
  std::uint64_t number;
  bool operator==(const Line&) const = default;
};

std::vector<Line> read_all(std::string_view text, std::size_t step, std::size_t buffer) {
  TrickleSource source(text, step);
  CsvReader reader(source, buffer);
  CsvRecord r;
  std::vector<Line> lines;
  while (reader.next(r)) {
    lines.push_back({{r.fields.begin(), r.fields.end()}, std::string(r.error), r.line});
  }
  return lines;
}

// libcsv's reading of one record ending in CRLF: its fields, or nullopt for an error.
std::optional<std::vector<std::string>> libcsv_fields(const std::string& line) {
  struct Out {
    std::vector<std::string> fields;
    int records = 0;
  } out;
  csv_parser p;
  csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL);
  csv_set_space_func(&p, [](unsigned char) { return 0; });  // no trimming
  auto field = [](void* s, std::size_t n, void* data) {
    static_cast<Out*>(data)->fields.emplace_back(static_cast<const char*>(s), n);
  };
  auto record = [](int, void* data) { ++static_cast<Out*>(data)->records; };
  const bool ok = csv_parse(&p, line.data(), line.size(), field, record, &out) == line.size() &&
                  csv_fini(&p, field, record, &out) == 0;
  csv_free(&p);
  if (!ok) return std::nullopt;
  return out.fields;
}

void check_against_libcsv(const std::vector<Line>& lines, std::string_view text) {
  // The raw text of each line, to hand libcsv one record at a time.
  std::vector<std::string> raw;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t nl = text.find('\n', start);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string line(text.substr(start, end - start));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    raw.push_back(line);
    start = end + 1;
  }
  for (const Line& l : lines) {
    const std::string& line = raw[l.number - 1];
    if (l.number == 1 && line.starts_with("\xef\xbb\xbf")) continue;  // ours drops a BOM
    const bool quote_out_of_place =
        l.error == "a quote inside a field that does not start with one" ||
        l.error == "text after the closing quote of a field";
    if (!l.error.empty() && !quote_out_of_place) continue;  // one-line rules of ours
    // libcsv ends a record at any CR; ours takes CR only inside quotes (and CRLF).
    if (quote_out_of_place && line.find('\r') != std::string::npos) continue;
    const auto reference = libcsv_fields(line + "\r\n");
    if (quote_out_of_place) {
      FUZZ_CHECK(!reference, "line %llu: %s, but libcsv reads it",
                 static_cast<unsigned long long>(l.number), show(line).c_str());
    } else {
      FUZZ_CHECK(reference && *reference == l.fields, "line %llu: %s read differently by libcsv",
                 static_cast<unsigned long long>(l.number), show(line).c_str());
    }
  }
}

void check_reader(std::string_view text, std::size_t step) {
  const auto whole = read_all(text, text.size() + 1, text.size() + 64);  // one read, one buffer
  for (std::size_t i = 0; i < whole.size(); ++i) {
    FUZZ_CHECK(whole[i].number == i + 1, "line numbers skip at %zu", i);
    FUZZ_CHECK(whole[i].error.empty() != whole[i].fields.empty(), "line %zu: fields and error",
               i + 1);
  }
  FUZZ_CHECK(read_all(text, step, 64) == whole, "read %zu bytes at a time: other records", step);
  check_against_libcsv(whole, text);
}

// Values from the fuzzer written as the daemon writes them, then read back.
void check_round_trip(FuzzedDataProvider& in) {
  std::string v[12];
  for (std::string& s : v) s = in.ConsumeRandomLengthString(64);
  engine::LogRecord r;
  r.queue_id = v[0];
  r.client = v[1];
  r.source = v[2];
  r.action = "would-reject";
  r.reason = v[3];
  r.tls = v[4];
  r.cipher = v[5];
  r.bits = v[6];
  r.cert_subject = v[7];
  r.cert_issuer = v[8];
  r.auth = v[9];
  r.auth_user = v[10];
  r.transaction = v[11];
  r.credentials_exposed = in.ConsumeBool();
  r.auth_before_tls = in.ConsumeBool();
  const std::string text = engine::csv_header() + engine::format_csv_row(r, 1793491200);
  const auto source = report::memory_source(text);
  CsvReader reader(*source, 4096);
  CsvRecord record;
  FUZZ_CHECK(reader.next(record) && record.error.empty(), "the header does not read");
  const auto columns = std::get<report::ColumnMap>(report::read_header(record.fields));
  FUZZ_CHECK(reader.next(record) && record.error.empty(), "a row as tlsgate writes it: %s",
             show(text).c_str());
  report::RowParser parser(columns);
  report::Row row;
  std::string error;
  const bool parsed = parser.parse(record, row, error);
  if (r.source.empty() || r.client.empty()) {
    FUZZ_CHECK(!parsed, "an empty source or client counted");
    return;
  }
  FUZZ_CHECK(parsed, "%s: %s", error.c_str(), show(text).c_str());
  const std::string_view tls = r.tls.empty() ? "none" : r.tls;
  const std::pair<std::string_view, std::string_view> columns_back[] = {
      {row.client, r.client},
      {row.source, r.source},
      {row.reason, r.reason},
      {row.tls_version, tls},
      {row.cipher, r.cipher},
      {row.cipher_bits, r.bits},
      {row.cert_subject, r.cert_subject},
      {row.cert_issuer, r.cert_issuer},
      {row.auth, r.auth},
      {row.auth_user, r.auth_user},
      {row.transaction, r.transaction}};
  for (const auto& [got, want] : columns_back) {
    FUZZ_CHECK(got == want, "\"%s\" read back as \"%s\"", show(want).c_str(), show(got).c_str());
  }
  FUZZ_CHECK(row.action == report::Action::would_reject && row.time == 1793491200 &&
                 row.credentials_exposed == r.credentials_exposed &&
                 row.auth_before_tls == r.auth_before_tls,
             "flags or time read back wrong");
}

void check_report(std::string_view text) {
  report::Aggregator aggregator({});
  std::ostringstream errors;
  report::BadRowLog bad(errors);
  std::uint64_t rows = 0;
  const auto source = report::memory_source(text);
  const auto refused = report::feed_file("fuzz", *source, aggregator, rows, bad, errors, 4096);
  if (refused || text.empty()) return;  // no header (or no line at all): nothing counted
  std::size_t lines = 0;
  for (const char c : text) lines += c == '\n' ? 1 : 0;
  if (!text.empty() && text.back() != '\n') ++lines;
  FUZZ_CHECK(rows + 1 == lines, "%llu rows in %zu lines", static_cast<unsigned long long>(rows),
             lines);
  FUZZ_CHECK(bad.count() <= rows, "more bad rows than rows");
  report::Summary s = aggregator.summarize(3);
  s.rows = rows;
  s.bad_rows = bad.count();
  FUZZ_CHECK(aggregator.counted_rows() + aggregator.filtered_rows() + bad.count() == rows,
             "rows neither counted nor bad");
  FUZZ_CHECK(s.total.decisions ==
                 s.total.accept + s.total.reject + s.total.tempfail + s.total.would_reject,
             "decisions are not the sum of the actions");
  report::render_text(s);
  report::render_json(s);
  report::render_html(s, "/* chart.js */");
}

}  // namespace
}  // namespace tlsgate::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tlsgate::fuzz;
  FuzzedDataProvider in(data, size);
  const std::size_t step = in.ConsumeIntegralInRange<std::size_t>(1, 200);
  const bool round_trip = in.ConsumeBool();
  if (round_trip) {
    check_round_trip(in);
    return 0;
  }
  const std::string text = in.ConsumeRemainingBytesAsString();
  check_reader(text, step);
  check_report(text);
  return 0;
}
