// The accounting file: one RFC 4180 CSV row per decision, append-only.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "milter/log_format.h"

namespace tlsgate::milter {

class Accounting {
 public:
  // Opens (or, on reload, reopens: logrotate moved the old file) `path`; an
  // empty path turns accounting off. A new or empty file gets the header line.
  // Returns false and leaves accounting off if the file cannot be opened.
  bool open(const std::string& path, std::string& error);
  void write(const LogRecord& record);

 private:
  struct FileClose {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::mutex mutex_;
  std::unique_ptr<std::FILE, FileClose> file_;
};

}  // namespace tlsgate::milter
