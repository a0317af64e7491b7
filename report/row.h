// One accounting row, its fields decoded (field_value.h) and checked.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "report/columns.h"
#include "report/csv_reader.h"

namespace tlsgate::report {

enum class Action : std::uint8_t { accept, reject, tempfail, would_reject };

// "accept", "reject", "tempfail", "would-reject" as logged.
std::string_view action_text(Action a);

struct Row {
  std::int64_t time = 0;  // seconds since the epoch (UTC)
  std::string_view time_text;
  std::string_view client;  // not checked here: the aggregator checks each distinct one once
  std::string_view source;
  Action action = Action::accept;
  std::string_view reason;
  std::string_view tls_version;  // TLSv1..TLSv1.3, "none", or what the MTA sent
  std::string_view cipher;
  std::string_view cipher_bits;
  std::string_view cert_subject;  // set only for a certificate the MTA verified
  std::string_view cert_issuer;
  std::string_view auth;  // SASL mechanism, empty: none
  std::string_view auth_user;
  bool credentials_exposed = false;
  std::string_view transaction;  // empty in files written before the column existed
  bool auth_before_tls = false;
  // Empty in files written before these columns existed. `partner`: on a refusal the
  // partner that made it, on an accept every partner that applied, comma-separated.
  std::string_view partner;
  std::string_view sender_domain;  // a domain, "<>", "(none)" or "(unparsable)"
};

class RowParser {
 public:
  explicit RowParser(const ColumnMap& columns) : columns_(columns) {}

  // Fills `row` from a well-formed record; false with `error` set for a row that
  // cannot be counted (wrong field count, a bad time or action, a bad escape, ...).
  // The views stay valid until the next call and the reader's next record.
  bool parse(const CsvRecord& record, Row& row, std::string& error);

 private:
  // The value of column `c` (empty if the file has no such column).
  bool value(const CsvRecord& record, Column c, std::string_view& out, std::string& error) {
    const int at = columns_[c];
    if (at < 0) {
      out = {};
      return true;
    }
    out = record.fields[static_cast<std::size_t>(at)];
    return !record.escapes || decode(c, out, error);
  }
  bool decode(Column c, std::string_view& value, std::string& error);
  bool yes_no(const CsvRecord& record, Column c, bool& out, std::string& error);
  bool time(std::string_view text, std::int64_t& out);

  ColumnMap columns_;
  std::array<std::string, kColumnCount> scratch_;
  // The date of the last row: most rows share it with the one before.
  std::array<char, 11> last_date_{};
  std::int64_t last_day_start_ = 0;
};

}  // namespace tlsgate::report
