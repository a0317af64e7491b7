// The accounting file: one RFC 4180 CSV row per decision, append-only.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "engine/log_format.h"

namespace tlsgate::engine {

class Accounting {
 public:
  // Told once when writes start failing (ENOSPC, EIO, ...) and once when they work
  // again: a full disk costs one log line per failure run, not one per row.
  using Reporter = std::function<void(const std::string&)>;
  explicit Accounting(Reporter report = {}) : report_(std::move(report)) {}

  // Opens (or, on reload, reopens: logrotate moved the old file) `path`; an
  // empty path turns accounting off. A new or empty file gets the header line.
  // Returns false and leaves accounting off if the file cannot be opened.
  bool open(const std::string& path, std::string& error);
  void write(const LogRecord& record);

  // Rows that could not be written, for the life of the process.
  std::uint64_t rows_lost() const { return rows_lost_.load(); }

 private:
  struct FileClose {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  bool write_locked(const std::string& text);  // one fwrite + fflush; false on failure
  void note_result(bool ok, int error);

  Reporter report_;
  std::mutex mutex_;
  std::unique_ptr<std::FILE, FileClose> file_;
  std::string path_;
  bool header_pending_ = false;  // the header could not be written yet
  bool failing_ = false;         // in a run of failed writes
  std::uint64_t lost_in_run_ = 0;
  std::atomic<std::uint64_t> rows_lost_{0};
};

}  // namespace tlsgate::engine
