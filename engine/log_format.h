// The text of tlsgate's log lines and accounting rows. Values come from the
// network (macro values), so each is escaped: one record is always one line.
#pragma once

#include <cstddef>
#include <ctime>
#include <string>
#include <string_view>

namespace tlsgate::engine {

struct LogRecord {
  std::string_view queue_id;  // empty: NOQUEUE
  std::string_view action;    // accept, reject, tempfail, would-reject
  std::string_view reason;    // empty for an accepted session
  std::string_view client;    // address or "unknown"
  std::string_view source;
  // The [partner NAME] that refused (or would have); on an accept line every
  // partner that applied, comma-separated. Empty: none.
  std::string_view partner;
  // The envelope sender's domain as EnvelopeDomain::log_text() writes it (the
  // domain, "<>", "(none)", "(unparsable)"); empty: the sender is not known.
  std::string_view sender_domain;
  // A recipient refused on its own (a partner's recipient_domains): its domain.
  std::string_view rcpt_domain;
  // The protocol; what the MTA sent in {tls_version} if it is not one tlsgate
  // knows (judged as no TLS); empty: none sent.
  std::string_view tls;
  std::string_view cipher;
  std::string_view bits;
  std::string_view auth;  // mechanism or empty
  std::string_view auth_user;
  std::string_view cert_subject;  // empty: no verified certificate
  std::string_view cert_issuer;
  std::string_view reply;  // "530 5.7.0 text" for a refusal sent to the client
  bool credentials_exposed = false;
  // CSV only. The transaction: "PROCESS.SESSION.TRANSACTION", the same in a
  // monitor-mode would-reject row and the accept row of its message.
  std::string_view transaction;
  // The AUTH was made before STARTTLS and the MTA kept it (Sendmail): a fact the
  // decision used that the other columns do not show (tlsgate report --what-if).
  bool auth_before_tls = false;
};

// Longer values are cut in syslog lines: a line stays well under the 8 KiB that
// rsyslog keeps by default, so no value can push the fields after it (reply=,
// credentials_exposed=yes) off the end of the line.
inline constexpr std::size_t kMaxLoggedValue = 256;

// A value as it appears after "key=": bare if it is made of safe characters,
// else in double quotes with \" \\ and \xNN escapes for quotes, backslashes,
// control characters and bytes above 0x7e. Empty becomes "". A value longer than
// kMaxLoggedValue bytes is cut there and ends in ... inside the quotes.
std::string escape_value(std::string_view value);

// "QUEUEID: action=... reason=... client=... source=... tls=... ..." (design §4);
// partner=, sender_domain= and rcpt_domain= after source= when they have a value.
// tls, cipher, bits, auth and cert are "none" when empty; a value that is the
// word "none" itself is quoted (cert="none"), so that it never reads as absent.
std::string format_log_line(const LogRecord& r);

// RFC 4180 field: quoted when it holds a comma, quote or space; quotes doubled;
// control characters (C0, DEL, C1) and bytes that are not well-formed UTF-8
// written as \xNN, a backslash as \\: a record never spans lines, the file is
// always valid UTF-8, and the escapes can be undone. Never cut.
// A field that starts with = + - @ (or ') gets a leading ': a spreadsheet then
// shows it as text instead of running it as a formula (OWASP's CSV injection
// advice); a reader drops one leading ' to get the value back.
std::string csv_field(std::string_view value);
// The columns in order; rows written before a column was added have fewer, and
// readers find columns by this header's names.
std::string csv_header();
std::string format_csv_row(const LogRecord& r, std::time_t when);

}  // namespace tlsgate::engine
