// The report's CSV reader: RFC 4180 fields, one record a line, every malformed line
// named, the same records whatever the buffer size and whichever block scanner.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "report/block_scan.h"
#include "report/byte_source.h"
#include "report/csv_reader.h"

namespace tlsgate::report {
namespace {

struct Line {
  std::vector<std::string> fields;
  std::string error;
  std::uint64_t number = 0;
  bool escapes = false;
  friend bool operator==(const Line&, const Line&) = default;
};

std::vector<Line> read_all(std::string_view text, std::size_t buffer = std::size_t{1} << 20,
                           BlockScanner scanner = block_scanner()) {
  const auto source = memory_source(text);
  CsvReader reader(*source, buffer, scanner);
  CsvRecord r;
  std::vector<Line> lines;
  while (reader.next(r)) {
    Line l{{r.fields.begin(), r.fields.end()}, std::string(r.error), r.line, r.escapes};
    lines.push_back(std::move(l));
  }
  return lines;
}

using Fields = std::vector<std::string>;

TEST(CsvReader, SplitsFieldsOfCrlfAndLfLines) {
  const auto lines = read_all("a,b,c\r\n1,,3\nx\r\n,\r\n");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].fields, (Fields{"a", "b", "c"}));
  EXPECT_EQ(lines[1].fields, (Fields{"1", "", "3"}));
  EXPECT_EQ(lines[2].fields, (Fields{"x"}));
  EXPECT_EQ(lines[3].fields, (Fields{"", ""}));
  for (std::size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(lines[i].number, i + 1);
}

TEST(CsvReader, QuotedFieldsHoldCommasSpacesAndDoubledQuotes) {
  const auto lines = read_all(
      "\"tlsgate test CA\",\"a,b\",\"say \"\"hi\"\"\",\"\",\"\"\"\"\r\n"
      "plain,\"x\"\r\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].fields, (Fields{"tlsgate test CA", "a,b", "say \"hi\"", "", "\""}));
  EXPECT_EQ(lines[0].error, "");
  EXPECT_EQ(lines[1].fields, (Fields{"plain", "x"}));
}

TEST(CsvReader, EveryMalformedLineIsNamedAndTheNextOneStillRead) {
  struct Case {
    std::string line, error;
  };
  const std::vector<Case> cases = {
      {"a\"b,c", "a quote inside a field that does not start with one"},
      {"\"ab\"c,d", "text after the closing quote of a field"},
      {"\"abc,d", "a quoted field does not end on its line"},
      {"a\rb,c", "a carriage return inside an unquoted field"},
      {"", "an empty line"},
  };
  for (const auto& c : cases) {
    const auto lines = read_all(c.line + "\r\nnext,row\r\n");
    ASSERT_EQ(lines.size(), 2u) << c.line;
    EXPECT_EQ(lines[0].error, c.error) << c.line;
    EXPECT_TRUE(lines[0].fields.empty()) << c.line;
    EXPECT_EQ(lines[1].fields, (Fields{"next", "row"})) << c.line;
    EXPECT_EQ(lines[1].number, 2u);
  }
}

TEST(CsvReader, ACarriageReturnInsideQuotesIsData) {
  const auto lines = read_all("\"a\rb\",c\r\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].fields, (Fields{"a\rb", "c"}));
}

TEST(CsvReader, ALastLineWithoutLineEndIsACutRow) {
  const auto lines = read_all("a,b\r\nc,d");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].fields, (Fields{"a", "b"}));
  EXPECT_EQ(lines[1].error, "the row has no line end: the file was cut in the middle of it");
  EXPECT_EQ(lines[1].number, 2u);
  EXPECT_TRUE(read_all("").empty());
}

