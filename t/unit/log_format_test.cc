// The syslog line and the accounting CSV row: values from the network never break a
// record, and each field reads back to the value written.
#include "milter/log_format.h"

#include <gtest/gtest.h>

#include <string>

namespace tlsgate::milter {
namespace {

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
            "TLS_AES_256_GCM_SHA384,256,relay\\x0aexample,,,,no\r\n");
}

}  // namespace
}  // namespace tlsgate::milter
