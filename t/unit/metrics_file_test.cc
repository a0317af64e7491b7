// [milter] metrics_file (engine/metrics_file.h): the atomic write, its mode, one
// log line per run of failures, and the daemon's writer thread.
#include "engine/metrics_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace tlsgate::engine {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class MetricsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tlsgate-metrics-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string read(const std::string& p) {
    std::ifstream in(p);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  fs::path dir_;
};

TEST_F(MetricsFileTest, WritesWholeFileWithMode0644WhateverTheUmask) {
  const mode_t old = umask(077);
  const auto problem = write_file_atomically(path("tlsgate.prom"), "a 1\n");
  umask(old);
  ASSERT_FALSE(problem) << *problem;
  EXPECT_EQ(read(path("tlsgate.prom")), "a 1\n");
  struct stat st {};
  ASSERT_EQ(stat(path("tlsgate.prom").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_FALSE(fs::exists(path("tlsgate.prom.tmp")));
}

// rename(2) replaces the file: a reader holding the old one still reads it whole.
TEST_F(MetricsFileTest, ReplacesByRenameNotInPlace) {
  ASSERT_FALSE(write_file_atomically(path("m.prom"), "old 1\n"));
  std::ifstream reader(path("m.prom"));
  ASSERT_FALSE(write_file_atomically(path("m.prom"), "new 2\n"));
  std::ostringstream seen;
  seen << reader.rdbuf();
  EXPECT_EQ(seen.str(), "old 1\n");
  EXPECT_EQ(read(path("m.prom")), "new 2\n");
}

TEST_F(MetricsFileTest, SaysWhyItCannotWrite) {
  const auto problem = write_file_atomically(path("missing/dir/m.prom"), "x 1\n");
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("cannot create " + path("missing/dir/m.prom.tmp")), std::string::npos);
  EXPECT_NE(problem->find("No such file or directory"), std::string::npos);
}

TEST_F(MetricsFileTest, ReportsOncePerRunOfFailures) {
  std::vector<std::string> reports;
  MetricsFileWriter writer([&](const std::string& r) { reports.push_back(r); });
  const std::string bad = path("gone/m.prom");
  EXPECT_FALSE(writer.write(bad, "x 1\n"));
  EXPECT_FALSE(writer.write(bad, "x 1\n"));
  EXPECT_FALSE(writer.write(bad, "x 1\n"));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].starts_with("metrics_file " + bad + ": cannot create "));
  EXPECT_TRUE(reports[0].ends_with("; retrying at each interval"));
  fs::create_directories(dir_ / "gone");
  EXPECT_TRUE(writer.write(bad, "x 1\n"));
  EXPECT_TRUE(writer.write(bad, "x 2\n"));
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1], "metrics_file " + bad + ": writing again");
  fs::remove_all(dir_ / "gone");
  EXPECT_FALSE(writer.write(bad, "x 3\n"));
  EXPECT_EQ(reports.size(), 3u);  // a new run of failures
}

TEST_F(MetricsFileTest, NoPathNoFileNoReport) {
  std::vector<std::string> reports;
  MetricsFileWriter writer([&](const std::string& r) { reports.push_back(r); });
  EXPECT_TRUE(writer.write("", "x 1\n"));
  EXPECT_TRUE(reports.empty());
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(MetricsFileTest, ThreadWritesAtOnceAndStopsWithoutWaitingForTheInterval) {
  const std::string file = path("tlsgate.prom");
  const auto started = std::chrono::steady_clock::now();
  {
    PeriodicMetricsFile writer(
        [&] {
          return PeriodicMetricsFile::Settings{file, 3600s};
        },
        [](const std::string&) {});
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!fs::exists(file) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);  // polling for the file, with a deadline
    }
    ASSERT_TRUE(fs::exists(file));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 60s);
  EXPECT_NE(read(file).find("# TYPE tlsgate_decisions_total counter\n"), std::string::npos);
}

}  // namespace
}  // namespace tlsgate::engine
