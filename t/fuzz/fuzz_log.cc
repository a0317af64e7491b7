// Fuzz target: the syslog key=value line and the accounting CSV row (engine/log_format).
// Every LogRecord field is arbitrary bytes (macro values come from the network).
//
// Properties:
//  - escape_value: printable ASCII only; a bare value is the value itself and holds no
//    space, quote, backslash or '='; a quoted one has every inner quote escaped and
//    unescapes to the value (a value over kMaxLoggedValue bytes: to its first
//    kMaxLoggedValue bytes and "...").
//  - format_log_line: one line of printable ASCII that reads back (queue id, then
//    key=value pairs) to exactly the fields of the record, in the documented order;
//    in the fields written "none" when empty (tls, cipher, bits, auth, cert) a bare
//    none means empty and a value "none" is quoted.
//  - csv_field / format_csv_row: one CRLF-terminated record that a strict RFC 4180
//    reader splits into the header's 18 fields, each of which unescapes (one leading
//    ' dropped, then \\ and \xNN) to the value written; no field starts with = + - @.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "engine/log_format.h"
#include "t/fuzz/fuzz_support.h"

namespace tlsgate::fuzz {
namespace {

using engine::LogRecord;

bool printable_ascii(std::string_view s) {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// What a syslog line carries for a value: the value, or its first kMaxLoggedValue
// bytes and "..." (engine/log_format.h).
std::string logged(std::string_view v) {
  if (v.size() <= engine::kMaxLoggedValue) return std::string(v);
  return std::string(v.substr(0, engine::kMaxLoggedValue)) + "...";
}

void check_escape_value(std::string_view v) {
  const std::string out = engine::escape_value(v);
  FUZZ_CHECK(!out.empty(), "value \"%s\"", show(v).c_str());
  FUZZ_CHECK(printable_ascii(out), "value \"%s\" -> %s", show(v).c_str(), show(out).c_str());
  if (out.front() != '"') {
    FUZZ_CHECK(out == v, "bare value changed: \"%s\" -> %s", show(v).c_str(), out.c_str());
    FUZZ_CHECK(out.find_first_of(" \"\\=") == std::string::npos, "bare value %s", out.c_str());
    return;
  }
  FUZZ_CHECK(out.size() >= 2 && out.back() == '"', "unbalanced quotes: %s", out.c_str());
  const std::string_view inner = std::string_view(out).substr(1, out.size() - 2);
  for (std::size_t i = 0; i < inner.size(); ++i) {
    if (inner[i] == '\\') {
      ++i;
    } else {
      FUZZ_CHECK(inner[i] != '"', "unescaped quote inside %s", out.c_str());
    }
  }
  const auto back = c_unescape(inner);
  FUZZ_CHECK(back && *back == logged(v), "\"%s\" -> %s does not read back", show(v).c_str(),
             out.c_str());
}

// One value token at `pos`: quoted (up to the closing unescaped quote) or bare (up to
// the next space). Returns the unescaped value and moves `pos` past it.
std::optional<std::string> read_value(std::string_view line, std::size_t& pos,
                                      bool* quoted = nullptr) {
  if (pos >= line.size()) return std::nullopt;
  if (quoted != nullptr) *quoted = line[pos] == '"';
  if (line[pos] != '"') {
    const std::size_t end = std::min(line.find(' ', pos), line.size());
    std::string bare(line.substr(pos, end - pos));
    pos = end;
    return bare;
  }
  std::size_t i = pos + 1;
  while (i < line.size() && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
  if (i >= line.size()) return std::nullopt;
  auto value = c_unescape(line.substr(pos + 1, i - pos - 1));
  pos = i + 1;
  return value;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

// "QUEUEID: key=value key=value ..." back into its parts; `bare`, if given, gets
// the keys whose value was written bare.
std::optional<std::pair<std::string, Pairs>> read_log_line(
    std::string_view line, std::vector<std::string>* bare = nullptr) {
  std::size_t pos = 0;
  std::string queue_id;
  if (line.starts_with('"')) {
    auto q = read_value(line, pos);
    if (!q || pos >= line.size() || line[pos] != ':') return std::nullopt;
    queue_id = *q;
    ++pos;
  } else {
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos || space == 0 || line[space - 1] != ':') {
      return std::nullopt;
    }
    queue_id = line.substr(0, space - 1);
    pos = space;
  }
  Pairs pairs;
  while (pos < line.size()) {
    if (line[pos] != ' ') return std::nullopt;
    const std::size_t eq = line.find('=', pos);
    if (eq == std::string_view::npos) return std::nullopt;
    std::string key(line.substr(pos + 1, eq - pos - 1));
    if (key.empty() || key.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos) {
      return std::nullopt;
    }
    pos = eq + 1;
    bool quoted = false;
    auto value = read_value(line, pos, &quoted);
    if (!value) return std::nullopt;
    if (bare != nullptr && !quoted) bare->push_back(key);
    pairs.emplace_back(std::move(key), std::move(*value));
  }
  return std::make_pair(queue_id, pairs);
}

std::string or_none(std::string_view v) { return v.empty() ? "none" : std::string(v); }

// A bare "none" in these fields stands for no value; the value "none" is quoted.
bool none_means_empty(std::string_view key) {
  return key == "tls" || key == "cipher" || key == "bits" || key == "auth" || key == "cert";
}

// The fields format_log_line is documented to write for `r`, in order.
Pairs expected_pairs(const LogRecord& r) {
  Pairs p;
  auto add = [&p](std::string key, std::string_view value) {
    p.emplace_back(std::move(key), logged(value));
  };
  add("action", r.action);
  if (!r.reason.empty()) add("reason", r.reason);
  add("client", r.client);
  add("source", r.source);
  if (!r.partner.empty()) add("partner", r.partner);
  if (!r.sender_domain.empty()) add("sender_domain", r.sender_domain);
  if (!r.rcpt_domain.empty()) add("rcpt_domain", r.rcpt_domain);
  add("tls", or_none(r.tls));
  if (!r.tls.empty() || !r.cipher.empty() || !r.bits.empty()) {
    add("cipher", or_none(r.cipher));
    add("bits", or_none(r.bits));
  }
  add("auth", or_none(r.auth));
  if (!r.auth_user.empty()) add("auth_user", r.auth_user);
  add("cert", or_none(r.cert_subject));
  if (!r.cert_issuer.empty()) add("cert_issuer", r.cert_issuer);
  if (!r.reply.empty()) add("reply", r.reply);
  if (r.credentials_exposed) add("credentials_exposed", "yes");
  return p;
}

void check_log_line(const LogRecord& r) {
  const std::string line = engine::format_log_line(r);
  FUZZ_CHECK(printable_ascii(line), "not one printable line: %s", show(line).c_str());
  std::vector<std::string> bare;
  const auto parsed = read_log_line(line, &bare);
  FUZZ_CHECK(parsed.has_value(), "line does not read back: %s", line.c_str());
  const std::string expected_qid = r.queue_id.empty() ? "NOQUEUE" : logged(r.queue_id);
  FUZZ_CHECK(parsed->first == expected_qid, "queue id \"%s\" read back as \"%s\"",
             show(expected_qid).c_str(), show(parsed->first).c_str());
  const Pairs expected = expected_pairs(r);
  FUZZ_CHECK(parsed->second.size() == expected.size(), "%zu fields, expected %zu: %s",
             parsed->second.size(), expected.size(), line.c_str());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    FUZZ_CHECK(parsed->second[i] == expected[i], "field %zu: %s=\"%s\" read back as %s=\"%s\"", i,
               expected[i].first.c_str(), show(expected[i].second).c_str(),
               parsed->second[i].first.c_str(), show(parsed->second[i].second).c_str());
  }
  // Absent and the word "none" never look alike.
  for (const auto& [key, value] : parsed->second) {
    if (!none_means_empty(key)) continue;
    const bool bare_none =
        value == "none" && std::find(bare.begin(), bare.end(), key) != bare.end();
    const std::string_view field = key == "tls"      ? r.tls
                                   : key == "cipher" ? r.cipher
                                   : key == "bits"   ? r.bits
                                   : key == "auth"   ? r.auth
                                                     : r.cert_subject;
    FUZZ_CHECK(bare_none == field.empty(), "%s=\"%s\" written as %s", key.c_str(),
               show(field).c_str(), line.c_str());
  }
}

// A CSV field back to the value: one leading ' dropped (csv_field's formula guard),
// then \\ and \xNN undone.
std::optional<std::string> csv_value(std::string_view field) {
  if (field.starts_with('\'')) field.remove_prefix(1);
  return c_unescape(field);
}

void check_csv_field(std::string_view v) {
  const std::string field = engine::csv_field(v);
  const auto parsed = parse_csv_record(field + "\r\n");
  FUZZ_CHECK(parsed && parsed->size() == 1, "\"%s\" -> %s is not one CSV field", show(v).c_str(),
             show(field).c_str());
  FUZZ_CHECK(field.find_first_of("\r\n") == std::string::npos, "line break in %s",
             show(field).c_str());
  FUZZ_CHECK((*parsed)[0].empty() ||
                 std::string_view("=+-@").find((*parsed)[0][0]) == std::string_view::npos,
             "%s starts a spreadsheet formula", show(field).c_str());
  const auto back = csv_value((*parsed)[0]);
  FUZZ_CHECK(back && *back == v, "\"%s\" -> %s does not read back", show(v).c_str(),
             show(field).c_str());
}

void check_csv_row(const LogRecord& r, std::time_t when) {
  static const std::size_t header_fields = [] {
    const auto h = parse_csv_record(engine::csv_header());
    FUZZ_CHECK(h.has_value(), "the CSV header is not a record");
    return h->size();
  }();
  const std::string row = engine::format_csv_row(r, when);
  FUZZ_CHECK(row.find_first_of("\r\n") == row.size() - 2, "not one line: %s", show(row).c_str());
  const auto parsed = parse_csv_record(row);
  FUZZ_CHECK(parsed.has_value(), "not an RFC 4180 record: %s", show(row).c_str());
  FUZZ_CHECK(parsed->size() == header_fields, "%zu fields, the header has %zu: %s", parsed->size(),
             header_fields, show(row).c_str());
  const std::string_view values[] = {r.queue_id,
                                     r.client,
                                     r.source,
                                     r.action,
                                     r.reason,
                                     r.tls.empty() ? "none" : r.tls,
                                     r.cipher,
                                     r.bits,
                                     r.cert_subject,
                                     r.cert_issuer,
                                     r.auth,
                                     r.auth_user,
                                     r.credentials_exposed ? "yes" : "no",
                                     r.transaction,
                                     r.auth_before_tls ? "yes" : "no",
                                     r.partner,
                                     r.sender_domain};
  FUZZ_CHECK((*parsed)[0].find_first_of(",\" ") == std::string::npos, "time field %s",
             show((*parsed)[0]).c_str());
  for (std::size_t i = 0; i < std::size(values); ++i) {
    const auto back = csv_value((*parsed)[i + 1]);
    FUZZ_CHECK(back && *back == values[i], "field %zu: \"%s\" read back as %s", i + 1,
               show(values[i]).c_str(), show((*parsed)[i + 1]).c_str());
  }
}

}  // namespace
}  // namespace tlsgate::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tlsgate::fuzz;
  FuzzedDataProvider in(data, size);
  // Strings first (backslash-separated, see FuzzedDataProvider), so that seeds read as text.
  std::string fields[14];
  for (std::string& f : fields) f = in.ConsumeRandomLengthString(512);
  const bool exposed = in.ConsumeBool();
  const auto when = in.ConsumeIntegral<std::int64_t>();

  LogRecord r;
  r.queue_id = fields[0];
  r.action = fields[1];
  r.reason = fields[2];
  r.client = fields[3];
  r.source = fields[4];
  r.tls = fields[5];
  r.cipher = fields[6];
  r.bits = fields[7];
  r.auth = fields[8];
  r.auth_user = fields[9];
  r.cert_subject = fields[10];
  r.cert_issuer = fields[11];
  r.reply = fields[12];
  r.credentials_exposed = exposed;
  r.transaction = fields[13];
  r.auth_before_tls = in.ConsumeBool();
  // Read last, so that the seeds written before these fields keep their meaning.
  std::string partner_fields[3];
  for (std::string& f : partner_fields) f = in.ConsumeRandomLengthString(512);
  r.partner = partner_fields[0];
  r.sender_domain = partner_fields[1];
  r.rcpt_domain = partner_fields[2];

  for (const std::string& f : partner_fields) check_escape_value(f);
  for (const std::string& f : fields) {
    check_escape_value(f);
    check_csv_field(f);
  }
  check_log_line(r);
  check_csv_row(r, static_cast<std::time_t>(when));
  return 0;
}
