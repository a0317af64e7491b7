// `tlsgate report` as a command: its exit status and its output file.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "report/byte_source.h"
#include "report/feed.h"
#include "report/run.h"
#include "report_test_support.h"
#include "test_support.h"

namespace tlsgate::report {
namespace {

using policy::testing::TempDir;
using testing::csv;
using testing::TestRow;

int run(std::vector<std::string> args) {
  args.insert(args.begin(), "report");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return run_report(static_cast<int>(args.size()), argv.data());
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const TestRow kPlain{.client = "198.51.100.7", .tls = "none", .cipher = "", .bits = ""};

TEST(RunReport, ExitZeroOneOrTwo) {
  TempDir dir;
  const std::string log = dir.write("accounting.csv", csv({kPlain, TestRow{}}));
  const std::string strict = dir.write("strict.ini", "[source default]\nrequire_starttls = yes\n");
  const std::string loose = dir.write("loose.ini", "[source default]\n");
  const std::string out = dir.file("out");
  EXPECT_EQ(run({"-o", out, log}), kDone);
  EXPECT_NE(read(out).find("tlsgate report: 2 rows in 1 file"), std::string::npos);
  EXPECT_EQ(run({"-o", out, "--what-if", strict, log}), kNewlyRefused);
  EXPECT_EQ(run({"-o", out, "--what-if", loose, log}), kDone);
  EXPECT_EQ(run({"-o", out, dir.file("missing.csv")}), kError);
  EXPECT_EQ(run({"-o", out, dir.write("data.csv", testing::csv_row(TestRow{}))}), kError);
  EXPECT_EQ(run({"-o", out, dir.write("cols.csv", "time,client,source\r\n")}), kError);
  EXPECT_EQ(run({"-o", out, "--what-if", dir.write("bad.ini", "[source x]\n"), log}), kError);
  EXPECT_EQ(run({"-o", out, "--format", "xml", log}), kError);
  EXPECT_EQ(run({"--format", "html", log}), kError);  // html needs -o
  EXPECT_EQ(run({"-o", out}), kError);                // no file
  EXPECT_EQ(run({"-o", out, "--since", "last week", log}), kError);
}

TEST(RunReport, BadRowsDoNotChangeTheStatusAndGzipIsRead) {
  TempDir dir;
  const std::string out = dir.file("out.json");
  const std::string log = dir.write("a.csv", csv({TestRow{}}) + "garbage\r\n");
  EXPECT_EQ(run({"--format", "json", "-o", out, log}), kDone);
  EXPECT_NE(read(out).find("\"bad_rows\": 1"), std::string::npos) << read(out);

  const std::string plain = dir.write("b.csv", csv({TestRow{}, TestRow{}}));
  ASSERT_EQ(std::system(("gzip -k " + plain).c_str()), 0);
  EXPECT_EQ(run({"--format", "json", "-o", out, plain + ".gz", log}), kDone);
  EXPECT_NE(read(out).find("\"rows\": 4,"), std::string::npos) << read(out);
}

TEST(RunReport, AGzipFileCutShortIsReadUpToTheCutAndSaysSo) {
  TempDir dir;
  std::vector<TestRow> rows(200);
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i].client = "192.0.2." + std::to_string(i);
  const std::string plain = dir.write("c.csv", csv(rows));
  ASSERT_EQ(std::system(("gzip -k " + plain + " && truncate -s 600 " + plain + ".gz").c_str()), 0);
  Aggregator aggregator({});
  std::ostringstream notes;
  BadRowLog bad(notes);
  std::uint64_t counted = 0;
  const auto source = open_input(plain + ".gz");
  EXPECT_FALSE(feed_file("c.csv.gz", *source, aggregator, counted, bad, notes).has_value());
  EXPECT_GT(counted, 0u);
  EXPECT_LT(counted, rows.size());
  EXPECT_EQ(bad.count(), 1u);  // the row the cut went through
  EXPECT_NE(notes.str().find("c.csv.gz: the compressed data ends early"), std::string::npos)
      << notes.str();
}

}  // namespace
}  // namespace tlsgate::report
