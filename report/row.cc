#include "report/row.h"

#include <cstring>

#include "report/field_value.h"
#include "report/timestamp.h"

namespace tlsgate::report {
namespace {

bool parse_action(std::string_view text, Action& out) {
  if (text == "accept") {
    out = Action::accept;
  } else if (text == "would-reject") {
    out = Action::would_reject;
  } else if (text == "reject") {
    out = Action::reject;
  } else if (text == "tempfail") {
    out = Action::tempfail;
  } else {
    return false;
  }
  return true;
}

std::string quoted(std::string_view v) { return "\"" + printable(v) + "\""; }

}  // namespace

std::string_view action_text(Action a) {
  switch (a) {
    case Action::accept: return "accept";
    case Action::reject: return "reject";
    case Action::tempfail: return "tempfail";
    case Action::would_reject: return "would-reject";
  }
  return "accept";
}

bool RowParser::decode(Column c, std::string_view& value, std::string& error) {
  const auto v = field_value(value, scratch_[static_cast<std::size_t>(c)]);
  if (!v) {
    error = std::string(column_name(c)) + ": a backslash that starts neither \\\\ nor \\xNN in " +
            quoted(value);
    return false;
  }
  value = *v;
  return true;
}

bool RowParser::yes_no(const CsvRecord& record, Column c, bool& out, std::string& error) {
  std::string_view text;
  if (!value(record, c, text, error)) return false;
  if (text.size() == 2 && text[0] == 'n' && text[1] == 'o') {
    out = false;
    return true;
  }
  if (text == "yes" || (text.empty() && !columns_.has(c))) {
    out = !text.empty();
    return true;
  }
  error = std::string(column_name(c)) + ": " + quoted(text) + " is neither yes nor no";
  return false;
}

bool RowParser::time(std::string_view text, std::int64_t& out) {
  // Only the clock needs parsing when the date is the last row's.
  if (text.size() == 20 && std::memcmp(text.data(), last_date_.data(), 11) == 0) {
    const auto clock = parse_row_clock(text);
    if (!clock) return false;
    out = last_day_start_ + *clock;
    return true;
  }
  const auto t = parse_row_time(text);
  if (!t) return false;
  out = *t;
  std::memcpy(last_date_.data(), text.data(), 11);
  last_day_start_ = day_of(*t) * kSecondsPerDay;
  return true;
}

bool RowParser::parse(const CsvRecord& record, Row& row, std::string& error) {
  if (record.fields.size() != columns_.width) {
    error = "wrong number of fields: " + std::to_string(record.fields.size()) +
            ", the header has " + std::to_string(columns_.width);
    return false;
  }
  std::string_view action;
  if (!value(record, Column::time, row.time_text, error) ||
      !value(record, Column::client, row.client, error) ||
      !value(record, Column::source, row.source, error) ||
      !value(record, Column::action, action, error) ||
      !value(record, Column::reason, row.reason, error) ||
      !value(record, Column::tls_version, row.tls_version, error) ||
      !value(record, Column::cipher, row.cipher, error) ||
      !value(record, Column::cipher_bits, row.cipher_bits, error) ||
      !value(record, Column::cert_subject, row.cert_subject, error) ||
      !value(record, Column::cert_issuer, row.cert_issuer, error) ||
      !value(record, Column::auth, row.auth, error) ||
      !value(record, Column::auth_user, row.auth_user, error) ||
      !value(record, Column::transaction, row.transaction, error) ||
      !value(record, Column::partner, row.partner, error) ||
      !value(record, Column::sender_domain, row.sender_domain, error) ||
      !yes_no(record, Column::credentials_exposed, row.credentials_exposed, error) ||
      !yes_no(record, Column::auth_before_tls, row.auth_before_tls, error)) {
    return false;
  }
  if (!time(row.time_text, row.time)) {
    error = "time: " + quoted(row.time_text) + " is not YYYY-MM-DDTHH:MM:SSZ";
    return false;
  }
  if (!parse_action(action, row.action)) {
    error = "action: " + quoted(action) + " is none of accept, reject, tempfail, would-reject";
    return false;
  }
  if (row.source.empty()) {
    error = "source: empty";
    return false;
  }
  if (row.client.empty()) {
    error = "client: empty";
    return false;
  }
  return true;
}

}  // namespace tlsgate::report
