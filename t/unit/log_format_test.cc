// The text of syslog lines and accounting rows: macro values come from the network,
// so no value may split a record, forge a field, or make the file unreadable.
#include "engine/log_format.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tlsgate::engine {
namespace {

using namespace std::string_literals;

TEST(EscapeValue, SafeValuesStayBare) {
  EXPECT_EQ(escape_value("TLS_AES_256_GCM_SHA384"), "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(escape_value("alice@example.test"), "alice@example.test");
  EXPECT_EQ(escape_value("4Xk2Lz0c1Qz9"), "4Xk2Lz0c1Qz9");
}

TEST(EscapeValue, EverythingElseIsQuotedAndEscaped) {
  struct Case {
    std::string in, out;
  };
  const std::vector<Case> cases = {
      {"", R"("")"},
      {"tlsgate test CA", R"("tlsgate test CA")"},
      {"a=b", R"("a=b")"},
      {R"(say "hi")", R"("say \"hi\"")"},
      {R"(C:\x41)", R"("C:\\x41")"},
      {"a\nb", R"("a\x0ab")"},
      {"\r\n", R"("\x0d\x0a")"},
      {"\x1b[31mred", R"("\x1b[31mred")"},
      {"\x7f", R"("\x7f")"},
      {"M\xc3\xbcller", R"("M\xc3\xbcller")"},
      {"\xff\xfe", R"("\xff\xfe")"},
  };
  for (const auto& c : cases) EXPECT_EQ(escape_value(c.in), c.out) << c.in;
}

TEST(EscapeValue, LongValuesAreCutAndMarked) {
  EXPECT_EQ(escape_value(std::string(kMaxLoggedValue, 'a')), std::string(kMaxLoggedValue, 'a'));
  EXPECT_EQ(escape_value(std::string(kMaxLoggedValue + 1, 'a')),
            "\"" + std::string(kMaxLoggedValue, 'a') + "...\"");
  // The worst case: every byte escaped as \xNN.
  const std::string worst = escape_value(std::string(100000, '\x01'));
  EXPECT_EQ(worst.size(), 1 + 4 * kMaxLoggedValue + 3 + 1);
  EXPECT_TRUE(worst.ends_with("\\x01...\""));
}

LogRecord hostile_record(const std::string& v) {
  LogRecord r;
  r.queue_id = v;
  r.action = "reject";
  r.reason = "plaintext_auth";
  r.client = "192.0.2.1";
  r.source = "default";
  // Canonical domains and names from the configuration: never long, never hostile;
  // escaped all the same (PartnerFields below).
  r.partner = "bank";
  r.sender_domain = "bank.example";
  r.rcpt_domain = "legal.example.org";
  r.tls = "TLSv1.3";
  r.cipher = v;
  r.bits = v;
  r.auth = v;
  r.auth_user = v;
  r.cert_subject = v;
  r.cert_issuer = v;
  r.reply = "530 5.7.10 Encryption needed for PLAIN/LOGIN authentication";
  r.credentials_exposed = true;
  return r;
}

// Reads a line the way a log parser would: "QUEUEID: key=value key=value ...",
// each value bare or in double quotes with backslash escapes. Returns the keys in
// order, or {"PARSE ERROR"} if the line is not of that form.
std::vector<std::string> keys_of(const std::string& line) {
  std::size_t i = 0;
  auto value = [&]() -> bool {
    if (i < line.size() && line[i] == '"') {
      for (++i; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\') ++i;
      }
      if (i >= line.size()) return false;
      ++i;
      return true;
    }
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '"') ++i;
    return i > start;
  };
  // The queue id: quoted and then ':', or bare up to the first space and ending in ':'.
  if (line.starts_with('"')) {
    if (!value() || i >= line.size() || line[i] != ':') return {"PARSE ERROR"};
    ++i;
  } else {
    i = line.find(' ');
    if (i == std::string::npos || i < 2 || line[i - 1] != ':') return {"PARSE ERROR"};
  }
  std::vector<std::string> keys;
  while (i < line.size()) {
    if (line[i] != ' ') return {"PARSE ERROR"};
    const std::size_t eq = line.find('=', ++i);
    if (eq == std::string::npos) return {"PARSE ERROR"};
    keys.push_back(line.substr(i, eq - i));
    i = eq + 1;
    if (!value()) return {"PARSE ERROR"};
  }
  return keys;
}

TEST(FormatLogLine, HostileValuesNeverSplitOrForgeALine) {
  const std::vector<std::string> want = {
      "action",  "reason",        "client",      "source",
      "partner", "sender_domain", "rcpt_domain", "tls",
      "cipher",  "bits",          "auth",        "auth_user",
      "cert",    "cert_issuer",   "reply",       "credentials_exposed"};
  const std::string forged = "x\nJan  1 00:00:00 mx tlsgate[1]: Q: action=accept client=6.6.6.6 x=";
  for (const std::string& v :
       {forged, "a action=accept"s, "\" action=accept \""s, std::string(70000, '\x01'),
        std::string(70000, 'A'), "\xc0\xaf\xff"s, "4Xk2:Lz0c1"s, "Q:"s}) {
    const std::string line = format_log_line(hostile_record(v));
    EXPECT_EQ(line.find_first_of("\r\n"s + '\0'), std::string::npos) << line.substr(0, 80);
    // Every forged "key=value" stays inside a quoted value.
    EXPECT_EQ(keys_of(line), want) << line.substr(0, 200);
    // Under rsyslog's default 8 KiB, with the last fields intact.
    EXPECT_LT(line.size(), 8192u);
    EXPECT_TRUE(line.ends_with(" credentials_exposed=yes")) << line.substr(line.size() - 80);
  }
}

TEST(CsvField, QuotingAndEscapes) {
  struct Case {
    std::string in, out;
  };
  const std::vector<Case> cases = {
      {"", ""},
      {"plain", "plain"},
      {"two words", R"("two words")"},
      {"a,b", R"("a,b")"},
      {R"(say "hi")", R"("say ""hi""")"},
      {"a\r\nb", R"(a\x0d\x0ab)"},
      {"\x7f", R"(\x7f)"},
      {R"(C:\x41)", R"(C:\\x41)"},
      // Spreadsheet formulas (OWASP CSV injection): a leading ' makes them text.
      {"=cmd|' /C calc'!A0", R"("'=cmd|' /C calc'!A0")"},
      {"=1+1", "'=1+1"},
      {"+1", "'+1"},
      {"-1", "'-1"},
      {"@SUM(A1)", "'@SUM(A1)"},
      {"'=1", "''=1"},  // so that dropping one leading ' always gives the value back
      {"a=1", "a=1"},
      {"\t=1", R"(\x09=1)"},  // a tab is escaped: the field starts with a backslash
  };
  for (const auto& c : cases) EXPECT_EQ(csv_field(c.in), c.out) << c.in;
}

TEST(CsvField, WellFormedUtf8IsKeptAnythingElseEscaped) {
  struct Case {
    std::string in, out;
  };
  const std::vector<Case> cases = {
      {"M\xc3\xbcller GmbH", "\"M\xc3\xbcller GmbH\""},  // U+00FC
      {"\xe2\x82\xac", "\xe2\x82\xac"},                  // U+20AC
      {"\xf0\x9f\x93\xa7", "\xf0\x9f\x93\xa7"},          // U+1F4E7
      {"\xff\xfe", R"(\xff\xfe)"},                       // never in UTF-8
      {"caf\xe9", R"(caf\xe9)"},                         // Latin-1
      {"\xc3", R"(\xc3)"},                               // cut short
      {"\xc3(", R"(\xc3()"},                             // bad continuation
      {"\xc0\xaf", R"(\xc0\xaf)"},                       // overlong '/'
      {"\xe0\x80\xaf", R"(\xe0\x80\xaf)"},               // overlong '/'
      {"\xed\xa0\x80", R"(\xed\xa0\x80)"},               // a surrogate
      {"\xf4\x90\x80\x80", R"(\xf4\x90\x80\x80)"},       // above U+10FFFF
      {"\xc2\x85", R"(\xc2\x85)"},                       // C1 NEL, a line break to some
      {"\xc2\xa0", "\xc2\xa0"},                          // U+00A0 is not C1
  };
  for (const auto& c : cases) EXPECT_EQ(csv_field(c.in), c.out) << c.in;
}

TEST(FormatCsvRow, OneRecordOneLine) {
  const std::string v = "x\r\n\"evil\",row\n\xff" + std::string(10000, ',');
  const std::string row = format_csv_row(hostile_record(v), 0);
  EXPECT_TRUE(row.starts_with("1970-01-01T00:00:00Z,"));
  EXPECT_TRUE(row.ends_with(",yes,,no,bank,bank.example\r\n"));
  EXPECT_EQ(row.find_first_of("\r\n"), row.size() - 2);
}

// Pinned when t/fuzz/fuzz_log found the CSV backslash ambiguity.
TEST(EscapeValue, SafeValuesStayBareOthersAreQuotedAndEscaped) {
  EXPECT_EQ(escape_value("TLS_AES_256_GCM_SHA384"), "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(escape_value(""), "\"\"");
  EXPECT_EQ(escape_value("530 5.7.0 Must"), "\"530 5.7.0 Must\"");
  EXPECT_EQ(escape_value("a\"b\\c\nd\xc3"), "\"a\\\"b\\\\c\\x0ad\\xc3\"");
  EXPECT_EQ(escape_value("k=v"), "\"k=v\"");
}

TEST(CsvField, QuotesDoubledControlCharactersEscaped) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("line\r\nbreak"), "line\\x0d\\x0abreak");
}

// Found by t/fuzz/fuzz_log: a value holding a literal backslash sequence such as
// "\x0a" was written unchanged, so it read back the same as a value holding a real
// newline (written "\x0a"): the accounting file could not tell them apart.
// Backslashes are now doubled.
TEST(CsvField, BackslashesAreDoubledSoThatEscapesAreUnambiguous) {
  EXPECT_EQ(csv_field("\n"), "\\x0a");
  EXPECT_EQ(csv_field("\\x0a"), "\\\\x0a");
  EXPECT_NE(csv_field("\n"), csv_field("\\x0a"));
  EXPECT_EQ(csv_field("CN=a\\, b"), "\"CN=a\\\\, b\"");
}

TEST(CsvRow, OneRecordOneLine) {
  LogRecord r;
  r.queue_id = "4Xk2Lz0c1Qz9";
  r.action = "accept";
  r.client = "192.0.2.10";
  r.source = "partners";
  r.tls = "TLSv1.3";
  r.cipher = "TLS_AES_256_GCM_SHA384";
  r.bits = "256";
  r.cert_subject = "relay\nexample";
  EXPECT_EQ(format_csv_row(r, 0),
            "1970-01-01T00:00:00Z,4Xk2Lz0c1Qz9,192.0.2.10,partners,accept,,TLSv1.3,"
            "TLS_AES_256_GCM_SHA384,256,relay\\x0aexample,,,,no,,no,,\r\n");
}

// Partner rules (issue 21): the partner that decided or every one that applied, the
// envelope sender's domain, and a refused recipient's domain, after source=; the CSV
// gains partner and sender_domain at the end.
TEST(PartnerFields, LogLineAndCsvRow) {
  struct Case {
    std::string partner, sender_domain, rcpt_domain;
    std::string in_line;  // what follows source=default
    std::string row_end;  // the CSV row's last two columns
  };
  const std::vector<Case> cases = {
      {"", "", "", " tls=", ",no,,\r\n"},
      {"bank", "bank.example", "",
       " partner=bank sender_domain=bank.example tls=", ",bank,bank.example\r\n"},
      {"bank,legal", "mx.bank.example", "",
       " partner=bank,legal sender_domain=mx.bank.example tls=",
       ",\"bank,legal\",mx.bank.example\r\n"},
      {"legal", "other.example", "legal.example.org",
       " partner=legal sender_domain=other.example rcpt_domain=legal.example.org tls=",
       ",legal,other.example\r\n"},
      {"", "<>", "", " sender_domain=<> tls=", ",,<>\r\n"},
      {"", "(unparsable)", "", " sender_domain=(unparsable) tls=", ",,(unparsable)\r\n"},
      {"", "a b\n=c", "", " sender_domain=\"a b\\x0a=c\" tls=", ",,\"a b\\x0a=c\"\r\n"},
  };
  for (const Case& c : cases) {
    LogRecord r;
    r.action = "reject";
    r.reason = "partner_network";
    r.client = "198.51.100.7";
    r.source = "default";
    r.partner = c.partner;
    r.sender_domain = c.sender_domain;
    r.rcpt_domain = c.rcpt_domain;
    const std::string line = format_log_line(r);
    EXPECT_NE(line.find("client=198.51.100.7 source=default" + c.in_line), std::string::npos)
        << line;
    const std::string row = format_csv_row(r, 0);
    EXPECT_TRUE(row.ends_with(c.row_end)) << row;
  }
  EXPECT_TRUE(csv_header().ends_with(",auth_before_tls,partner,sender_domain\r\n"));
}

TEST(PartnerFields, EscapedLikeEveryValue) {
  const std::string forged = "x\nJan  1 00:00:00 mx tlsgate[1]: Q: action=accept client=6.6.6.6";
  LogRecord r;
  r.action = "reject";
  r.client = "192.0.2.1";
  r.source = "default";
  r.partner = forged;
  r.sender_domain = forged;
  r.rcpt_domain = forged;
  const std::string line = format_log_line(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(keys_of(line),
            (std::vector<std::string>{"action", "client", "source", "partner", "sender_domain",
                                      "rcpt_domain", "tls", "auth", "cert"}));
  const std::string row = format_csv_row(r, 0);
  EXPECT_EQ(row.find_first_of("\r\n"), row.size() - 2);
}

}  // namespace
}  // namespace tlsgate::engine
