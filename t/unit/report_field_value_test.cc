// A CSV field as tlsgate writes it (engine::csv_field), back to the value.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "engine/log_format.h"
#include "report/byte_source.h"
#include "report/csv_reader.h"
#include "report/field_value.h"

namespace tlsgate::report {
namespace {

TEST(FieldValue, UndoesTheFormulaGuardAndTheEscapes) {
  struct Case {
    std::string field, value;
  };
  const std::vector<Case> cases = {
      {"plain", "plain"},      {"'=1+1", "=1+1"},
      {"''quoted", "'quoted"}, {"a\\\\x41", "a\\x41"},
      {"\\x0d\\x0a", "\r\n"},  {"M\\xC3\\xBC", "M\xc3\xbc"},
      {"'-\\\\", "-\\"},       {"", ""},
  };
  std::string scratch;
  for (const auto& c : cases) {
    const auto v = field_value(c.field, scratch);
    ASSERT_TRUE(v.has_value()) << c.field;
    EXPECT_EQ(*v, c.value) << c.field;
  }
}

TEST(FieldValue, ABackslashTlsgateNeverWritesIsAnError) {
  std::string scratch;
  for (const char* bad : {"a\\", "\\q", "\\x4", "\\xZZ", "\\\"x"}) {
    EXPECT_FALSE(field_value(bad, scratch).has_value()) << bad;
  }
}

// Any value, written by the daemon's own csv_field and read back by the reader.
TEST(FieldValue, EveryValueCsvFieldWritesReadsBack) {
  std::mt19937 rng(3);
  const std::string bytes = std::string("=+-@'\\\",x \r\n\x01\x7f") + "\xc3\xbc\xff\xc2\x85";
  for (int round = 0; round < 3000; ++round) {
    std::string value;
    const std::size_t n = rng() % 12;
    for (std::size_t i = 0; i < n; ++i) value += bytes[rng() % bytes.size()];
    const std::string line = engine::csv_field(value) + "," + engine::csv_field("x") + "\r\n";
    const auto source = memory_source(line);
    CsvReader reader(*source);
    CsvRecord r;
    ASSERT_TRUE(reader.next(r));
    ASSERT_EQ(r.error, "") << printable(line);
    ASSERT_EQ(r.fields.size(), 2u) << printable(line);
    std::string scratch;
    const auto back = field_value(r.fields[0], scratch);
    ASSERT_TRUE(back.has_value()) << printable(line);
    EXPECT_EQ(*back, value) << printable(line);
  }
}

TEST(Displayable, ControlsAndBrokenUtf8BecomeEscapesValidUtf8Stays) {
  EXPECT_EQ(displayable("alice@example.test"), "alice@example.test");
  EXPECT_EQ(displayable("M\xc3\xbcller"), "M\xc3\xbcller");
  EXPECT_EQ(displayable("a\nb\x1b[31m"), "a\\x0ab\\x1b[31m");
  EXPECT_EQ(displayable("\xff\xc2\x85"), "\\xff\\xc2\\x85");  // a stray byte, a C1 control
  EXPECT_EQ(displayable("<script>"), "<script>");             // markup is the formats' job
}

}  // namespace
}  // namespace tlsgate::report
