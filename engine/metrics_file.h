// [milter] metrics_file: the metrics (engine/metrics.h) written out for
// node_exporter's textfile collector, which reads every *.prom file of its directory
// on each scrape. No HTTP port: the file is the interface.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace tlsgate::engine {

// Writes a text to a path atomically (a temporary file in the same directory, then
// rename(2)): a reader sees the old file or the new one, never half of one. The file
// is mode 0644 whatever the umask: node_exporter runs as another user.
// Returns the problem, or nothing once written.
std::optional<std::string> write_file_atomically(const std::string& path, const std::string& text);

// One write of the metrics after another, reporting failures once per run of them
// (as the accounting file does): a full disk costs one log line, not one a write.
class MetricsFileWriter {
 public:
  using Reporter = std::function<void(const std::string&)>;
  explicit MetricsFileWriter(Reporter report) : report_(std::move(report)) {}

  // Writes `text` to `path` (empty: metrics off, nothing written); false on failure.
  bool write(const std::string& path, const std::string& text);

 private:
  Reporter report_;
  std::string failing_path_;  // the path of the current run of failures, if any
};

// The daemon's writer thread: writes metrics().exposition() at once, then every
// interval, to the path and interval the policy in force gives (a reload may change
// them), until destroyed. Mail never waits for it.
class PeriodicMetricsFile {
 public:
  struct Settings {
    std::string path;
    std::chrono::seconds interval;
  };
  using SettingsSource = std::function<Settings()>;
  PeriodicMetricsFile(SettingsSource settings, MetricsFileWriter::Reporter report);
  ~PeriodicMetricsFile();
  PeriodicMetricsFile(const PeriodicMetricsFile&) = delete;
  PeriodicMetricsFile& operator=(const PeriodicMetricsFile&) = delete;

 private:
  void run();

  SettingsSource settings_;
  MetricsFileWriter writer_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the rest exists
};

}  // namespace tlsgate::engine
