#include "engine/log_format.h"

#include <array>
#include <cstdio>

#include "policy/utf8.h"

namespace tlsgate::engine {
namespace {

bool is_safe(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("-_.:/@+*!<>[](),;#%&?^~|{}$'").find(static_cast<char>(c)) !=
             std::string_view::npos;
}

// A field whose absence is written "none": a value "none" is quoted so that it
// reads as a value.
std::string none_or_value(std::string_view v) {
  if (v.empty()) return "none";
  if (v == "none") return "\"none\"";
  return escape_value(v);
}

}  // namespace

std::string escape_value(std::string_view value) {
  const bool cut = value.size() > kMaxLoggedValue;
  if (cut) value = value.substr(0, kMaxLoggedValue);
  bool bare = !cut && !value.empty();
  for (const char ch : value) bare = bare && is_safe(static_cast<unsigned char>(ch));
  if (bare) return std::string(value);

  std::string out = "\"";
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c > 0x7e) {
      policy::append_hex_escape(out, c);
    } else {
      out += ch;
    }
  }
  if (cut) out += "...";
  out += '"';
  return out;
}

std::string format_log_line(const LogRecord& r) {
  std::string line = r.queue_id.empty() ? "NOQUEUE" : escape_value(r.queue_id);
  auto text = [&line](std::string_view key, const std::string& written) {
    line += ' ';
    line += key;
    line += '=';
    line += written;
  };
  auto field = [&](std::string_view key, std::string_view value) {
    text(key, escape_value(value));
  };
  line += ':';
  field("action", r.action);
  if (!r.reason.empty()) field("reason", r.reason);
  field("client", r.client);
  field("source", r.source);
  if (!r.partner.empty()) field("partner", r.partner);
  if (!r.sender_domain.empty()) field("sender_domain", r.sender_domain);
  if (!r.rcpt_domain.empty()) field("rcpt_domain", r.rcpt_domain);
  text("tls", none_or_value(r.tls));
  if (!r.tls.empty() || !r.cipher.empty() || !r.bits.empty()) {
    text("cipher", none_or_value(r.cipher));
    text("bits", none_or_value(r.bits));
  }
  text("auth", none_or_value(r.auth));
  if (!r.auth_user.empty()) field("auth_user", r.auth_user);
  text("cert", none_or_value(r.cert_subject));
  if (!r.cert_issuer.empty()) field("cert_issuer", r.cert_issuer);
  if (!r.reply.empty()) field("reply", r.reply);
  if (r.credentials_exposed) field("credentials_exposed", "yes");
  return line;
}

std::string csv_field(std::string_view value) {
  std::string cleaned;
  bool quote = false;
  for (std::size_t i = 0; i < value.size();) {
    const char ch = value[i];
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      policy::append_hex_escape(cleaned, c);
      ++i;
      continue;
    }
    if (c >= 0x80) {
      // Well-formed UTF-8 is kept, except the C1 controls (U+0080-U+009F);
      // any other byte above 0x7f is written as \xNN, so the file stays UTF-8.
      const std::size_t n = policy::utf8_sequence(value, i);
      const bool c1 = n == 2 && c == 0xc2 && static_cast<unsigned char>(value[i + 1]) < 0xa0;
      const std::size_t len = n == 0 ? 1 : n;
      if (n == 0 || c1) {
        for (std::size_t k = 0; k < len; ++k)
          policy::append_hex_escape(cleaned, static_cast<unsigned char>(value[i + k]));
      } else {
        cleaned.append(value.substr(i, len));
      }
      i += len;
      continue;
    }
    if (ch == '"') cleaned += '"';
    if (ch == '\\') cleaned += '\\';  // so that a literal "\x0a" never reads as an escape
    quote = quote || ch == '"' || ch == ',' || ch == ' ';
    cleaned += ch;
    ++i;
  }
  if (!cleaned.empty() &&
      std::string_view("=+-@'").find(cleaned.front()) != std::string_view::npos) {
    cleaned.insert(cleaned.begin(), '\'');
  }
  return quote ? "\"" + cleaned + "\"" : cleaned;
}

std::string csv_header() {
  return "time,queue_id,client,source,action,reason,tls_version,cipher,cipher_bits,"
         "cert_subject,cert_issuer,auth,auth_user,credentials_exposed,transaction,"
         "auth_before_tls,partner,sender_domain\r\n";
}

std::string format_csv_row(const LogRecord& r, std::time_t when) {
  std::tm utc{};
  gmtime_r(&when, &utc);
  std::array<char, 32> stamp{};
  std::strftime(stamp.data(), stamp.size(), "%Y-%m-%dT%H:%M:%SZ", &utc);

  std::string row = stamp.data();
  const std::string_view tls = r.tls.empty() ? std::string_view("none") : r.tls;
  for (const std::string_view v :
       {r.queue_id, r.client, r.source, r.action, r.reason, tls, r.cipher, r.bits, r.cert_subject,
        r.cert_issuer, r.auth, r.auth_user, std::string_view(r.credentials_exposed ? "yes" : "no"),
        r.transaction, std::string_view(r.auth_before_tls ? "yes" : "no"), r.partner,
        r.sender_domain}) {
    row += ',';
    row += csv_field(v);
  }
  row += "\r\n";
  return row;
}

}  // namespace tlsgate::engine