TEST(CsvReader, AByteOrderMarkOnLineOneIsNotPartOfTheFirstField) {
  const auto lines = read_all("\xef\xbb\xbftime,client\r\n\xef\xbb\xbfx,y\r\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].fields, (Fields{"time", "client"}));
  EXPECT_EQ(lines[1].fields, (Fields{"\xef\xbb\xbfx", "y"}));  // only line 1's
}

TEST(CsvReader, FlagsLinesThatMayHoldValueEscapes) {
  const auto lines = read_all("a,b\r\na\\\\b,c\r\n'=1,c\r\n\"x\\x0a\",y\r\n");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_FALSE(lines[0].escapes);
  EXPECT_TRUE(lines[1].escapes);
  EXPECT_TRUE(lines[2].escapes);
  EXPECT_TRUE(lines[3].escapes);
}

TEST(CsvReader, CrAndLfOnEitherSideOfABlockBoundary) {
  // The CR of a CRLF as the last byte of a 64-byte block, its LF the next block's first.
  for (std::size_t pad = 55; pad < 70; ++pad) {
    const std::string first(pad, 'x');
    const std::string text = first + "\r\n" + "a,b\r\n" + first + "\r\r\n";
    const auto lines = read_all(text);
    ASSERT_EQ(lines.size(), 3u) << pad;
    EXPECT_EQ(lines[0].fields, (Fields{first})) << pad;
    EXPECT_EQ(lines[1].fields, (Fields{"a", "b"})) << pad;
    EXPECT_EQ(lines[2].error, "a carriage return inside an unquoted field") << pad;
  }
}

TEST(CsvReader, FieldsOfAnyLengthAndLinesLongerThanTheBuffer) {
  const std::string big(100000, 'v');
  std::string many;
  for (int i = 0; i < 300; ++i) many += std::to_string(i) + ",";
  const auto lines = read_all("a," + big + ",\"" + big + "\"\r\n" + many + "\r\nz\r\n", 64);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].fields, (Fields{"a", big, big}));
  EXPECT_EQ(lines[1].fields.size(), 301u);
  EXPECT_EQ(lines[1].fields[299], "299");
  EXPECT_EQ(lines[2].fields, (Fields{"z"}));
}

// A corpus of lines of every kind, read whole, through small buffers and with each
// block scanner: the same records every time.
TEST(CsvReader, TheSameRecordsWhateverTheBufferAndScanner) {
  std::mt19937 rng(7);
  const std::string alphabet = "ab,\"\r\n\\' x";
  std::string text;
  for (int i = 0; i < 3000; ++i) text += alphabet[rng() % alphabet.size()];
  for (int i = 0; i < 200; ++i)
    text += "2026-11-20T10:00:00Z,,192.0.2." + std::to_string(i) +
            ",default,accept,,TLSv1.3,\"a b\",256\r\n";
  const auto expected = read_all(text, std::size_t{1} << 20, scan_block_portable);
  ASSERT_GT(expected.size(), 200u);
  for (const BlockScanner scanner : block_scanners()) {
    for (const std::size_t buffer : {64, 65, 100, 1000, 1 << 20}) {
      EXPECT_EQ(read_all(text, static_cast<std::size_t>(buffer), scanner), expected)
          << "buffer " << buffer;
    }
  }
}

TEST(BlockScan, EveryScannerAgreesWithThePortableOne) {
  std::mt19937 rng(11);
  const std::string interesting = ",\n\"\r\\'a\x80\xff";
  for (int round = 0; round < 2000; ++round) {
    char block[64];
    for (char& c : block) c = interesting[rng() % interesting.size()];
    const BlockMasks want = scan_block_portable(block);
    for (const BlockScanner scanner : block_scanners()) {
      const BlockMasks got = scanner(block);
      EXPECT_EQ(got.comma, want.comma);
      EXPECT_EQ(got.newline, want.newline);
      EXPECT_EQ(got.quote, want.quote);
      EXPECT_EQ(got.cr, want.cr);
      EXPECT_EQ(got.escape, want.escape);
    }
  }
}

}  // namespace
}  // namespace tlsgate::report
